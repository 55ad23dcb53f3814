package loadgen

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync"
	"sync/atomic"
)

// ServerLeaf is the server certificate full handshakes must present, which
// the caller changes while the run goes: a certificate rotation
// (Config.ServerLeaf). Before the target starts a rotation the caller calls
// Rotating with the new certificate (from then on either is accepted), and
// once the target serves the new one, Rotated: a full handshake that began
// after that and presents any other certificate is a param_mismatch — a
// server that kept serving the old one fails the case, it does not pass
// silently. A handshake reads the expectation once, as it begins: one
// atomic load, no lock.
//
// It also counts, for each rotation, over the measured window: full
// handshakes that presented the new certificate, resumptions of sessions
// issued with an earlier one (sessions that survived the rotation), and
// offers of such sessions the server refused (a full handshake instead:
// not a resume_miss in a rotated run, but what the rotation did). A
// rotation's counts start as it begins.
type ServerLeaf struct {
	cur atomic.Pointer[leafGeneration]

	mu     sync.Mutex // guards counts; never taken by a handshake
	counts []*RotationCounts
}

// RotationCounts are what the engine saw of one rotation, from the moment
// it began (Rotating) until the next one began or the window closed.
type RotationCounts struct {
	// FullNew counts full handshakes that presented the new certificate.
	FullNew atomic.Int64
	// ResumedAcross counts resumptions of sessions issued with an earlier
	// certificate; RefusedAcross the offers of such sessions the server
	// refused (it made a full handshake instead: it no longer knew the
	// session, as a server whose reload changes its ticket keys does),
	// and of any session while the target was rotating.
	ResumedAcross, RefusedAcross atomic.Int64
}

// leafGeneration is one state of the expectation.
type leafGeneration struct {
	rotation int               // rotations begun: 0 before the first
	leaf     *x509.Certificate // what a handshake must present
	old      *x509.Certificate // also accepted: the previous one, while rotating; nil once rotated
	counts   *RotationCounts   // nil before the first rotation
	// leaves are the certificates of every rotation so far, leaves[k]
	// rotation k's (leaves[0] the first): a handshake that began before
	// a rotation may be served the certificate it brought.
	leaves []*x509.Certificate
	of     *ServerLeaf
}

// NewServerLeaf expects leaf, the target's certificate as the run begins.
func NewServerLeaf(leaf *x509.Certificate) *ServerLeaf {
	s := &ServerLeaf{}
	s.cur.Store(&leafGeneration{leaf: leaf, leaves: []*x509.Certificate{leaf}, of: s})
	return s
}

// Rotating begins a rotation to leaf: handshakes beginning from now on
// may present the old certificate or leaf. It returns the rotation's
// number (1 for the first).
func (s *ServerLeaf) Rotating(leaf *x509.Certificate) int {
	prev := s.cur.Load()
	c := &RotationCounts{}
	s.mu.Lock()
	s.counts = append(s.counts, c)
	n := len(s.counts)
	s.mu.Unlock()
	leaves := append(append([]*x509.Certificate(nil), prev.leaves...), leaf)
	s.cur.Store(&leafGeneration{rotation: n, leaf: leaf, old: prev.leaf, counts: c, leaves: leaves, of: s})
	return n
}

// Rotated ends the rotation Rotating began: handshakes beginning from now
// on must present the new certificate.
func (s *ServerLeaf) Rotated() {
	prev := s.cur.Load()
	s.cur.Store(&leafGeneration{rotation: prev.rotation, leaf: prev.leaf, counts: prev.counts, leaves: prev.leaves, of: s})
}

// Counts returns the counts of rotation n (from 1), nil if it never began.
func (s *ServerLeaf) Counts(n int) *RotationCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 1 || n > len(s.counts) {
		return nil
	}
	return s.counts[n-1]
}

// load is the expectation of a handshake beginning now; nil without a
// ServerLeaf.
func (s *ServerLeaf) load() *leafGeneration {
	if s == nil {
		return nil
	}
	return s.cur.Load()
}

// check refuses a full handshake that presented a certificate other than
// the one expected as it began, or one a rotation begun since brought. A
// resumption is not checked: its session carries the certificate of the
// handshake that issued it.
func (g *leafGeneration) check(s *tls.ConnectionState) error {
	if g == nil || s.DidResume || len(s.PeerCertificates) == 0 {
		return nil
	}
	got := s.PeerCertificates[0].Raw
	if bytes.Equal(got, g.leaf.Raw) || (g.old != nil && bytes.Equal(got, g.old.Raw)) {
		return nil
	}
	// Rotations begun while the handshake ran (rare: one more load).
	if now := g.of.cur.Load(); now.rotation > g.rotation {
		for _, c := range now.leaves[g.rotation+1:] {
			if bytes.Equal(got, c.Raw) {
				return nil
			}
		}
	}
	if g.rotation == 0 {
		return fmt.Errorf("the server presented certificate serial %x, not the case's (serial %x)", s.PeerCertificates[0].SerialNumber, g.leaf.SerialNumber)
	}
	return fmt.Errorf("the server presented certificate serial %x in a handshake that began after rotation %d had completed: expected the new certificate, serial %x (it kept serving an old one)",
		s.PeerCertificates[0].SerialNumber, g.rotation, g.leaf.SerialNumber)
}

// across says whether the server's refusal of an offered session (whose
// certificate is offered) is the rotation's doing: the session was issued
// before the rotation in effect (with a certificate other than its new
// one), or the handshake began while the target was rotating, when a
// server reloading as nginx does has workers of both generations
// accepting, each knowing only its own sessions.
func (g *leafGeneration) across(offered *x509.Certificate) bool {
	return g != nil && g.counts != nil && offered != nil && (g.old != nil || !bytes.Equal(offered.Raw, g.leaf.Raw))
}

// note counts a handshake recorded in the window against its rotation;
// refusedAcross says the server refused a session from before it.
func (g *leafGeneration) note(s *tls.ConnectionState, refusedAcross bool) {
	if g == nil || g.counts == nil || len(s.PeerCertificates) == 0 {
		return
	}
	if refusedAcross {
		g.counts.RefusedAcross.Add(1)
	}
	same := bytes.Equal(s.PeerCertificates[0].Raw, g.leaf.Raw)
	switch {
	case s.DidResume && !same:
		g.counts.ResumedAcross.Add(1)
	case !s.DidResume && same:
		g.counts.FullNew.Add(1)
	}
}
