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

// --mode http2 --requests 10 against each target that serves HTTP/2, end
// to end through Run: every connection negotiated h2 (any other would be a
// param_mismatch error, and there is none), every request was answered
// 200, and the server's own record agrees: as many requests, all of them
// HTTP/2 (nginx's $server_protocol, HAProxy's %HV, the built-in target's
// counters), which the cross-check also demands.
func TestHTTP2Targets(t *testing.T) {
	for _, kind := range []string{scenarios.KindBuiltin, scenarios.KindNginx, scenarios.KindHAProxy} {
		for _, streams := range []int{1, 4} {
			t.Run(kind+"/streams"+map[int]string{1: "1", 4: "4"}[streams], func(t *testing.T) {
				if kind != scenarios.KindBuiltin {
					requireServer(t, kind)
				}
				cases := expand(t, "quick", 500*time.Millisecond, func(s *scenarios.Spec) {
					s.Target = scenarios.TargetSpec{Kind: kind, Mode: scenarios.ModeHTTP2}
					s.Load.Streams = streams
					s.Matrix.TLS = []string{"1.3"}
					s.Matrix.Resume = []string{"none"}
					s.Matrix.Requests = []int{10}
				})
				if len(cases) != 1 {
					t.Fatalf("%d cases, want 1", len(cases))
				}
				c := runCases(t, context.Background(), cases).Cases[0]
				if c.Status != results.StatusOK {
					t.Fatalf("%s: %s: %s %v", c.Name, c.Status, c.Failure, c.ErrorExamples)
				}
				if c.Counts.OK == 0 || c.Counts.Errors != 0 || c.Counts.Requests != 10*c.Counts.OK {
					t.Errorf("counts %+v, errors %v: want every connection's 10 requests answered, no error", c.Counts, c.Errors)
				}
				if c.Params.TargetMode != "http2" || c.Params.Streams != streams {
					t.Errorf("params: mode %q, streams %d", c.Params.TargetMode, c.Params.Streams)
				}
				tc := c.TargetCounts
				if tc == nil || tc.Requests == 0 || tc.HTTP2Requests != tc.Requests {
					t.Fatalf("target counts %+v: want requests, all over HTTP/2", tc)
				}
				t.Logf("%s: client %d connections, %d requests; %s answered %d requests, %d over HTTP/2",
					c.Name, c.Counts.OK, c.Counts.Requests, kind, tc.Requests, tc.HTTP2Requests)
			})
		}
	}
}

// The HTTP/2 cross-check: the target's requests within the edge slack of
// the client's, and every one of them HTTP/2.
func TestHTTP2Crosscheck(t *testing.T) {
	ok := func() *results.Case {
		return &results.Case{Status: results.StatusOK, Params: results.Params{TargetMode: "http2", Requests: 10},
			Counts: results.Counts{OK: 100, Requests: 1000}}
	}
	for _, tc := range []struct {
		name   string
		target results.TargetCounts
		want   string // "" passes
	}{
		{"agrees", results.TargetCounts{Handshakes: 100, Requests: 1020, HTTP2Requests: 1020}, ""},
		{"HTTP/1.1 answered", results.TargetCounts{Handshakes: 100, Requests: 1000, HTTP2Requests: 990}, "10 of its 1000 requests over a protocol other than HTTP/2"},
		{"requests missing", results.TargetCounts{Handshakes: 100, Requests: 500, HTTP2Requests: 500}, "the target answered 500 requests, the client completed 1000"},
		// 10 connections failed after the server had answered some of
		// their requests: up to 10 × 10 more are the client's errors.
		{"failed connections' requests", results.TargetCounts{Handshakes: 110, Requests: 1090, HTTP2Requests: 1090, Failed: 0}, ""},
	} {
		out := ok()
		if strings.HasPrefix(tc.name, "failed") {
			out.Counts.Errors, out.Errors = 10, map[string]int64{"param_mismatch": 10}
		}
		crosscheck(out, &tc.target, 2)
		switch {
		case tc.want == "" && out.Status != results.StatusOK:
			t.Errorf("%s: %s %s", tc.name, out.Status, out.Failure)
		case tc.want != "" && (out.Status != results.StatusCrosscheckFailed || !strings.Contains(out.Failure, tc.want)):
			t.Errorf("%s: %s %q, want a failed cross-check naming %q", tc.name, out.Status, out.Failure, tc.want)
		}
	}
}

// The amortization scenario end to end against the built-in target: its
// four cases pass (the requests=0 one too: ALPN checked, the target's own
// counters cross-checked), CPU per connection grows with the requests, and
// the table's amortization section shows the handshake's share falling.
func TestAmortizationScenario(t *testing.T) {
	cases := expand(t, "amortization", 400*time.Millisecond, nil)
	if len(cases) != 4 {
		t.Fatalf("%d cases, want 4", len(cases))
	}
	run := runCases(t, context.Background(), cases)
	for _, c := range run.Cases {
		if c.Status != results.StatusOK || c.Params.TargetMode != "http2" {
			t.Fatalf("%s: %s (%s): %s", c.Name, c.Status, c.Params.TargetMode, c.Failure)
		}
		if c.Params.Requests == 100 && !(c.CPU.ClientUsPerHandshake > run.Cases[0].CPU.ClientUsPerHandshake) {
			t.Errorf("%s: client CPU per connection %.0f µs, not above the handshake-only case's %.0f", c.Name, c.CPU.ClientUsPerHandshake, run.Cases[0].CPU.ClientUsPerHandshake)
		}
	}
	var table strings.Builder
	if err := report.Render(&table, run, report.FormatTable, report.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "Amortization: the handshake's share as requests per connection grow (tls1.3-full-ecdsa-p256-x25519, http2 mode)") {
		t.Errorf("no amortization section:\n%s", table.String())
	}
}
