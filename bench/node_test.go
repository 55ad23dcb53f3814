package bench

import (
	"context"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/testenv"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// Post-quantum against a server that is not Go, end to end through Run:
// the quick scenario with X25519MLKEM768 in TLS 1.3 against the node
// target (Node 24's OpenSSL 3.5), full and resumed. Every handshake passes
// the engine's check of the group, and the script's own log agrees with
// the client's counts (the cross-check), its CPU measured.
func TestNodeMLKEMEndToEnd(t *testing.T) {
	t.Setenv(testenv.NodeEnv, testenv.NodeMLKEM(t))
	cases := expand(t, "quick", 500*time.Millisecond, func(s *scenarios.Spec) {
		s.Target = scenarios.TargetSpec{Kind: scenarios.KindNode}
		s.Matrix.TLS = []string{"1.3"}
		s.Matrix.Group = []string{"x25519mlkem768"}
	})
	run := runCases(t, context.Background(), cases)
	if len(run.Cases) != 2 || run.Interrupted {
		t.Fatalf("%d cases, interrupted=%v", len(run.Cases), run.Interrupted)
	}
	for _, c := range run.Cases {
		if c.Status != results.StatusOK {
			t.Errorf("%s: %s: %s %v", c.Name, c.Status, c.Failure, c.ErrorExamples)
			continue
		}
		if c.Params.Group != "x25519mlkem768" || c.Params.TLSVersion != "1.3" {
			t.Errorf("%s: params %+v", c.Name, c.Params)
		}
		if c.Counts.OK == 0 || c.Counts.Errors != 0 {
			t.Errorf("%s: counts %+v", c.Name, c.Counts)
		}
		tc := c.TargetCounts
		if tc == nil || tc.Handshakes == 0 || tc.Versions["1.3"] != tc.Handshakes {
			t.Errorf("%s: target counts %+v (warnings %v)", c.Name, tc, c.Warnings)
			continue
		}
		if c.Params.Resume != "none" && tc.Resumed == 0 {
			t.Errorf("%s: the node target recorded no resumption: %+v", c.Name, tc)
		}
		if !c.CPU.TargetMeasured || c.CPU.TargetUsPerHandshake <= 0 {
			t.Errorf("%s: target CPU not measured: %+v", c.Name, c.CPU)
		}
		t.Logf("%s: client %d, node %d handshakes (%d resumed); %.0f µs target CPU per handshake",
			c.Name, c.Counts.OK, tc.Handshakes, tc.Resumed, c.CPU.TargetUsPerHandshake)
	}
}
