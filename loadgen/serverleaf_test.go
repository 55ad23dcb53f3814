package loadgen

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// The expectation as a rotation moves it: the old certificate alone
// before, either while rotating, the new one alone once rotated; a
// resumption is never refused (its session carries the certificate of
// the handshake that issued it) and is counted as across the rotation
// when that certificate is an old one.
func TestServerLeafRotation(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	old := b.Server.Leaf()
	id, err := b.RotatedServer()
	if err != nil {
		t.Fatal(err)
	}
	next := id.Leaf()
	if next.SerialNumber.Cmp(old.SerialNumber) == 0 {
		t.Fatal("the rotated certificate has the old serial")
	}
	full := func(c *x509.Certificate) *tls.ConnectionState {
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}}
	}
	resumed := func(c *x509.Certificate) *tls.ConnectionState {
		return &tls.ConnectionState{DidResume: true, PeerCertificates: []*x509.Certificate{c}}
	}
	s := NewServerLeaf(old)
	before := s.load()
	if err := before.check(full(old)); err != nil {
		t.Errorf("before: old refused: %v", err)
	}
	if err := before.check(full(next)); err == nil {
		t.Error("before: a certificate other than the case's accepted")
	}
	if err := before.check(full(old)); err != nil {
		t.Fatal(err)
	}
	if n := s.Rotating(next); n != 1 {
		t.Fatalf("first rotation numbered %d", n)
	}
	rotating := s.load()
	for _, c := range []*x509.Certificate{old, next} {
		if err := rotating.check(full(c)); err != nil {
			t.Errorf("rotating: serial %x refused: %v", c.SerialNumber, err)
		}
	}
	// A handshake begun before the rotation may be served the new one.
	if err := before.check(full(next)); err != nil {
		t.Errorf("a handshake begun before the rotation, served the new certificate: %v", err)
	}
	s.Rotated()
	after := s.load()
	err = after.check(full(old))
	if err == nil || !strings.Contains(err.Error(), "kept serving an old one") {
		t.Errorf("rotated: old certificate: %v, want refused", err)
	}
	if err := after.check(resumed(old)); err != nil {
		t.Errorf("rotated: resumption of an old session refused: %v", err)
	}
	// A handshake that began while rotating keeps that expectation.
	if err := rotating.check(full(old)); err != nil {
		t.Errorf("a handshake begun while rotating: %v", err)
	}
	if !after.across(old) || after.across(next) || after.across(nil) || before.across(old) {
		t.Error("across: a session is from before the rotation when its certificate is not the new one")
	}
	if !rotating.across(next) {
		t.Error("across: while rotating, a refusal of a new session is the rotation's doing")
	}
	after.note(full(next), false)
	after.note(full(next), true) // offered an old session, refused
	after.note(resumed(old), false)
	after.note(resumed(next), false) // issued after the rotation: not across
	before.note(full(old), false)    // before any rotation: counted nowhere
	c := s.Counts(1)
	if c == nil || c.FullNew.Load() != 2 || c.ResumedAcross.Load() != 1 || c.RefusedAcross.Load() != 1 {
		t.Fatalf("counts %+v, want 2 full with the new certificate, 1 resumption across and 1 refused", c)
	}
	if s.Counts(2) != nil || s.Counts(0) != nil {
		t.Error("counts of a rotation that never began")
	}
}

// A server that keeps its old certificate after the rotation: every full
// handshake that began after Rotated is a param_mismatch, named so.
func TestServerLeafStaleServerFails(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	id, err := b.RotatedServer()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, b, serverOpts{})
	leaf := NewServerLeaf(b.Server.Leaf())
	leaf.Rotating(id.Leaf())
	leaf.Rotated() // the test server still serves b.Server
	res := run(t, Config{
		Addr: srv.addr(), TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 2, Count: 20, ServerLeaf: leaf,
	})
	if res.OK != 0 || res.ErrorsByClass["param_mismatch"] == 0 {
		t.Fatalf("ok=%d errors %v, want every handshake a param_mismatch", res.OK, res.ErrorsByClass)
	}
	if ex := res.Examples["param_mismatch"]; !strings.Contains(ex, "kept serving an old one") {
		t.Errorf("example %q does not say the server kept the old certificate", ex)
	}
	// The same server, expected as it is: no error, and nothing counted
	// against a rotation.
	same := NewServerLeaf(b.Server.Leaf())
	res = run(t, Config{
		Addr: srv.addr(), TLS: withResume(caseParams(tls.VersionTLS13), tlsparams.ResumeNone), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 2, Count: 20, ServerLeaf: same,
	})
	if res.Errors != 0 || res.OK != 20 {
		t.Fatalf("ok=%d errors %v %v", res.OK, res.ErrorsByClass, res.Examples)
	}
}
