package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/compare"
	"github.com/mtlsbench/mtlsbench/report"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// The CI gate, end to end: a head run whose target is 2 ms slower per
// handshake must fail compare with p99 flagged, and two runs of the same
// setup must pass. Base and head repeats are interleaved (A B A B ...) so
// whatever else the machine does hits both sides alike. Seven samples a
// side give the rank test room: with five, a p99 from 1,000 handshakes on
// a machine shared with other test binaries overlapped enough to be called
// noise — correctly — so make test runs this test on its own.
func TestCompareGate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 20 load windows")
	}
	const repeats = 7
	oneCase := func(delay time.Duration) []scenarios.Case {
		return expand(t, "quick", 0, func(s *scenarios.Spec) {
			s.Load.Duration = 0
			// compare judges a p99 only from >= 1000 handshakes per sample;
			// one connection at a time keeps queueing out of the p99, so a
			// 2 ms slower target stands out even on a busy machine.
			s.Load.Count = 1000
			s.Load.Concurrency = 1
			s.Load.Warmup = scenarios.Duration(100 * time.Millisecond)
			s.Matrix.TLS = []string{"1.3"}
			s.Matrix.Resume = []string{"none"}
			s.Target.HandshakeDelay = scenarios.Duration(delay)
		})
	}
	// pair runs base and head repeats alternately and returns them as two
	// results whose cases are samples of one key.
	pair := func(headDelay time.Duration) (*results.Run, *results.Run) {
		var base, head *results.Run
		for i := range repeats {
			for side, delay := range []time.Duration{0, headDelay} {
				run := runCases(t, context.Background(), oneCase(delay))
				c := run.Cases[0]
				if c.Status != results.StatusOK {
					t.Fatalf("repeat %d: %s: %s", i, c.Status, c.Failure)
				}
				c.Repeat = i
				dst := &base
				if side == 1 {
					dst = &head
				}
				if *dst == nil {
					*dst = run
					(*dst).Cases = nil
				}
				(*dst).Cases = append((*dst).Cases, c)
			}
		}
		return base, head
	}

	base, head := pair(2 * time.Millisecond)
	cmp, err := compare.Runs(base, head, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logComparison(t, cmp)
	if cmp.ExitCode() != 1 {
		t.Fatalf("a 2 ms slower target: compare exit %d, want 1 (regressions: %v)", cmp.ExitCode(), cmp.Regressions())
	}
	if !strings.Contains(strings.Join(cmp.Regressions(), " "), "p99") {
		t.Errorf("regressions %v do not flag p99", cmp.Regressions())
	}

	base, head = pair(0)
	cmp, err = compare.Runs(base, head, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logComparison(t, cmp)
	if cmp.ExitCode() != 0 {
		t.Fatalf("two runs of the same setup: compare exit %d, regressions %v", cmp.ExitCode(), cmp.Regressions())
	}
}

func logComparison(t *testing.T, cmp *compare.Comparison) {
	var b strings.Builder
	_ = compare.Render(&b, cmp, report.FormatTable)
	t.Log("\n" + b.String())
}
