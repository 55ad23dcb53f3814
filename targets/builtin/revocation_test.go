package builtin

import (
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// With CRLs, the built-in target refuses a revoked client (bad_certificate:
// all VerifyPeerCertificate can send) and counts a verify failure, accepts
// the others, and refuses a chain one of whose CAs has no CRL, as OpenSSL's
// whole-chain check does. The CRLs reach a child process too.
func TestRevocation(t *testing.T) {
	b, err := pki.Generate(pki.Options{Clients: 2, Intermediate: true})
	if err != nil {
		t.Fatal(err)
	}
	crls, err := b.IssueCRLs([]*big.Int{b.Clients[1].Leaf().SerialNumber}, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := targets.Config{Identity: b.Server, ClientCAs: []*x509.Certificate{b.Root.Cert}, CRLs: crls}
	line, err := encodeChildConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeChildConfig(line)
	if err != nil || len(back.CRLs) != 2 || len(back.CRLs[0].RevokedCertificateEntries) != 1001 {
		t.Fatalf("CRLs through the child protocol: %v, %d", err, len(back.CRLs))
	}
	for _, tc := range []struct {
		name   string
		crls   []*x509.RevocationList
		client int
		want   string // "" accepted
	}{
		{"not revoked", crls, 0, ""},
		{"revoked", crls, 1, "bad certificate"},
		{"no CRL of the root, which issued the intermediate", crls[:1], 0, "bad certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.CRLs = tc.crls
			srv := startServer(t, c)
			conn, err := dial(t, srv.Addr(), clientConfig(b, tls.VersionTLS13, &b.Clients[tc.client]))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				// The server counts a handshake once it has verified the
				// client.
				if c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Handshakes+c.Failed == 1 }); c.Handshakes != 1 {
					t.Fatalf("counts %+v, want 1 handshake", c)
				}
				return
			}
			if err == nil {
				conn.SetReadDeadline(time.Now().Add(20 * time.Second))
				_, err = conn.Read(make([]byte, 1)) // the alert, after the client's Finished
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("client error %v, want %q", err, tc.want)
			}
			counts := waitCounts(t, srv, func(c targets.Counts) bool { return c.Failed == 1 })
			if counts.VerifyFailures != 1 {
				t.Errorf("counts %+v, want a verify failure", counts)
			}
		})
	}
	// An expired CRL is refused before the server starts.
	old, err := b.Issuer().IssueCRL(pki.CRLOptions{ThisUpdate: time.Now().Add(-48 * time.Hour), Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(targets.Config{Identity: b.Server, ClientCAs: []*x509.Certificate{b.Root.Cert}, CRLs: []*x509.RevocationList{old}}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired CRL: %v", err)
	}
}
