package loadgen

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"io"
	"slices"
	"sync/atomic"
	"time"
)

// sessionSlot is a worker's ClientSessionCache: one session, no lock (a
// worker runs one handshake at a time). offer decides, per handshake,
// whether the stored session is offered; offered records whether it was,
// which is how a full handshake that should have resumed is told apart
// from one that had nothing to resume.
//
// With resumption off the slot still exists but never stores: the client
// then advertises session tickets like a real client, so servers issue
// them (and the TLS 1.3 ticket confirms acceptance), but never resumes.
//
// Before offering a session it checks what crypto/tls checks before
// offering one (handshake_client.go, loadSession) — the server certificate
// still names the server, and the chain verified on the full handshake is
// within its validity and still ends at a trusted root — because the
// engine runs crypto/tls with its own verification in its place (see
// worker.verifyServer), which makes crypto/tls skip these checks. A
// resumption costs what a real client's costs.
type sessionSlot struct {
	store   bool
	offer   bool
	offered bool
	// dropped: the session was due to be offered but no longer passed the
	// checks below.
	dropped bool
	// verify is set when the server's chain is verified (not with
	// Config.InsecureSkipVerify); chains are those the last full handshake
	// verified, which the stored session's certificates are. (Beside the
	// other bools: a worker per connection must keep its size class.)
	verify  bool
	session *tls.ClientSessionState
	// offeredLeaf is the server certificate of the session offered (nil
	// when none was, or its chains are not known: no verification).
	offeredLeaf *x509.Certificate
	// puts counts the sessions crypto/tls has stored (tickets processed).
	puts int

	roots      *x509.CertPool
	serverName string
	chains     [][]*x509.Certificate

	// shared is the run's first stored session, which a worker without
	// one of its own starts from (see worker.planResume).
	shared *atomic.Pointer[sharedSession]
}

// sharedSession is a session any worker may offer, with the chains its
// full handshake verified. Sessions are shared the way a client's session
// cache shares them between its connections.
type sharedSession struct {
	cs     *tls.ClientSessionState
	chains [][]*x509.Certificate
}

func (s *sessionSlot) Get(string) (*tls.ClientSessionState, bool) {
	if !s.offer || s.session == nil {
		return nil, false
	}
	if s.verify && !s.stillValid() {
		// As crypto/tls: the session is forgotten and the handshake is a
		// full one (which check reports as a resume_miss).
		s.session, s.dropped = nil, true
		return nil, false
	}
	s.offered = true
	if len(s.chains) > 0 && len(s.chains[0]) > 0 {
		s.offeredLeaf = s.chains[0][0]
	}
	return s.session, true
}

// stillValid is crypto/tls's check of a session before offering it.
func (s *sessionSlot) stillValid() bool {
	if len(s.chains) == 0 || len(s.chains[0]) == 0 {
		return false
	}
	if err := s.chains[0][0].VerifyHostname(s.serverName); err != nil {
		return false
	}
	opts := x509.VerifyOptions{
		CurrentTime: time.Now(),
		Roots:       s.roots,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, chain := range s.chains {
		if slices.ContainsFunc(chain, func(c *x509.Certificate) bool {
			return opts.CurrentTime.Before(c.NotBefore) || opts.CurrentTime.After(c.NotAfter)
		}) {
			continue
		}
		// Already verified: what is left is that it ends at a root still
		// in the pool, which crypto/tls checks by verifying the root.
		if _, err := chain[len(chain)-1].Verify(opts); err == nil {
			return true
		}
	}
	return false
}

func (s *sessionSlot) Put(_ string, cs *tls.ClientSessionState) {
	s.puts++
	if s.store {
		// crypto/tls puts nil to forget a session the server refused.
		s.session = cs
		if cs != nil && s.shared != nil && s.shared.Load() == nil {
			s.shared.CompareAndSwap(nil, &sharedSession{cs: cs, chains: s.chains})
		}
	}
}

// adopt takes the shared session when the slot has none.
func (s *sessionSlot) adopt() {
	if s.session != nil || s.shared == nil {
		return
	}
	if p := s.shared.Load(); p != nil {
		s.session, s.chains = p.cs, p.chains
	}
}

// timedSigner wraps the current identity's key to time the client's
// CertificateVerify signature. One per worker; inner changes with the
// identity.
type timedSigner struct {
	inner crypto.Signer
	took  time.Duration
}

func (s *timedSigner) Public() crypto.PublicKey { return s.inner.Public() }

func (s *timedSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	start := time.Now()
	sig, err := s.inner.Sign(rand, digest, opts)
	s.took = time.Since(start)
	return sig, err
}
