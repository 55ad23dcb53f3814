package loadgen

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Before offering a session the slot checks what crypto/tls checks: the
// certificate still names the server and its verified chain still ends at
// a trusted root.
func TestSessionSlotChecksBeforeOffering(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	other := bundle(t, pki.Ed25519)
	chains, err := b.Server.Leaf().Verify(x509Options(b, "localhost"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		slot        sessionSlot
		wantOffered bool
	}{
		{"valid", sessionSlot{roots: b.RootPool(), serverName: "localhost"}, true},
		{"another name", sessionSlot{roots: b.RootPool(), serverName: "elsewhere.example"}, false},
		{"root no longer trusted", sessionSlot{roots: other.RootPool(), serverName: "localhost"}, false},
		{"no chains", sessionSlot{roots: b.RootPool(), serverName: "localhost"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.slot
			s.verify, s.offer, s.session = true, true, fakeSession()
			if tc.name != "no chains" {
				s.chains = chains
			}
			_, ok := s.Get("")
			if ok != tc.wantOffered || s.offered != tc.wantOffered || s.dropped == tc.wantOffered {
				t.Errorf("offered %v (slot offered %v dropped %v), want %v", ok, s.offered, s.dropped, tc.wantOffered)
			}
		})
	}
}

func x509Options(b *pki.Bundle, name string) x509.VerifyOptions {
	return x509.VerifyOptions{Roots: b.RootPool(), DNSName: name}
}

// fakeSession is a non-nil session; Get only hands it back.
func fakeSession() *tls.ClientSessionState { return &tls.ClientSessionState{} }

// Workers that start after the run has a session resume it instead of each
// making a full handshake to get one of their own (in an open loop that
// falls behind, added workers would otherwise add full handshakes).
func TestLateWorkersShareTheSession(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	// Eight workers started 60 ms apart: all but the first few start
	// after the first session exists.
	res := run(t, Config{Addr: srv.addr(), TLS: withResume(caseParams(tls.VersionTLS12), tlsparams.ResumeTickets), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 8, RampUp: 480 * time.Millisecond, Duration: time.Second})
	if res.Errors != 0 {
		t.Fatalf("errors %v", res.Examples)
	}
	if res.Primed >= 8 {
		t.Errorf("%d priming handshakes for 8 workers: the late ones should have resumed the first session", res.Primed)
	}
	if res.Resumed != res.OK || res.OK == 0 {
		t.Errorf("resumed %d of %d", res.Resumed, res.OK)
	}
}
