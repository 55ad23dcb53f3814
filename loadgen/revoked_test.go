package loadgen

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/pki"
)

// A server that refuses the client identity the case revoked: a Go server
// can only send bad_certificate from its verification callback, and the
// client counts that refusal of a revoked identity as certificate_revoked;
// the other identity's handshakes succeed.
func TestRevokedIdentityRefused(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	revoked := b.Clients[1].Leaf().Raw
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(versionName(v), func(t *testing.T) {
			srv := startServer(t, b, serverOpts{verify: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if bytes.Equal(raw[0], revoked) {
					return errors.New("revoked")
				}
				return nil
			}})
			res := run(t, Config{Addr: srv.addr(), TLS: caseParams(v), Roots: b.RootPool(), ServerName: "localhost",
				Identities: b.ClientCertificates(), Revoked: []bool{false, true}, Concurrency: 1, Count: 8})
			if res.OK == 0 || res.ErrorsByClass["certificate_revoked"] == 0 || res.ErrorsByClass["bad_certificate"] != 0 {
				t.Fatalf("ok %d, errors %v: want successes and certificate_revoked only; examples %v", res.OK, res.ErrorsByClass, res.Examples)
			}
		})
	}
}

// A server that accepts a revoked identity did not check its CRL: that is
// a param_mismatch, not a success.
func TestRevokedIdentityAccepted(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	res := run(t, Config{Addr: srv.addr(), TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost",
		Identities: b.ClientCertificates()[:1], Revoked: []bool{true}, Concurrency: 1, Count: 4})
	if res.OK != 0 || res.ErrorsByClass["param_mismatch"] != 4 {
		t.Fatalf("ok %d, errors %v: want 4 param_mismatch", res.OK, res.ErrorsByClass)
	}
	if msg := res.Examples["param_mismatch"]; !strings.Contains(msg, "did not check revocation") {
		t.Errorf("example %q does not say the server skipped the CRL", msg)
	}
}

// Every full handshake checks how many CA names the server's
// CertificateRequest carried against the case's trust store.
func TestCANamesChecked(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	decoys, err := pki.Decoys(2)
	if err != nil {
		t.Fatal(err)
	}
	pool := b.RootPool()
	for _, d := range decoys {
		pool.AddCert(d)
	}
	srv := startServer(t, b, serverOpts{clientCAs: pool})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cfg := Config{Addr: srv.addr(), TLS: caseParams(v), Roots: b.RootPool(), ServerName: "localhost",
			Identities: b.ClientCertificates(), CANames: 3, Concurrency: 1, Count: 3}
		if res := run(t, cfg); res.OK != 3 || res.Errors != 0 {
			t.Fatalf("%s, 3 names expected and sent: ok %d, errors %v %v", versionName(v), res.OK, res.ErrorsByClass, res.Examples)
		}
		cfg.CANames = 1
		res := run(t, cfg)
		if res.OK != 0 || res.ErrorsByClass["param_mismatch"] != 3 {
			t.Fatalf("%s, 1 name expected, 3 sent: ok %d, errors %v", versionName(v), res.OK, res.ErrorsByClass)
		}
		if msg := res.Examples["param_mismatch"]; !strings.Contains(msg, "named 3 CAs, expected 1") {
			t.Errorf("example %q", msg)
		}
	}
}
