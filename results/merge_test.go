package results_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

func TestMergeIsExact(t *testing.T) {
	a := resultstest.ShardRun("gen-0", 1, 0, 300)
	b := resultstest.ShardRun("gen-1", 2, 500*time.Millisecond, 360)
	merged, err := results.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Cases) != 1 || len(merged.Shards) != 2 {
		t.Fatalf("merged has %d cases, %d shards; want 1, 2", len(merged.Cases), len(merged.Shards))
	}
	c := merged.Cases[0]

	// The merged histogram is the one recording every value would give.
	all := results.NewHistogram()
	for _, seed := range []uint64{1, 2} {
		s := resultstest.GateSpec()
		s.Seed = seed
		s.DurationS = 2
		for _, v := range s.Latencies() {
			all.RecordValue(v)
		}
	}
	got, err := c.Latency.Handshake.Histogram()
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equals(all) {
		t.Errorf("merged HDR differs from recording all values into one histogram")
	}
	if want := results.Summarize(all); *c.Latency.Handshake != want {
		t.Errorf("merged summary %+v, want %+v", *c.Latency.Handshake, want)
	}

	ac, bc := a.Cases[0], b.Cases[0]
	if c.Counts.OK != ac.Counts.OK+bc.Counts.OK || c.Counts.Attempted != ac.Counts.Attempted+bc.Counts.Attempted {
		t.Errorf("counts %+v are not the sum of %+v and %+v", c.Counts, ac.Counts, bc.Counts)
	}
	if c.Errors["io"] != 3 {
		t.Errorf("errors %v, want io=3", c.Errors)
	}
	// The common window runs from a's start to b's end: 2.5 s.
	if math.Abs(c.DurationS-2.5) > 1e-9 {
		t.Errorf("window %v s, want 2.5", c.DurationS)
	}
	if want := float64(c.Counts.OK) / 2.5; math.Abs(c.HandshakesPerS-want) > 1e-9 {
		t.Errorf("rate %v, want %v", c.HandshakesPerS, want)
	}
	// CPU per shard kept; per handshake recomputed from totals.
	if len(c.CPU.PerShard) != 2 || c.CPU.PerShard[0].ClientUsPerHandshake != 300 || c.CPU.PerShard[1].ClientUsPerHandshake != 360 {
		t.Errorf("per-shard CPU %+v", c.CPU.PerShard)
	}
	want := (300*float64(ac.Counts.OK) + 360*float64(bc.Counts.OK)) / float64(ac.Counts.OK+bc.Counts.OK)
	if math.Abs(c.CPU.ClientUsPerHandshake-want) > 1e-9 {
		t.Errorf("client CPU/hs %v, want %v", c.CPU.ClientUsPerHandshake, want)
	}
	if c.Params.Concurrency != 8 {
		t.Errorf("concurrency %d, want the shards' sum 8", c.Params.Concurrency)
	}
	var negotiated int64
	for _, n := range c.Negotiated {
		negotiated += n.Count
	}
	if negotiated != c.Counts.OK {
		t.Errorf("negotiated counts add to %d, want %d", negotiated, c.Counts.OK)
	}
	if c.TargetCounts == nil || c.TargetCounts.Handshakes != ac.TargetCounts.Handshakes+bc.TargetCounts.Handshakes {
		t.Errorf("target counts %+v", c.TargetCounts)
	}
	// Intervals (0.5 s long) line up on the common window: b's start in
	// slot 1, so there are five slots and the middle ones hold both.
	if len(c.Intervals) != 5 {
		t.Fatalf("%d merged intervals, want 5: %+v", len(c.Intervals), c.Intervals)
	}
	if got := c.Intervals[1].HandshakesPerS; math.Abs(got-(ac.Intervals[1].HandshakesPerS+bc.Intervals[0].HandshakesPerS)) > 1e-9 {
		t.Errorf("slot 1 rate %v is not the sum of its shards", got)
	}
	if !merged.Start.Equal(a.Start) || !merged.End.Equal(b.End) {
		t.Errorf("merged run %v–%v, want %v–%v", merged.Start, merged.End, a.Start, b.End)
	}
	// Merging a merge with another shard keeps every generator.
	c3 := resultstest.ShardRun("gen-2", 3, time.Second, 330)
	again, err := results.Merge(merged, c3)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Shards) != 3 || len(again.Cases[0].CPU.PerShard) != 3 {
		t.Errorf("re-merge: %d shards, %d CPU entries; want 3, 3", len(again.Shards), len(again.Cases[0].CPU.PerShard))
	}
}

func TestMergeRefuses(t *testing.T) {
	a := resultstest.ShardRun("gen-0", 1, 0, 300)
	other := resultstest.ShardRun("gen-1", 2, 0, 300)
	other.Scenario.Name = "keytypes"
	v2 := resultstest.ShardRun("gen-1", 2, 0, 300)
	v2.Schema = "mtlsbench/result/v2"
	noHDR := resultstest.ShardRun("gen-1", 2, 0, 300)
	noHDR.Cases[0].Latency.Handshake.HDR = ""
	for _, tc := range []struct {
		name string
		runs []*results.Run
		want string
	}{
		{"different scenarios", []*results.Run{a, other}, `ran scenario "keytypes" but result 1 ran "gate"`},
		{"different schema", []*results.Run{a, v2}, `schema "mtlsbench/result/v2"`},
		{"the same run twice", []*results.Run{a, a}, "same run"},
		{"a summary without its histogram", []*results.Run{a, noHDR}, "cannot be merged exactly"},
		{"nothing", nil, "no results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := results.Merge(tc.runs...)
			var me *results.MergeError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a *MergeError containing %q", err, tc.want)
			}
		})
	}
}
