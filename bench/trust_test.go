package bench

import (
	"context"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/targets/builtin"
)

// trustKinds are the targets that take a trust store and a CRL: the
// built-in one always, the managed servers when installed.
var trustKinds = []string{"builtin", "nginx", "haproxy", "openssl"}

func needKind(t *testing.T, kind string) {
	t.Helper()
	if kind != "builtin" {
		requireServer(t, kind)
	}
}

// --trust-store 1,200 against every target: both cases succeed, every
// full handshake saw the number of CA names its case asked for (the
// client checks it: param_mismatch otherwise), and the client received
// the 199 decoys' names more per handshake in the CertificateRequest.
func TestTrustStoreCertificateRequest(t *testing.T) {
	for _, kind := range trustKinds {
		t.Run(kind, func(t *testing.T) {
			needKind(t, kind)
			cases := expand(t, "quick", 300*time.Millisecond, func(s *scenarios.Spec) {
				s.Target = scenarios.TargetSpec{Kind: kind}
				s.Matrix.TLS, s.Matrix.Resume = []string{"1.3"}, []string{"none"}
				s.Matrix.TrustStore = []int{1, 200}
			})
			if len(cases) != 2 || cases[1].TrustStore != 200 || !strings.Contains(cases[1].Key, "trust_store=200") || strings.Contains(cases[0].Key, "trust_store") {
				t.Fatalf("cases %d: %q, %q", len(cases), cases[0].Key, cases[len(cases)-1].Key)
			}
			run := runCases(t, context.Background(), cases)
			var in [2]float64
			for i, c := range run.Cases {
				if c.Status != results.StatusOK || c.Counts.OK == 0 || c.Counts.Errors != 0 {
					t.Fatalf("%s: %s: %s; counts %+v, errors %v", c.Name, c.Status, c.Failure, c.Counts, c.ErrorExamples)
				}
				if c.Params.TrustStore != []int{1, 200}[i] {
					t.Errorf("%s: params.trust_store %d", c.Name, c.Params.TrustStore)
				}
				in[i] = c.Bytes.HandshakeReceivedMean
			}
			// Each decoy's name is ~37 bytes; 199 of them at least 199 × 30.
			if grew := in[1] - in[0]; grew < 199*30 {
				t.Errorf("bytes received per handshake %.0f → %.0f: the CertificateRequest grew by %.0f, want at least %d", in[0], in[1], grew, 199*30)
			}
			t.Logf("%s: bytes received per handshake %.0f (1 CA) → %.0f (200 CAs)", kind, in[0], in[1])
		})
	}
}

// A revoked identity against every target that checks CRLs: every
// handshake presenting it is refused, and counted as certificate_revoked
// (the alert certificate_revoked from HAProxy and s_server, bad_certificate
// from the built-in target's Go verification, HTTP 400 from nginx, which
// refuses after the handshake: its case sends a request).
func TestRevokedIdentityRefused(t *testing.T) {
	for _, kind := range trustKinds {
		t.Run(kind, func(t *testing.T) {
			needKind(t, kind)
			cases := expand(t, "quick", 300*time.Millisecond, func(s *scenarios.Spec) {
				s.Target = scenarios.TargetSpec{Kind: kind, RevokedClients: 1}
				s.Matrix.TLS, s.Matrix.Resume = []string{"1.2", "1.3"}, []string{"none"}
				s.Matrix.CRLEntries = []int{100}
				s.Matrix.ClientIdentities = []int{2}
				// With an intermediate, two CRLs: the intermediate's lists
				// the clients, the root's (empty) covers the intermediate.
				s.Matrix.Chain = []string{"root", "intermediate"}
				s.Exclude = []scenarios.Rule{{"tls": "1.2", "chain": "intermediate"}}
				if kind == "nginx" {
					s.Matrix.Requests = []int{1}
				}
			})
			run := runCases(t, context.Background(), cases)
			for _, c := range run.Cases {
				revoked := c.Errors["certificate_revoked"]
				// Half the handshakes present the revoked identity: the
				// case fails its error budget, and nothing else failed.
				if c.Status != results.StatusFailed || c.Counts.OK == 0 || revoked == 0 || revoked != c.Counts.Errors {
					t.Errorf("%s: %s (%s): ok %d, errors %v; want a failed case with successes and certificate_revoked only; examples %v",
						c.Name, c.Status, c.Failure, c.Counts.OK, c.Errors, c.ErrorExamples)
					continue
				}
				if c.Params.CRLEntries != 100 || c.Params.RevokedClients != 1 {
					t.Errorf("%s: params %+v", c.Name, c.Params)
				}
				t.Logf("%s %s: ok %d, certificate_revoked %d: %s", kind, c.Name, c.Counts.OK, revoked, c.ErrorExamples["certificate_revoked"])
			}
		})
	}
}

// --crl-entries 100000 measures without error against every target.
func TestCRL100000Entries(t *testing.T) {
	for _, kind := range trustKinds {
		t.Run(kind, func(t *testing.T) {
			needKind(t, kind)
			cases := expand(t, "quick", 300*time.Millisecond, func(s *scenarios.Spec) {
				s.Target = scenarios.TargetSpec{Kind: kind}
				s.Matrix.TLS, s.Matrix.Resume = []string{"1.3"}, []string{"none"}
				s.Matrix.CRLEntries = []int{100_000}
			})
			c := runCases(t, context.Background(), cases).Cases[0]
			if c.Status != results.StatusOK || c.Counts.OK == 0 || c.Counts.Errors != 0 {
				t.Fatalf("%s: %s: %s; counts %+v, errors %v", c.Name, c.Status, c.Failure, c.Counts, c.ErrorExamples)
			}
			// The server's own record agrees (its cross-check passed).
			if tc := c.TargetCounts; tc == nil || tc.Handshakes == 0 || tc.VerifyFailures != 0 {
				t.Fatalf("%s: target counts %+v (warnings %v)", c.Name, c.TargetCounts, c.Warnings)
			}
			t.Logf("%s: %d handshakes against a CRL of 100,000 entries", kind, c.Counts.OK)
		})
	}
}

// Revoked clients against nginx in handshake mode are refused before any
// load: nginx refuses after the handshake, which a client sending nothing
// cannot see.
func TestRevokedNginxHandshakeModeRefused(t *testing.T) {
	needKind(t, "nginx")
	cases := expand(t, "quick", 300*time.Millisecond, func(s *scenarios.Spec) {
		s.Target = scenarios.TargetSpec{Kind: "nginx", RevokedClients: 1}
		s.Matrix.TLS, s.Matrix.Resume = []string{"1.3"}, []string{"none"}
		s.Matrix.CRLEntries = []int{10}
	})
	r := &runner{}
	err := r.preflight(context.Background(), &cases[0])
	if err == nil || !strings.Contains(err.Error(), "--requests 1") {
		t.Fatalf("preflight: %v; want a refusal naming --requests 1", err)
	}
}

// An external target given a pki directory whose crl.pem revokes one of
// its identities ('pki gen --revoked 1'): the server refuses it, and the
// client, reading the same crl.pem, counts those refusals as
// certificate_revoked.
func TestExternalPKIRevoked(t *testing.T) {
	b, err := pki.Generate(pki.Options{Clients: 2})
	if err != nil {
		t.Fatal(err)
	}
	if b.CRLs, err = b.IssueCRLs([]*big.Int{b.Clients[1].Leaf().SerialNumber}, 0, 1); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := b.Save(dir, pki.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	srv, err := builtin.New(targets.Config{Identity: b.Server, ClientCAs: []*x509.Certificate{b.Root.Cert}, CRLs: b.CRLs})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cases := expand(t, "quick", 300*time.Millisecond, func(s *scenarios.Spec) {
		s.Target = scenarios.TargetSpec{Kind: "external", Addr: srv.Addr(), ServerName: "localhost", PKI: dir}
		s.Matrix.TLS, s.Matrix.Resume = []string{"1.3"}, []string{"none"}
		s.Matrix.ServerKey, s.Matrix.ClientKey = nil, nil
	})
	c := runCases(t, context.Background(), cases).Cases[0]
	if c.Counts.OK == 0 || c.Errors["certificate_revoked"] == 0 || c.Errors["certificate_revoked"] != c.Counts.Errors {
		t.Fatalf("ok %d, errors %v: want successes and certificate_revoked only; examples %v", c.Counts.OK, c.Errors, c.ErrorExamples)
	}
}
