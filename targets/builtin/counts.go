package builtin

import (
	"crypto/tls"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// countedSuites is tlsparams' suite table; serverStats keeps one counter
// per entry, at the same index.
var countedSuites = tlsparams.Suites()

// countedSuiteIDs mirrors countedSuites' code points for a cache-friendly
// linear search (13 entries: faster than hashing).
var countedSuiteIDs = func() []uint16 {
	ids := make([]uint16, len(countedSuites))
	for i, s := range countedSuites {
		ids[i] = s.ID
	}
	return ids
}()

// serverStats are the built-in server's counters. Every handshake updates a
// few atomics in fixed arrays indexed by the version and suite tables: no
// mutex, no map write, no allocation. Only a suite outside tlsparams' table
// (possible only when a GODEBUG setting re-enables one) takes a lock.
type serverStats struct {
	handshakes     atomic.Int64
	resumed        atomic.Int64
	failed         atomic.Int64
	verifyFailures atomic.Int64
	requests       atomic.Int64
	http2Requests  atomic.Int64
	tls12, tls13   atomic.Int64
	// clientCertified and clientAnonymous count successful handshakes with
	// a verified client certificate and with none (one-way TLS).
	clientCertified, clientAnonymous atomic.Int64
	suites                           [64]atomic.Int64 // index: countedSuites; 64 ≥ its length, checked in init

	otherMu     sync.Mutex // guards otherSuites
	otherSuites map[string]int64
}

func init() {
	var s serverStats
	if len(countedSuites) > len(s.suites) {
		panic("builtin: serverStats.suites is smaller than tlsparams' suite table")
	}
}

// recordHandshake counts a successful handshake: its version, suite,
// resumption and whether the client presented a certificate.
//
// The handshake counter goes up last, and snapshot reads it first: a
// snapshot that sees N handshakes also sees every detail of those N. A
// reader waiting for a count (a test, or the cross-check after a run) would
// otherwise catch a handshake counted but not yet its resumption — in TLS
// 1.2 resumption the client's Handshake returns, and it may close, before
// the server has read its Finished.
func (s *serverStats) recordHandshake(version, suite uint16, resumed, certified bool) {
	if resumed {
		s.resumed.Add(1)
	}
	// A resumed session keeps its client certificate (crypto/tls puts it
	// in the ticket), so SUCCESS holds for resumptions too.
	if certified {
		s.clientCertified.Add(1)
	} else {
		s.clientAnonymous.Add(1)
	}
	switch version {
	case tls.VersionTLS12:
		s.tls12.Add(1)
	case tls.VersionTLS13:
		s.tls13.Add(1)
	}
	s.countSuite(suite)
	s.handshakes.Add(1)
}

// countSuite counts a handshake's suite: an atomic in the table, or a
// locked map entry for a suite outside it.
func (s *serverStats) countSuite(suite uint16) {
	for i, id := range countedSuiteIDs {
		if id == suite {
			s.suites[i].Add(1)
			return
		}
	}
	s.otherMu.Lock()
	if s.otherSuites == nil {
		s.otherSuites = make(map[string]int64)
	}
	s.otherSuites[tlsparams.SuiteName(suite)]++
	s.otherMu.Unlock()
}

// recordFailure counts a failed handshake and whether the client's
// certificate was the reason.
// The failure counter goes up last, as in recordHandshake.
func (s *serverStats) recordFailure(err error) {
	if isClientCertRejection(err) {
		s.verifyFailures.Add(1)
	}
	s.failed.Add(1)
}

// snapshot returns the counts so far. Maps hold only non-zero entries.
// Handshakes is read first (see recordHandshake): every other count is at
// least what those handshakes brought.
func (s *serverStats) snapshot() targets.Counts {
	handshakes := s.handshakes.Load()
	c := targets.Counts{
		Handshakes:     handshakes,
		Resumed:        s.resumed.Load(),
		Failed:         s.failed.Load(),
		VerifyFailures: s.verifyFailures.Load(),
		Requests:       s.requests.Load(),
		HTTP2Requests:  s.http2Requests.Load(),
	}
	add := func(m *map[string]int64, k string, v int64) {
		if v == 0 {
			return
		}
		if *m == nil {
			*m = make(map[string]int64)
		}
		(*m)[k] += v
	}
	add(&c.ClientVerify, targets.ClientVerifySuccess, s.clientCertified.Load())
	add(&c.ClientVerify, targets.ClientVerifyNone, s.clientAnonymous.Load())
	add(&c.Versions, tlsparams.VersionString(tls.VersionTLS12), s.tls12.Load())
	add(&c.Versions, tlsparams.VersionString(tls.VersionTLS13), s.tls13.Load())
	for i, su := range countedSuites {
		add(&c.Ciphers, su.Name, s.suites[i].Load())
	}
	s.otherMu.Lock()
	for k, v := range s.otherSuites {
		add(&c.Ciphers, k, v)
	}
	s.otherMu.Unlock()
	return c
}

// clientCertRejections are the crypto/tls server errors, other than
// *tls.CertificateVerificationError, that reject the client's certificate,
// with the alert each sends: certificate_required (TLS 1.3; handshake_failure
// in 1.2) for no certificate, bad_certificate for an oversized RSA key,
// decode_error for an unparseable one, unsupported_certificate for an
// unknown key type, decrypt_error for a CertificateVerify signature that
// does not match the certificate. crypto/tls returns plain errors for
// these, so they are matched by message.
var clientCertRejections = []string{
	"tls: client didn't provide a certificate",
	"tls: client sent certificate containing RSA key larger than",
	"tls: failed to parse client certificate",
	"tls: client certificate contains an unsupported public key",
	"tls: invalid signature by the client certificate",
}

// isClientCertRejection reports whether a server handshake error is the
// server refusing the client's certificate. A *tls.CertificateVerificationError
// covers the verification failures; crypto/tls sends unknown_ca,
// certificate_expired or bad_certificate for those. Alerts the server
// receives are not counted: they are the client refusing the server.
func isClientCertRejection(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	msg := err.Error()
	for _, m := range clientCertRejections {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
