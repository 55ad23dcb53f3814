package results_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

func TestMergeIsExact(t *testing.T) {
	a := resultstest.ShardRun("gen-0", 0, 2, 1, 0, 300)
	b := resultstest.ShardRun("gen-1", 1, 2, 2, 500*time.Millisecond, 360)
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

	// The run: its ID, every shard by index and where it came from, and
	// no Shard of its own.
	if merged.RunID != resultstest.ShardRunID || merged.Shard != nil {
		t.Errorf("merged run ID %q, shard %+v; want %q and none", merged.RunID, merged.Shard, resultstest.ShardRunID)
	}
	for i, sh := range merged.Shards {
		if sh.Index != i || sh.Count != 2 || sh.Source != []string{"result 1", "result 2"}[i] || sh.Hostname != []string{"gen-0", "gen-1"}[i] {
			t.Errorf("shards[%d] = %+v", i, sh)
		}
	}
	if !merged.Shards[1].Start.Equal(b.Start) || !merged.Shards[1].End.Equal(b.End) || merged.Shards[1].Environment != b.Environment {
		t.Errorf("shards[1] %+v does not keep b's times and environment", merged.Shards[1])
	}
	// How the shards lined up: b began 500 ms late (a warning), and their
	// starts interleave at the run's 3000/s.
	if c.Merged == nil || c.Merged.Shards != 2 || c.Merged.StartSkewUs != 500_000 {
		t.Fatalf("merged %+v, want 2 shards, skew 500000µs", c.Merged)
	}
	if math.Abs(c.Merged.IntendedInterArrivalUs-1e6/3000) > 1e-9 || math.Abs(c.Merged.InterArrivalP50Us-1e6/3000) > 1 {
		t.Errorf("inter-arrival %v µs, intended %v µs; want both ≈ 333", c.Merged.InterArrivalP50Us, c.Merged.IntendedInterArrivalUs)
	}
	if !hasWarning(&c, "shards started 500.0ms apart") || hasWarning(&c, "bunch") {
		t.Errorf("warnings %q: want the start skew's, not a bunching one", c.Warnings)
	}
}

// TestMergeParamsAndLoad: every shard records the whole run's parameters,
// so they are kept as they are; each records its share of the load, so
// the shares add up.
func TestMergeParamsAndLoad(t *testing.T) {
	var runs []*results.Run
	for i := range 3 {
		r := resultstest.ShardRun("gen", i, 3, uint64(i+1), 0, 300)
		// A stepped schedule records the run's rate per step too.
		c := &r.Cases[0]
		c.Segments = []results.Segment{{Rate: 1000, DurationS: 2, HandshakesPerS: 500, Latency: *c.Latency.Handshake}}
		runs = append(runs, r)
	}
	merged, err := results.Merge(runs...)
	if err != nil {
		t.Fatal(err)
	}
	c := merged.Cases[0]
	if c.Params != runs[0].Cases[0].Params || c.Params.Rate != 4500 {
		t.Errorf("params %+v, want shard 0's (rate 4500), not a sum", c.Params)
	}
	if c.Load == nil || c.Load.Model != "open" || c.Load.TargetRate != 4500 || c.Load.AchievedRate != 4500 || c.Load.MaxInFlight != 64 || c.Load.PeakInFlight != 27 {
		t.Errorf("load %+v, want the shards' shares summed: target 4500/s, max in flight 64", c.Load)
	}
	if len(c.Segments) != 1 || c.Segments[0].Rate != 1000 || c.Segments[0].HandshakesPerS != 1500 {
		t.Errorf("segments %+v, want the run's rate 1000 kept and 1500 hs/s", c.Segments)
	}
}

// TestMergeClockOffsets puts each shard's times on shard 0's clock.
func TestMergeClockOffsets(t *testing.T) {
	a := resultstest.ShardRun("gen-0", 0, 3, 1, 0, 300)
	b := resultstest.ShardRun("gen-1", 1, 3, 2, 3*time.Millisecond, 300)
	c := resultstest.ShardRun("gen-2", 2, 3, 3, -time.Millisecond, 300)
	merged, err := results.Merge(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	if got := merged.Cases[0].Merged.StartSkewUs; got != 4000 {
		t.Errorf("skew without clocks %dµs, want 4000", got)
	}
	// gen-1's clock runs 2 ms ahead of shard 0's, gen-2's 4 ms behind: on
	// shard 0's clock they started at +1 ms and +3 ms.
	b.Shard.Clock = &results.ClockSync{OffsetUs: -2000, ErrorUs: 50, Samples: 8}
	c.Shard.Clock = &results.ClockSync{OffsetUs: 4000, ErrorUs: 70, Samples: 8}
	merged, err = results.Merge(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	mc := merged.Cases[0]
	if mc.Merged.StartSkewUs != 3000 {
		t.Errorf("skew %dµs, want 3000", mc.Merged.StartSkewUs)
	}
	if !mc.Start.Equal(resultstest.Start) {
		t.Errorf("merged window starts %v, want %v (shard 0's)", mc.Start, resultstest.Start)
	}
	if want := 2.003; math.Abs(mc.DurationS-want) > 1e-9 {
		t.Errorf("window %v s, want %v (to gen-2's end at +3 ms)", mc.DurationS, want)
	}
	if hasWarning(&mc, "started") {
		t.Errorf("warnings %q: a 3 ms skew is within bounds", mc.Warnings)
	}
	if got := merged.Shards[2].Clock; got == nil || *got != *c.Shard.Clock {
		t.Errorf("shards[2].clock %+v, want it as recorded", got)
	}
	if !merged.Shards[1].Start.Equal(b.Start) {
		t.Errorf("shards[1].start %v, want as recorded %v", merged.Shards[1].Start, b.Start)
	}

	// Windows that only overlap once the clocks are corrected: gen-1's
	// says it began 3 s in, after shard 0's 2 s window, but its clock is
	// 2.5 s ahead.
	late := resultstest.ShardRun("gen-1", 1, 2, 2, 3*time.Second, 300)
	late.Shard.Clock = &results.ClockSync{OffsetUs: -2.5e6}
	first := resultstest.ShardRun("gen-0", 0, 2, 1, 0, 300)
	merged, err = results.Merge(first, late)
	if err != nil {
		t.Fatalf("windows that overlap on shard 0's clock: %v", err)
	}
	if got := merged.Cases[0].Merged.StartSkewUs; got != 500_000 {
		t.Errorf("skew %dµs, want 500000", got)
	}
}

// TestMergeInterleave checks the starts of the shards together: striped
// shards interleave at the run's rate; shards that each ran the whole
// schedule bunch, which the merged figures alone would not show.
func TestMergeInterleave(t *testing.T) {
	shards := func(starts func(i int) []int64) []*results.Run {
		var runs []*results.Run
		for i := range 3 {
			r := resultstest.ShardRun("gen", i, 3, uint64(i+1), 0, 300)
			r.Cases[0].Params.Rate = 600
			r.Cases[0].Shard.StartsUs = starts(i)
			runs = append(runs, r)
		}
		return runs
	}
	const intended = 1e6 / 600.0

	merged, err := results.Merge(shards(func(i int) []int64 { return resultstest.StripedStarts(i, 3, 600) })...)
	if err != nil {
		t.Fatal(err)
	}
	c := merged.Cases[0]
	if m := c.Merged; math.Abs(m.InterArrivalP50Us-intended) > 1 || m.IntendedInterArrivalUs != intended {
		t.Errorf("interleaved: median gap %vµs, intended %vµs; want ≈ %v both", m.InterArrivalP50Us, m.IntendedInterArrivalUs, intended)
	}
	if hasWarning(&c, "bunch") {
		t.Errorf("interleaved shards warned: %q", c.Warnings)
	}

	// Every shard started every start of the schedule.
	merged, err = results.Merge(shards(func(int) []int64 { return resultstest.StripedStarts(0, 1, 600) })...)
	if err != nil {
		t.Fatal(err)
	}
	c = merged.Cases[0]
	if c.Merged.InterArrivalP50Us > 1 {
		t.Errorf("bunched: median gap %vµs, want ≈ 0", c.Merged.InterArrivalP50Us)
	}
	if !hasWarning(&c, "the shards' starts bunch: median gap 0µs, intended 1667µs — check their clocks (--rendezvous)") {
		t.Errorf("bunched shards: warnings %q, want the bunching one", c.Warnings)
	}

	// Each shard's starts count from its own planned instant: shards that
	// each began when ready, one gap apart, put their striped starts on
	// top of each other.
	early := shards(func(i int) []int64 { return resultstest.StripedStarts(i, 3, 600) })
	for i, r := range early {
		r.Cases[0].Shard.Planned = resultstest.Start.Add(-time.Duration(float64(i) * intended * float64(time.Microsecond)))
	}
	if merged, err = results.Merge(early...); err != nil {
		t.Fatal(err)
	}
	if c = merged.Cases[0]; c.Merged.InterArrivalP50Us > 1 || !hasWarning(&c, "bunch") {
		t.Errorf("shards planned a gap apart each: median gap %vµs, warnings %q; want ≈ 0 and the bunching warning", c.Merged.InterArrivalP50Us, c.Warnings)
	}

	// A closed loop (no rate) or a shard without its sample: no figures.
	closed := shards(func(i int) []int64 { return resultstest.StripedStarts(i, 3, 600) })
	for _, r := range closed {
		r.Cases[0].Params.Rate = 0
	}
	noSample := shards(func(i int) []int64 { return resultstest.StripedStarts(i, 3, 600) })
	noSample[1].Cases[0].Shard = nil
	for name, runs := range map[string][]*results.Run{"closed loop": closed, "a shard without starts": noSample} {
		merged, err := results.Merge(runs...)
		if err != nil {
			t.Fatal(err)
		}
		if m := merged.Cases[0].Merged; m.InterArrivalP50Us != 0 || m.IntendedInterArrivalUs != 0 {
			t.Errorf("%s: inter-arrival %+v, want none", name, m)
		}
	}

	// Poisson arrivals: independent shards, each at a third of the rate,
	// superpose into Poisson arrivals at the whole rate, whose median gap
	// is ln 2 of the mean. That is no bunching.
	rng := rand.New(rand.NewPCG(7, 7))
	poisson := shards(func(int) []int64 {
		starts := make([]int64, 1000)
		t := 0.0
		for k := range starts {
			t += rng.ExpFloat64() * 3 * intended
			starts[k] = int64(t)
		}
		return starts
	})
	for _, r := range poisson {
		r.Scenario.Spec = json.RawMessage(`{"name":"gate","load":{"rate":600,"arrivals":"poisson"}}`)
	}
	merged, err = results.Merge(poisson...)
	if err != nil {
		t.Fatal(err)
	}
	c = merged.Cases[0]
	if got := c.Merged.InterArrivalP50Us; math.Abs(got-math.Ln2*intended) > 0.1*intended {
		t.Errorf("poisson: median gap %vµs, want ≈ %v", got, math.Ln2*intended)
	}
	if hasWarning(&c, "starts") {
		t.Errorf("poisson shards warned: %q", c.Warnings)
	}
	// The same starts read as uniform arrivals are 30% closer than 1/rate.
	for _, r := range poisson {
		r.Scenario.Spec = nil
	}
	if merged, err = results.Merge(poisson...); err != nil {
		t.Fatal(err)
	}
	if c = merged.Cases[0]; !hasWarning(&c, "the shards' starts bunch") {
		t.Errorf("poisson starts read as uniform: warnings %q, want the bunching one", c.Warnings)
	}
	// In a ramp the first starts come slower than the rate: the figures
	// are kept, but not judged against 1/rate.
	for _, r := range poisson {
		r.Scenario.Spec = json.RawMessage(`{"name":"gate","load":{"rate":600,"ramp_up":"10s"}}`)
	}
	if merged, err = results.Merge(poisson...); err != nil {
		t.Fatal(err)
	}
	if c = merged.Cases[0]; c.Merged.InterArrivalP50Us == 0 || hasWarning(&c, "starts") {
		t.Errorf("ramp: merged %+v, warnings %q; want figures and no warning", c.Merged, c.Warnings)
	}
}

func TestMergeRefuses(t *testing.T) {
	shard := func(index, count int, seed uint64) *results.Run {
		return resultstest.ShardRun("gen-"+string(rune('a'+seed)), index, count, seed, 0, 300)
	}
	a, b := shard(0, 2, 1), shard(1, 2, 2)

	other := shard(1, 2, 2)
	other.Scenario.Name = "keytypes"
	v2 := shard(1, 2, 2)
	v2.Schema = "mtlsbench/result/v2"
	noHDR := shard(1, 2, 2)
	noHDR.Cases[0].Latency.Handshake.HDR = ""
	unsharded := shard(1, 2, 2)
	unsharded.Shard, unsharded.RunID = nil, ""
	merge, err := results.Merge(shard(0, 2, 1), shard(1, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	otherRun := shard(1, 2, 2)
	otherRun.RunID = "gate-20250315"
	ofThree := shard(1, 3, 2)
	zeroAgain := shard(0, 2, 2)
	group := shard(1, 2, 2)
	group.Cases[0].Params.Group = "x25519mlkem768"
	rate := shard(1, 2, 2)
	rate.Cases[0].Params.Rate = 1500
	extra := shard(1, 2, 2)
	repeat := extra.Cases[0]
	repeat.Repeat = 1
	extra.Cases = append(extra.Cases, repeat)
	extra.Interrupted = true
	late := resultstest.ShardRun("gen-c", 1, 2, 2, 3*time.Second, 300)
	outOfRange := shard(2, 2, 2)

	for _, tc := range []struct {
		name  string
		in    []results.MergeInput
		want  string
		names []string
	}{
		{"different scenarios", in(a, other), `b.json ran scenario "keytypes" but a.json ran "gate"`, []string{"a.json", "b.json"}},
		{"different schema", in(a, v2), `b.json has schema "mtlsbench/result/v2"`, []string{"b.json"}},
		{"the same run twice", in(a, a), "a.json and b.json are the same run", []string{"a.json", "b.json"}},
		{"a summary without its histogram", in(a, noHDR), "case tls1.3-full-ecdsa-p256-x25519 in b.json (shard 1) has 3000 latency values but no HDR histogram", nil},
		{"nothing", nil, "no results", nil},
		{"not a shard", in(a, unsharded), "b.json ran without --shard/--shards: merge combines the shards of one sharded run", []string{"b.json"}},
		{"a merge", in(merge, b), "a.json is already a merge of 2 shards", []string{"a.json"}},
		{"different run ids", in(a, otherRun), `a.json is a shard of run "gate-20250314" but b.json of run "gate-20250315"`, []string{"a.json", "b.json"}},
		{"different shard counts", in(a, ofThree), "a.json is shard 0 of 2 but b.json is shard 1 of 3", []string{"a.json", "b.json"}},
		{"a shard twice", in(a, zeroAgain), `a.json and b.json are both shard 0 of run "gate-20250314"`, []string{"a.json", "b.json"}},
		{"a shard missing", in(shard(0, 3, 1), shard(2, 3, 3)), `run "gate-20250314" has 3 shards and shard 1 is missing (a.json is shard 0, b.json is shard 2)`, []string{"a.json", "b.json"}},
		{"shards missing", in(shard(0, 4, 1)), "has 4 shards and shards 1, 2, 3 are missing", []string{"a.json"}},
		{"an index out of range", in(a, outOfRange), "b.json says it is shard 2 of 2", []string{"b.json"}},
		{"different params", in(a, group), `case tls1.3-full-ecdsa-p256-x25519 repeat 0: params.group is "x25519" in a.json but "x25519mlkem768" in b.json`, []string{"a.json", "b.json"}},
		{"different rates", in(a, rate), "params.rate is 3000 in a.json but 1500 in b.json", []string{"a.json", "b.json"}},
		{"a case in one shard only", in(a, extra), "case tls1.3-full-ecdsa-p256-x25519 repeat 1 is in b.json but not in a.json", []string{"b.json", "a.json"}},
		{"windows apart", in(a, late), "case tls1.3-full-ecdsa-p256-x25519 repeat 0: b.json began its window 1s after a.json had ended its own", []string{"a.json", "b.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := results.MergeShards(tc.in)
			var me *results.MergeError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a *MergeError containing %q", err, tc.want)
			}
			if tc.names != nil && !slices.Equal(me.Inputs, tc.names) {
				t.Errorf("inputs %q, want %q", me.Inputs, tc.names)
			}
		})
	}
	// Merge names its inputs by position.
	if _, err := results.Merge(a, unsharded); err == nil || !strings.Contains(err.Error(), "result 2 ran without --shard/--shards") {
		t.Errorf("Merge: err = %v, want result 2 named", err)
	}
}

// in names runs a.json, b.json, … in order.
func in(runs ...*results.Run) []results.MergeInput {
	out := make([]results.MergeInput, len(runs))
	for i, r := range runs {
		out[i] = results.MergeInput{Name: string(rune('a'+i)) + ".json", Run: r}
	}
	return out
}

func hasWarning(c *results.Case, part string) bool {
	for _, w := range c.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// Each shard judged its part against the run's SLO; the merged case is
// judged again on the merged figures, not by and-ing the shards' verdicts.
func TestMergeJudgesTheSLOAgain(t *testing.T) {
	var runs []*results.Run
	for i := range 3 {
		r := resultstest.ShardRun("gen", i, 3, uint64(i+1), 0, 300)
		c := &r.Cases[0]
		c.Latency.Total = c.Latency.Handshake
		// A verdict no shard's figures justify: only a fresh judgement
		// of the merged case can replace it.
		c.SLO = &results.SLOVerdict{Objective: "p99<10s", Met: false, Broken: []string{"stale"}}
		runs = append(runs, r)
	}
	merged, err := results.Merge(runs...)
	if err != nil {
		t.Fatal(err)
	}
	v := merged.Cases[0].SLO
	if v == nil || !v.Met || len(v.Broken) != 0 || v.Objective != "p99<10s,achieved>=95%" {
		t.Errorf("merged verdict %+v, want p99<10s judged again and met", v)
	}
}

// Early data counts, the client's and the target's, add up across shards;
// a shard that offered none adds nothing and leaves nil alone.
func TestMergeSumsEarlyData(t *testing.T) {
	a := resultstest.ShardRun("gen-0", 0, 2, 1, 0, 300)
	b := resultstest.ShardRun("gen-1", 1, 2, 2, 500*time.Millisecond, 360)
	a.Cases[0].EarlyData = &results.EarlyData{Offered: 10, Accepted: 9, Rejected: 1, BytesAccepted: 9 * 512}
	b.Cases[0].EarlyData = &results.EarlyData{Offered: 5, Accepted: 5, BytesAccepted: 5 * 512}
	a.Cases[0].TargetCounts.EarlyData, a.Cases[0].TargetCounts.EarlyDataBytes = 9, 9*512
	b.Cases[0].TargetCounts.EarlyData, b.Cases[0].TargetCounts.EarlyDataBytes = 5, 5*512
	merged, err := results.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	c := merged.Cases[0]
	if want := (results.EarlyData{Offered: 15, Accepted: 14, Rejected: 1, BytesAccepted: 14 * 512}); c.EarlyData == nil || *c.EarlyData != want {
		t.Errorf("early data %+v, want %+v", c.EarlyData, want)
	}
	if c.TargetCounts.EarlyData != 14 || c.TargetCounts.EarlyDataBytes != 14*512 {
		t.Errorf("target counts %+v", c.TargetCounts)
	}
	a = resultstest.ShardRun("gen-0", 0, 2, 1, 0, 300)
	b = resultstest.ShardRun("gen-1", 1, 2, 2, 500*time.Millisecond, 360)
	if merged, err = results.Merge(a, b); err != nil || merged.Cases[0].EarlyData != nil {
		t.Errorf("no early data offered: %v, %+v", err, merged.Cases[0].EarlyData)
	}
}
