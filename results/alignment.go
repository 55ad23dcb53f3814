package results

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// How the shards of a merged case lined up. A sharded open loop is one
// schedule striped over the shards: start k·N+I of the run is shard I's
// k-th, due at its global instant. When the shards' clocks agree and they
// begin together, their starts interleave and the gap between consecutive
// starts of all shards together is the schedule's (1/rate); when a
// shard's clock is off, or every shard ran the whole schedule instead of
// its stripe, their starts bunch and the gaps shrink towards zero. The
// merged figures look the same either way, so merge measures it.

// Thresholds of the alignment warnings.
const (
	// bunchTolerance is how far the median gap may be from the intended
	// one, as a fraction of it, before merge warns.
	bunchTolerance = 0.25
	// skewWarnUs is the start skew above which merge warns.
	skewWarnUs = 5_000
)

// schedule is what merge needs to know of the run's open-loop schedule
// beyond Params.Rate, read from the scenario's recorded specification.
type schedule struct {
	// poisson: starts are spaced as a Poisson process, whose median gap is
	// ln 2 of the mean.
	poisson bool
	// ramped: the rate grows from zero over the window's beginning, where
	// the first starts are, so their gaps are not 1/rate.
	ramped bool
}

// scheduleOf reads the spacing of the run's starts from Scenario.Spec
// (the scenarios package's JSON: load.arrivals, load.ramp_up); the zero
// schedule (uniform, constant) when it is absent or unreadable.
func scheduleOf(spec json.RawMessage) schedule {
	var s struct {
		Load struct {
			Arrivals string `json:"arrivals"`
			RampUp   string `json:"ramp_up"`
		} `json:"load"`
	}
	if len(spec) == 0 || json.Unmarshal(spec, &s) != nil {
		return schedule{}
	}
	ramped := false
	if d, err := time.ParseDuration(s.Load.RampUp); err == nil && d > 0 {
		ramped = true
	}
	return schedule{poisson: s.Load.Arrivals == "poisson", ramped: ramped}
}

// alignCase fills out.Merged from the case's parts and warns when the
// shards did not line up.
func alignCase(out *Case, parts []casePart, sched schedule) {
	m := &CaseMerge{Shards: len(parts)}
	out.Merged = m
	var first, last time.Time
	for _, p := range parts {
		if p.start.IsZero() {
			continue
		}
		if first.IsZero() || p.start.Before(first) {
			first = p.start
		}
		if p.start.After(last) {
			last = p.start
		}
	}
	m.StartSkewUs = last.Sub(first).Microseconds()
	if m.StartSkewUs > skewWarnUs {
		out.Warnings = append(out.Warnings, fmt.Sprintf(
			"shards started %.1fms apart (on shard 0's clock): at the merged window's edges not every shard was loading the target — check their clocks (--rendezvous)",
			float64(m.StartSkewUs)/1000))
	}

	rate := out.Params.Rate
	if rate <= 0 {
		return
	}
	samples := make([][]int64, len(parts))
	for i, p := range parts {
		if p.c.Shard == nil || len(p.c.Shard.StartsUs) == 0 {
			return
		}
		samples[i] = p.c.Shard.StartsUs
	}
	// Each shard's starts count from its own Planned instant. On a shared
	// timeline (--start-at, --rendezvous) every shard's is the same; a
	// shard that began when it was ready records its own start, and its
	// starts are shifted by how far that was from shard 0's.
	if ref := parts[0].c.Shard.Planned; !ref.IsZero() {
		for i, p := range parts {
			planned := p.c.Shard.Planned
			if planned.IsZero() || planned.Equal(ref) {
				continue
			}
			shift := planned.Sub(ref).Microseconds()
			shifted := make([]int64, len(samples[i]))
			for j, v := range samples[i] {
				shifted[j] = v + shift
			}
			samples[i] = shifted
		}
	}
	gap, ok := medianGap(samples)
	if !ok {
		return
	}
	m.InterArrivalP50Us = gap
	m.IntendedInterArrivalUs = 1e6 / rate
	if sched.ramped {
		// The first starts are in the ramp, slower than the rate: their
		// gaps say nothing of the shards' alignment against 1/rate.
		return
	}
	expected, what := m.IntendedInterArrivalUs, "intended"
	if sched.poisson {
		expected, what = math.Ln2*m.IntendedInterArrivalUs, "the median of Poisson arrivals at the run's rate"
	}
	if math.Abs(gap-expected) <= bunchTolerance*expected {
		return
	}
	if gap < expected {
		out.Warnings = append(out.Warnings, fmt.Sprintf(
			"the shards' starts bunch: median gap %.0fµs, %s %.0fµs — check their clocks (--rendezvous) and that each ran its own --shard index: the target saw bursts, not the schedule",
			gap, what, expected))
		return
	}
	out.Warnings = append(out.Warnings, fmt.Sprintf(
		"the shards' starts are sparse: median gap %.0fµs, %s %.0fµs — a shard began late or fell behind its schedule (see its schedule lag)",
		gap, what, expected))
}

// medianGap is the median gap between consecutive starts of all samples
// together, each a shard's first starts in µs from one instant on one
// reference clock. Only the span every sample covers
// counts: up to the smallest of the samples' largest values, past which
// some shards' starts are not in their sample. ok is false when fewer than
// two starts remain.
func medianGap(samples [][]int64) (gap float64, ok bool) {
	limit := int64(math.MaxInt64)
	n := 0
	for _, s := range samples {
		limit = min(limit, slices.Max(s))
		n += len(s)
	}
	all := make([]int64, 0, n)
	for _, s := range samples {
		for _, v := range s {
			if v <= limit {
				all = append(all, v)
			}
		}
	}
	if len(all) < 2 {
		return 0, false
	}
	slices.Sort(all)
	gaps := make([]int64, len(all)-1)
	for i := range gaps {
		gaps[i] = all[i+1] - all[i]
	}
	slices.Sort(gaps)
	mid := len(gaps) / 2
	if len(gaps)%2 == 1 {
		return float64(gaps[mid]), true
	}
	return float64(gaps[mid-1]+gaps[mid]) / 2, true
}
