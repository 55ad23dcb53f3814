package loadgen

import (
	"crypto"
	"crypto/tls"
	"io"
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
type sessionSlot struct {
	store   bool
	offer   bool
	offered bool
	session *tls.ClientSessionState
	// seed, when set (open loop), receives every new session, so that a
	// worker added mid-run starts with one instead of priming a full
	// handshake — which, under a stall, is exactly when priming would
	// pile extra full handshakes onto a struggling target. Sessions are
	// immutable and crypto/tls shares them between connections.
	seed *atomic.Pointer[tls.ClientSessionState]
}

func (s *sessionSlot) Get(string) (*tls.ClientSessionState, bool) {
	if !s.offer || s.session == nil {
		return nil, false
	}
	s.offered = true
	return s.session, true
}

func (s *sessionSlot) Put(_ string, cs *tls.ClientSessionState) {
	if s.store {
		// crypto/tls puts nil to forget a session the server refused.
		s.session = cs
		if s.seed != nil && cs != nil {
			s.seed.Store(cs)
		}
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
