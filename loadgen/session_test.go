package loadgen

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/mtlsbench/mtlsbench/pki"
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
