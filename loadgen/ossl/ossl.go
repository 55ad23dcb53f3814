// Package ossl is the engine's second TLS client stack: the system's
// OpenSSL (libssl), driven through a small C core (core.c) with cgo.
//
// It owns the OpenSSL side of a connection and nothing else. Each SSL
// sits between two memory BIOs: the C core never touches a socket, and
// Go — the caller's non-blocking socket, waiting on the netpoller — moves
// the bytes (Conn's io.ReadWriter). So a connection costs no OS thread,
// deadlines are the socket's, and every byte on the wire passes through
// the engine's counters. One cgo call per step: bytes read are fed, the
// operation runs (SSL_do_handshake, SSL_read_ex, SSL_write_ex,
// SSL_write_early_data), and what OpenSSL wrote is drained, all in one
// call.
//
// What it reports per handshake (Info) is what the engine checks: version,
// suite, group, resumption, a HelloRetryRequest (seen in the server's
// messages), the server key, early data's fate, whether the server sent a
// key share (psk_ke); per connection the CA names of a CertificateRequest
// and the identity presented (the CertificateRequest callback), alerts
// sent and received (the message callback), and the server chain's
// verification time.
//
// Built with cgo on Linux and libssl's headers (Debian: libssl-dev). A
// build without them (CGO_ENABLED=0, or -tags noopenssl) has every
// constructor return ErrUnavailable.
package ossl

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/mtlsbench/mtlsbench/pki"
)

// ErrUnavailable is the stack missing from this binary.
var ErrUnavailable = errors.New("ossl: this mtlsbench was built without the OpenSSL client (it needs cgo and libssl's headers: on Debian/Ubuntu `apt-get install libssl-dev`, then `make build`; a CGO_ENABLED=0 or -tags noopenssl build leaves it out)")

// Config is the client side of a run, for an SSL_CTX. The zero value is a
// TLS 1.2–1.3 client that verifies nothing and has no certificate.
type Config struct {
	// Version is the one TLS version offered (tls.VersionTLS12 or 13);
	// zero: both.
	Version uint16
	// Cipher is the one TLS 1.2 suite, in OpenSSL's name
	// (ECDHE-ECDSA-AES128-GCM-SHA256); empty: OpenSSL's defaults.
	Cipher string
	// Suite13 is the one TLS 1.3 suite offered (TLS_AES_256_GCM_SHA384);
	// empty: OpenSSL's defaults.
	Suite13 string
	// Groups are the groups offered in order, in OpenSSL's names
	// (X25519, P-256, X25519MLKEM768); the first gets the key share.
	// Empty: OpenSSL's defaults.
	Groups []string
	// Verify verifies the server's chain against Roots (nil: the system's
	// default paths) and the name given to Conn.Start.
	Verify bool
	Roots  []*x509.Certificate
	// SessionIDs turns session tickets off (SSL_OP_NO_TICKET): a TLS 1.2
	// server then resumes by session ID from its cache.
	SessionIDs bool
	// PSKKE offers psk_ke besides psk_dhe_ke (SSL_OP_ALLOW_NO_DHE_KEX).
	PSKKE bool
	// Mutual presents Identities when the server asks; false sends an
	// empty Certificate (one-way TLS).
	Mutual bool
	// Identities are the client certificates (leaf first, then its
	// chain) with their private keys; Conn.Start picks one by index.
	Identities []tls.Certificate
	// ALPN are the application protocols offered ("h2"); none: no ALPN.
	ALPN []string
}

// Info is what one handshake negotiated.
type Info struct {
	Version   uint16
	Suite     uint16
	Group     tls.CurveID // zero when none (a TLS 1.2 resumption, psk_ke)
	Resumed   bool
	HRR       bool
	ServerKey pki.KeyType // "" when not known
	// Early is the fate of early data: EarlyNotSent, EarlyRejected,
	// EarlyAccepted.
	Early EarlyStatus
	// KeyShare: the server sent a key share (a fresh (EC)DHE or a KEM's
	// ciphertext); false in a psk_ke resumption and in TLS 1.2.
	KeyShare bool
	// ALPN is the application protocol the server selected; "" when none.
	ALPN string
}

// EarlyStatus is what became of early data.
type EarlyStatus int

const (
	EarlyNotSent EarlyStatus = iota
	EarlyRejected
	EarlyAccepted
)

// Error is a failed TLS operation.
type Error struct {
	// Op is the operation: "handshake", "read", "write", "early data".
	Op string
	// AlertReceived and AlertSent are the last alert codes each way, -1
	// when none.
	AlertReceived, AlertSent int
	// Verify is the server chain's verification result (X509_V_OK: 0),
	// VerifyText OpenSSL's words for it.
	Verify     int
	VerifyText string
	// Reason is OpenSSL's error queue's last entry.
	Reason string
}

func (e *Error) Error() string {
	msg := "ossl: " + e.Op
	switch {
	case e.AlertReceived >= 0:
		msg += fmt.Sprintf(": the server sent alert %d (%s)", e.AlertReceived, AlertName(e.AlertReceived))
	case e.Verify != 0:
		msg += fmt.Sprintf(": the server's certificate did not verify: %s (X509_V_ERR %d)", e.VerifyText, e.Verify)
	case e.AlertSent >= 0:
		msg += fmt.Sprintf(": sent alert %d (%s)", e.AlertSent, AlertName(e.AlertSent))
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// RemoteAlert is the alert the server sent, if it sent one.
func (e *Error) RemoteAlert() (uint8, bool) {
	if e.AlertReceived < 0 {
		return 0, false
	}
	return uint8(e.AlertReceived), true
}

// AlertName is a TLS alert's name (RFC 8446 §6).
func AlertName(code int) string {
	if n, ok := alertNames[code]; ok {
		return n
	}
	return "unknown"
}

var alertNames = map[int]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
	40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
	49: "access_denied", 50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
	71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
	109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
	113: "bad_certificate_status_response", 115: "unknown_psk_identity", 116: "certificate_required",
	120: "no_application_protocol",
}
