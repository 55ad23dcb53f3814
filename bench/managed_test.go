package bench

import (
	"context"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/targets/managed"
)

// The default matrix against each managed server, end to end through Run:
// every case passes its checks with zero errors, the server's own record
// (nginx's and HAProxy's logs, read for the window's accept times;
// s_server's statistics) agrees with the client's counts within the
// cross-check's tolerance, and the server's CPU per handshake is measured.
func TestManagedTargetsDefaultMatrix(t *testing.T) {
	for _, kind := range []string{"nginx", "haproxy", "openssl"} {
		t.Run(kind, func(t *testing.T) {
			requireServer(t, kind)
			cases := expand(t, "quick", 500*time.Millisecond, func(s *scenarios.Spec) {
				s.Target = scenarios.TargetSpec{Kind: kind}
			})
			run := runCases(t, context.Background(), cases)
			if len(run.Cases) != 4 || run.Interrupted {
				t.Fatalf("%d cases, interrupted=%v", len(run.Cases), run.Interrupted)
			}
			for _, c := range run.Cases {
				if c.Status != results.StatusOK {
					t.Errorf("%s: %s: %s %v", c.Name, c.Status, c.Failure, c.ErrorExamples)
					continue
				}
				if c.Counts.OK == 0 || c.Counts.Errors != 0 {
					t.Errorf("%s: counts %+v", c.Name, c.Counts)
				}
				tc := c.TargetCounts
				if tc == nil || tc.Handshakes == 0 {
					t.Errorf("%s: no target counts: %+v (warnings %v)", c.Name, tc, c.Warnings)
					continue
				}
				// s_server's statistics page counts handshakes, not versions.
				if want := c.Params.TLSVersion; kind != "openssl" && tc.Versions[want] == 0 {
					t.Errorf("%s: the server recorded versions %v, not %s", c.Name, tc.Versions, want)
				}
				if tc.VerifyFailures != 0 {
					t.Errorf("%s: the server recorded %d verify failures", c.Name, tc.VerifyFailures)
				}
				if !c.CPU.TargetMeasured || c.CPU.TargetUsPerHandshake <= 0 {
					t.Errorf("%s: target CPU not measured: %+v", c.Name, c.CPU)
				}
				t.Logf("%s: client %d, %s %d handshakes (%d resumed); %.0f µs target CPU per handshake",
					c.Name, c.Counts.OK, kind, tc.Handshakes, tc.Resumed, c.CPU.TargetUsPerHandshake)
			}
		})
	}
}

// A TLS 1.3 suite is enforced by an OpenSSL-based server: the ChaCha20 case
// negotiates TLS_CHACHA20_POLY1305_SHA256 and the server's log agrees.
func TestNginxTLS13ChaCha20(t *testing.T) {
	requireServer(t, "nginx")
	cases := expand(t, "quick", 400*time.Millisecond, func(s *scenarios.Spec) {
		s.Target = scenarios.TargetSpec{Kind: "nginx"}
		s.Matrix.TLS = []string{"1.3"}
		s.Matrix.Resume = []string{"none"}
		s.Matrix.Cipher = []string{"TLS_CHACHA20_POLY1305_SHA256"}
	})
	if len(cases) != 1 {
		t.Fatalf("%d cases, want 1", len(cases))
	}
	c := runCases(t, context.Background(), cases).Cases[0]
	if c.Status != results.StatusOK {
		t.Fatalf("%s: %s: %s %v", c.Name, c.Status, c.Failure, c.ErrorExamples)
	}
	if len(c.Negotiated) != 1 || c.Negotiated[0].CipherSuite != "TLS_CHACHA20_POLY1305_SHA256" {
		t.Errorf("negotiated %+v, want TLS_CHACHA20_POLY1305_SHA256 only", c.Negotiated)
	}
	if tc := c.TargetCounts; tc == nil || tc.Ciphers["TLS_CHACHA20_POLY1305_SHA256"] != tc.Handshakes || tc.Handshakes == 0 {
		t.Errorf("nginx recorded %+v", c.TargetCounts)
	}
}

// A client certificate from another CA: HAProxy and s_server verify it in
// the handshake and answer the client's Finished with an unknown_ca alert,
// which the confirmation read turns into a failed case. nginx verifies it
// after the handshake, having already sent its ticket, and closes: there
// its own log must record every rejection.
func TestManagedTargetsRejectAStranger(t *testing.T) {
	for _, kind := range []targets.Kind{targets.KindNginx, targets.KindHAProxy, targets.KindOpenSSL} {
		t.Run(string(kind), func(t *testing.T) {
			requireServer(t, string(kind))
			server, dir := strangerPKI(t)
			m, err := managed.Start(context.Background(), kind, targets.Config{
				Identity: server.Server, ClientCAs: []*x509.Certificate{server.Root.Cert}})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			c := runStranger(t, m.Addr(), dir)
			if kind == targets.KindNginx {
				// nginx sends its session ticket before it checks the
				// certificate, then closes: a client alone cannot tell
				// (the case runs as an external target here). Its log
				// records the rejections, which is what the cross-check
				// of a managed nginx case fails on.
				counts, err := m.Counts(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if counts.VerifyFailures == 0 || counts.VerifyFailures < c.Counts.OK {
					t.Fatalf("nginx logged %d verify failures for %d handshakes the client saw accepted", counts.VerifyFailures, c.Counts.OK)
				}
				// The case says the client cannot see such a rejection.
				if !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, "--requests 1") }) {
					t.Errorf("no warning that an external server may reject after its ticket: %q", c.Warnings)
				}
				t.Logf("nginx: client saw %d accepted (acceptance: %s); nginx logged %d verify failures", c.Counts.OK, c.Acceptance, counts.VerifyFailures)
				return
			}
			if c.Status != results.StatusFailed || c.Counts.OK != 0 || c.Counts.Errors == 0 {
				t.Fatalf("status %s, ok %d, errors %v: want a failed case with no success", c.Status, c.Counts.OK, c.Errors)
			}
			t.Logf("%s: %v; failure: %s", kind, c.Errors, c.Failure)
		})
	}
}
