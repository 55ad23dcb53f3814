package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/report"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// The target's verdict on the client certificate is cross-checked against
// the case's auth: SUCCESS only in mutual TLS, NONE only in one-way TLS.
func TestCrosscheckClientVerify(t *testing.T) {
	for _, tt := range []struct {
		auth    string
		verify  map[string]int64
		problem string
	}{
		{"mutual", map[string]int64{"SUCCESS": 100}, ""},
		{"", map[string]int64{"SUCCESS": 100}, ""},
		{"mutual", map[string]int64{"SUCCESS": 99, "NONE": 1}, "not SUCCESS for 1 handshakes (NONE 1)"},
		{"server", map[string]int64{"NONE": 100}, ""},
		{"server", map[string]int64{"NONE": 98, "SUCCESS": 2}, "not NONE for 2 handshakes (SUCCESS 2), in a case with auth server"},
		{"server", nil, ""}, // a target that does not record it
		{"none", nil, ""},
	} {
		c := &results.Case{Status: results.StatusOK, Counts: results.Counts{OK: 100}, Errors: map[string]int64{}, Params: results.Params{Auth: tt.auth}}
		crosscheck(c, &results.TargetCounts{Source: "test", Handshakes: 100, ClientVerify: tt.verify}, 0)
		failed := c.Status == results.StatusCrosscheckFailed
		if failed != (tt.problem != "") || !strings.Contains(c.Failure, tt.problem) {
			t.Errorf("auth %q, verify %v: status %s, failure %q; want %q", tt.auth, tt.verify, c.Status, c.Failure, tt.problem)
		}
	}
}

// A plain TCP case writes no TLS parameter into its result.
func TestCaseParamsPlainTCP(t *testing.T) {
	cases := expand(t, "mutual-cost", 100*time.Millisecond, nil)
	for _, c := range cases {
		p := caseParams(&c)
		if p.Auth != c.Auth.String() {
			t.Errorf("%s: auth %q", c.Name, p.Auth)
		}
		tlsSet := p.TLSVersion != "" || p.Group != "" || p.KeyType != "" || p.ClientKeyType != "" || p.Resume != "" || p.Chain != ""
		if tlsSet != (p.Auth != "none") {
			t.Errorf("%s: params %+v", c.Name, p)
		}
	}
}

// The mutual-cost scenario against the built-in target, end to end: every
// case passes its checks and cross-check, the target counts SUCCESS for
// mutual and NONE for one-way TLS, plain TCP has no TLS figure, and the
// report's cost-of-mutual section shows mutual sending more bytes than
// one-way TLS by at least the client certificate.
func TestMutualCostBuiltin(t *testing.T) {
	cases := expand(t, "mutual-cost", 400*time.Millisecond, nil)
	run := runCases(t, context.Background(), cases)
	checkMutualCost(t, run, true, true)
}

// checkMutualCost checks a run of mutual-cost (with none unless withNone
// is false) as TestMutualCostBuiltin and the managed test describe;
// verdicts says the target records its verdict on client certificates.
func checkMutualCost(t *testing.T, run *results.Run, withNone, verdicts bool) {
	t.Helper()
	byAuth := map[string]*results.Case{}
	for i := range run.Cases {
		c := &run.Cases[i]
		byAuth[c.Params.Auth] = c
		if c.Status != results.StatusOK || c.Counts.OK == 0 || c.Counts.Errors != 0 {
			t.Errorf("%s: %s %s %+v %v", c.Name, c.Status, c.Failure, c.Counts, c.ErrorExamples)
		}
	}
	mutual, server := byAuth["mutual"], byAuth["server"]
	if mutual == nil || server == nil || (withNone && byAuth["none"] == nil) {
		t.Fatalf("cases by auth: %v", byAuth)
	}
	for auth, verdict := range map[string]string{"mutual": "SUCCESS", "server": "NONE"} {
		c := byAuth[auth]
		if tc := c.TargetCounts; verdicts && (tc == nil || tc.ClientVerify[verdict] == 0 || len(tc.ClientVerify) != 1) {
			t.Errorf("%s: the target's verdicts %+v, want only %s", c.Name, tc, verdict)
		}
		if len(c.Negotiated) != 1 || c.Negotiated[0].TLSVersion != "1.3" {
			t.Fatalf("%s: negotiated %+v", c.Name, c.Negotiated)
		}
	}
	// Equal negotiated parameters: only auth differs.
	m, s := mutual.Negotiated[0], server.Negotiated[0]
	m.Count, s.Count = 0, 0
	if m != s {
		t.Errorf("negotiated %+v (mutual) and %+v (server) differ", m, s)
	}
	// The client certificate (ECDSA P-256, a few hundred bytes) and its
	// CertificateVerify are what the server receives in addition.
	if d := mutual.Bytes.HandshakeSentMean - server.Bytes.HandshakeSentMean; d < 300 {
		t.Errorf("mutual sends %.0f bytes per handshake more than one-way TLS; want at least the client certificate's", d)
	}
	if withNone {
		none := byAuth["none"]
		if none.Params.TLSVersion != "" || len(none.Negotiated) != 0 || none.Bytes.HandshakeSentMean != 0 || none.Acceptance != results.AcceptanceNone || none.Latency.Handshake != nil {
			t.Errorf("%s pretends a TLS handshake: params %+v negotiated %v bytes %+v acceptance %q", none.Name, none.Params, none.Negotiated, none.Bytes, none.Acceptance)
		}
		if tc := none.TargetCounts; tc == nil || tc.Handshakes == 0 || tc.ClientVerify != nil {
			t.Errorf("%s: target counts %+v", none.Name, tc)
		}
	}
	var out strings.Builder
	if err := report.Render(&out, run, report.FormatTable, report.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Cost of mutual TLS") || !strings.Contains(out.String(), "server-only") {
		t.Errorf("the table has no cost-of-mutual section:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}

// Done means of issue 15, against nginx: --auth mutual,server gives two
// cases whose negotiated parameters are equal, nginx logs SUCCESS for the
// first and NONE for the second (cross-checked), and the cost-of-mutual
// section shows the bytes the server receives grow by at least the client
// certificate. The plain TCP case runs on nginx's plaintext listener. The
// same for HAProxy (ssl_c_used), and for s_server without plain TCP.
func TestMutualCostManaged(t *testing.T) {
	for _, kind := range []string{scenarios.KindNginx, scenarios.KindHAProxy, scenarios.KindOpenSSL} {
		t.Run(kind, func(t *testing.T) {
			requireServer(t, kind)
			withNone := kind != scenarios.KindOpenSSL
			cases := expand(t, "mutual-cost", 400*time.Millisecond, func(s *scenarios.Spec) {
				s.Target = scenarios.TargetSpec{Kind: kind}
				if !withNone {
					// s_server's -www page has no Content-Length for an
					// HTTP/1.1 client: handshakes only there.
					s.Matrix.Auth, s.Matrix.Requests = []string{"mutual", "server"}, []int{0}
				}
			})
			run := runCases(t, context.Background(), cases)
			checkMutualCost(t, run, withNone, kind != scenarios.KindOpenSSL)
			for _, c := range run.Cases {
				if !c.CPU.TargetMeasured || c.CPU.TargetUsPerHandshake <= 0 {
					t.Errorf("%s: target CPU not measured: %+v", c.Name, c.CPU)
				}
			}
		})
	}
}

// In handshake mode (nginx's stream{} server, HAProxy's tcp frontend) the
// verdicts come from the per-connection log lines: SUCCESS and NONE as in
// http mode.
func TestMutualCostManagedHandshakeMode(t *testing.T) {
	for _, kind := range []string{scenarios.KindNginx, scenarios.KindHAProxy} {
		t.Run(kind, func(t *testing.T) {
			requireServer(t, kind)
			cases := expand(t, "mutual-cost", 400*time.Millisecond, func(s *scenarios.Spec) {
				s.Target = scenarios.TargetSpec{Kind: kind}
				s.Matrix.Auth, s.Matrix.Requests = []string{"mutual", "server"}, []int{0}
			})
			checkMutualCost(t, runCases(t, context.Background(), cases), false, true)
		})
	}
}

// s_server has no plaintext listener: auth none is refused before any
// load, saying why.
func TestPlainTCPRefusedByOpenSSL(t *testing.T) {
	requireServer(t, scenarios.KindOpenSSL)
	cases := expand(t, "mutual-cost", 100*time.Millisecond, func(s *scenarios.Spec) {
		s.Target = scenarios.TargetSpec{Kind: scenarios.KindOpenSSL}
	})
	_, err := Run(context.Background(), Options{Cases: cases, ChildCommand: childCommand()})
	if err == nil || !strings.Contains(err.Error(), "speaks only TLS") {
		t.Fatalf("Run = %v, want a refusal naming why", err)
	}
}
