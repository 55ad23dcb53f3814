package results

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Merge combines the results of one scenario run as shards on several
// generators into one result, exactly where the data allow:
//
//   - cases are matched by Key and Repeat;
//   - HDR histograms are decoded, merged and summarised again, so merged
//     percentiles are those of all handshakes, not averages of percentiles;
//   - counts, errors, negotiated tuples and target counts are added;
//   - rates are recomputed over the common window of each case, from the
//     earliest shard's start to the latest shard's end;
//   - CPU is kept per shard (CPU.PerShard); the per-handshake figures are
//     recomputed from the shards' CPU totals;
//   - Run.Shards lists the generators.
//
// It refuses results of different scenarios (Scenario.Name) or schema
// versions, and the same result given twice, with a *MergeError.
func Merge(runs ...*Run) (*Run, error) {
	if len(runs) == 0 {
		return nil, &MergeError{Reason: "no results to merge"}
	}
	for i, r := range runs {
		if r == nil {
			return nil, &MergeError{Reason: fmt.Sprintf("result %d is missing", i+1)}
		}
		if r.Schema != Schema {
			return nil, &MergeError{Reason: fmt.Sprintf("result %d has schema %q; merge reads %q", i+1, r.Schema, Schema)}
		}
		if r.HasCapacity() {
			return nil, &MergeError{Reason: fmt.Sprintf("result %d is a capacity search: each search chose its own rates, so shards of it cannot be combined (run 'mtlsbench capacity' from one generator, or read the answers side by side)", i+1)}
		}
		if r.Scenario.Name != runs[0].Scenario.Name {
			return nil, &MergeError{Reason: fmt.Sprintf("result %d ran scenario %q but result 1 ran %q: merge combines shards of one scenario", i+1, r.Scenario.Name, runs[0].Scenario.Name)}
		}
		for j := range i {
			if sameRun(runs[j], r) {
				return nil, &MergeError{Reason: fmt.Sprintf("results %d and %d are the same run (host %q, start %s): give each shard once", j+1, i+1, r.Environment.Hostname, r.Start.UTC().Format(time.RFC3339Nano))}
			}
		}
	}
	first := runs[0]
	out := &Run{
		Schema:      Schema,
		Tool:        first.Tool,
		Start:       first.Start,
		End:         first.End,
		Environment: first.Environment,
		Scenario:    first.Scenario,
	}
	for _, r := range runs {
		if !r.Start.IsZero() && (out.Start.IsZero() || r.Start.Before(out.Start)) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		out.Interrupted = out.Interrupted || r.Interrupted
		if len(r.Shards) > 0 {
			// Already a merge: keep its generators.
			out.Shards = append(out.Shards, r.Shards...)
		} else {
			out.Shards = append(out.Shards, Shard{Hostname: r.Environment.Hostname, Start: r.Start, End: r.End, Environment: r.Environment})
		}
	}
	for i := range out.Shards {
		out.Shards[i].Index = i
	}

	// Cases in first-seen order across the shards.
	type shardCase struct {
		shard int
		c     *Case
	}
	var order []string
	byKey := map[string][]shardCase{}
	for s, r := range runs {
		for i := range r.Cases {
			c := &r.Cases[i]
			k := fmt.Sprintf("%s\x00%d", c.MatchKey(), c.Repeat)
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = append(byKey[k], shardCase{s, c})
		}
	}
	for _, k := range order {
		parts := byKey[k]
		cases := make([]*Case, len(parts))
		shards := make([]int, len(parts))
		for i, p := range parts {
			cases[i], shards[i] = p.c, p.shard
		}
		merged, err := mergeCase(cases, shards, len(runs))
		if err != nil {
			return nil, err
		}
		out.Cases = append(out.Cases, merged)
	}
	return out, nil
}

// MergeError explains why results cannot be merged. It is bad input.
type MergeError struct{ Reason string }

func (e *MergeError) Error() string { return "results: merge: " + e.Reason }

func sameRun(a, b *Run) bool {
	return a.Start.Equal(b.Start) && a.End.Equal(b.End) && a.Environment.Hostname == b.Environment.Hostname && len(a.Cases) == len(b.Cases) && len(a.Shards) == 0 && len(b.Shards) == 0
}

// mergeCase combines one case's shards; shards[i] is the 0-based input
// index of cases[i], of total inputs.
func mergeCase(cases []*Case, shards []int, total int) (Case, error) {
	first := cases[0]
	out := Case{
		Name:           first.Name,
		Key:            first.Key,
		Repeat:         first.Repeat,
		Params:         first.Params,
		Status:         StatusOK,
		Acceptance:     AcceptanceConfirmed,
		ServerVerified: true,
		Start:          first.Start,
		Errors:         map[string]int64{},
	}
	end := caseEnd(first)
	var failures []string
	warnings := map[string]bool{}
	for i, c := range cases {
		if !c.Start.IsZero() && (out.Start.IsZero() || c.Start.Before(out.Start)) {
			out.Start = c.Start
		}
		if e := caseEnd(c); e.After(end) {
			end = e
		}
		out.WarmupS = math.Max(out.WarmupS, c.WarmupS)
		out.Status = worseStatus(out.Status, c.Status)
		if c.Failure != "" {
			failures = append(failures, fmt.Sprintf("shard %d: %s", shards[i], c.Failure))
		}
		if c.Acceptance == AcceptanceUnconfirmed {
			out.Acceptance = AcceptanceUnconfirmed
		}
		out.ServerVerified = out.ServerVerified && c.ServerVerified
		out.GeneratorBound = out.GeneratorBound || c.GeneratorBound
		if c.GeneratorBound {
			addWarning(&out, warnings, fmt.Sprintf("shard %d was generator-bound", shards[i]))
		}
		for _, w := range c.Warnings {
			addWarning(&out, warnings, fmt.Sprintf("shard %d: %s", shards[i], w))
		}
		if i > 0 {
			// The shards' load adds up.
			out.Params.Concurrency += c.Params.Concurrency
			out.Params.Rate += c.Params.Rate
		}

		out.Counts.Attempted += c.Counts.Attempted
		out.Counts.OK += c.Counts.OK
		out.Counts.Resumed += c.Counts.Resumed
		out.Counts.Errors += c.Counts.Errors
		out.Counts.HRR += c.Counts.HRR
		out.Counts.Requests += c.Counts.Requests
		for class, n := range c.Errors {
			out.Errors[class] += n
		}
		for _, class := range slices.Sorted(maps.Keys(c.ErrorExamples)) {
			if out.ErrorExamples == nil {
				out.ErrorExamples = map[string]string{}
			}
			if _, ok := out.ErrorExamples[class]; !ok {
				out.ErrorExamples[class] = c.ErrorExamples[class]
			}
		}
		out.Negotiated = addNegotiated(out.Negotiated, c.Negotiated)
		out.Bytes.TotalSent += c.Bytes.TotalSent
		out.Bytes.TotalReceived += c.Bytes.TotalReceived
		out.TargetCounts = addTargetCounts(out.TargetCounts, c.TargetCounts)
		out.Load = addLoad(out.Load, c.Load)
	}
	if len(cases) < total {
		addWarning(&out, warnings, fmt.Sprintf("present in %d of %d shards", len(cases), total))
	}
	out.Failure = strings.Join(failures, "; ")
	if !out.Start.IsZero() {
		out.DurationS = end.Sub(out.Start).Seconds()
	} else {
		for _, c := range cases {
			out.DurationS = math.Max(out.DurationS, c.DurationS)
		}
	}
	if out.DurationS > 0 {
		out.HandshakesPerS = float64(out.Counts.OK) / out.DurationS
	}
	// Bytes per handshake: weighted by each shard's attempts.
	if out.Counts.Attempted > 0 {
		for _, c := range cases {
			w := float64(c.Counts.Attempted) / float64(out.Counts.Attempted)
			out.Bytes.HandshakeSentMean += w * c.Bytes.HandshakeSentMean
			out.Bytes.HandshakeReceivedMean += w * c.Bytes.HandshakeReceivedMean
		}
	}
	out.CPU = mergeCPU(cases, out.DurationS)

	var err error
	if out.Latency, err = mergeLatency(cases, shards); err != nil {
		return out, err
	}
	out.Intervals, err = mergeIntervals(cases, out.Start)
	if err != nil {
		return out, err
	}
	if out.Intervals == nil && anyIntervals(cases) {
		addWarning(&out, warnings, "interval series dropped: the shards' intervals do not line up (different lengths)")
	}
	out.Segments, err = mergeSegments(cases)
	if err != nil {
		return out, err
	}
	return out, nil
}

func addWarning(c *Case, seen map[string]bool, w string) {
	if !seen[w] {
		seen[w] = true
		c.Warnings = append(c.Warnings, w)
	}
}

func caseEnd(c *Case) time.Time {
	return c.Start.Add(seconds(c.DurationS))
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

// worseStatus orders statuses failed > crosscheck_failed > interrupted > ok.
func worseStatus(a, b Status) Status {
	rank := func(s Status) int {
		switch s {
		case StatusFailed:
			return 3
		case StatusCrosscheckFailed:
			return 2
		case StatusInterrupted:
			return 1
		default:
			return 0
		}
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func addNegotiated(into, from []Negotiated) []Negotiated {
	for _, n := range from {
		found := false
		for i := range into {
			m := &into[i]
			if m.TLSVersion == n.TLSVersion && m.CipherSuite == n.CipherSuite && m.Group == n.Group && m.Resumed == n.Resumed && m.ServerKeyType == n.ServerKeyType {
				m.Count += n.Count
				found = true
				break
			}
		}
		if !found {
			into = append(into, n)
		}
	}
	return into
}

func addTargetCounts(into, from *TargetCounts) *TargetCounts {
	if from == nil {
		return into
	}
	if into == nil {
		into = &TargetCounts{Source: from.Source}
	} else if from.Source != "" && !strings.Contains(into.Source, from.Source) {
		into.Source += ", " + from.Source
	}
	into.Handshakes += from.Handshakes
	into.Resumed += from.Resumed
	into.Failed += from.Failed
	into.VerifyFailures += from.VerifyFailures
	into.Versions = addCounts(into.Versions, from.Versions)
	into.Ciphers = addCounts(into.Ciphers, from.Ciphers)
	return into
}

func addCounts(into, from map[string]int64) map[string]int64 {
	for k, v := range from {
		if into == nil {
			into = map[string]int64{}
		}
		into[k] += v
	}
	return into
}

func addLoad(into, from *LoadReport) *LoadReport {
	if from == nil {
		return into
	}
	if into == nil {
		cp := *from
		return &cp
	}
	into.TargetRate += from.TargetRate
	into.AchievedRate += from.AchievedRate
	into.MaxInFlight += from.MaxInFlight
	into.InFlightLimitHits += from.InFlightLimitHits
	// The shards' peaks need not coincide: the sum is an upper bound.
	into.PeakInFlight += from.PeakInFlight
	into.SourceAddrs += from.SourceAddrs
	into.Linger0 = into.Linger0 || from.Linger0
	return into
}

// mergeCPU keeps each shard's CPU figures and recomputes the totals: CPU
// time is per-handshake figure × successful handshakes, summed, divided by
// all successful handshakes; utilization is CPU time over the common
// window. Target CPU covers the shards that measured it (each shard
// measures the target it started, so their CPU adds up).
func mergeCPU(cases []*Case, windowS float64) CPU {
	var out CPU
	var clientUs, targetUs float64
	var clientOK, targetOK int64
	for _, c := range cases {
		if len(c.CPU.PerShard) > 0 {
			out.PerShard = append(out.PerShard, c.CPU.PerShard...)
		} else {
			own := c.CPU
			own.PerShard = nil
			out.PerShard = append(out.PerShard, own)
		}
		clientUs += c.CPU.ClientUsPerHandshake * float64(c.Counts.OK)
		clientOK += c.Counts.OK
		out.ClientCores += c.CPU.ClientCores
		if c.CPU.TargetMeasured {
			out.TargetMeasured = true
			targetUs += c.CPU.TargetUsPerHandshake * float64(c.Counts.OK)
			targetOK += c.Counts.OK
		}
	}
	if clientOK > 0 {
		out.ClientUsPerHandshake = clientUs / float64(clientOK)
	}
	if targetOK > 0 {
		out.TargetUsPerHandshake = targetUs / float64(targetOK)
	}
	if windowS > 0 {
		out.ClientUtilization = clientUs / 1e6 / windowS
		if out.TargetMeasured {
			out.TargetUtilization = targetUs / 1e6 / windowS
		}
	}
	return out
}

// latencyPhases address each Summary of a Latency, for merging.
var latencyPhases = []func(*Latency) **Summary{
	func(l *Latency) **Summary { return &l.Connect },
	func(l *Latency) **Summary { return &l.Handshake },
	func(l *Latency) **Summary { return &l.FirstByte },
	func(l *Latency) **Summary { return &l.Verify },
	func(l *Latency) **Summary { return &l.Sign },
	func(l *Latency) **Summary { return &l.Requests },
	func(l *Latency) **Summary { return &l.Total },
	func(l *Latency) **Summary { return &l.TotalUncorrected },
	func(l *Latency) **Summary { return &l.ScheduleLag },
}

func mergeLatency(cases []*Case, shards []int) (Latency, error) {
	var out Latency
	for _, phase := range latencyPhases {
		var summaries []*Summary
		var from []string
		for i, c := range cases {
			if s := *phase(&c.Latency); s != nil {
				summaries = append(summaries, s)
				from = append(from, fmt.Sprintf("case %s shard %d", c.Name, shards[i]))
			}
		}
		if len(summaries) == 0 {
			continue
		}
		merged, err := mergeSummaries(summaries, from)
		if err != nil {
			return out, err
		}
		*phase(&out) = &merged
	}
	return out, nil
}

// mergeSummaries merges the summaries' histograms and summarises the
// result. A summary that has values but no histogram cannot be merged
// exactly, and merge says so rather than guess.
func mergeSummaries(summaries []*Summary, from []string) (Summary, error) {
	merged := NewHistogram()
	for i, s := range summaries {
		if s.Count == 0 && s.HDR == "" {
			continue
		}
		if s.HDR == "" {
			return Summary{}, &MergeError{Reason: fmt.Sprintf("%s has %d latency values but no HDR histogram: it cannot be merged exactly", from[i], s.Count)}
		}
		h, err := DecodeHDR(s.HDR)
		if err != nil {
			return Summary{}, &MergeError{Reason: fmt.Sprintf("%s: %v", from[i], err)}
		}
		if dropped := merged.Merge(h); dropped > 0 {
			return Summary{}, &MergeError{Reason: fmt.Sprintf("%s: %d values outside the histogram range", from[i], dropped)}
		}
	}
	return Summarize(merged), nil
}

func anyIntervals(cases []*Case) bool {
	for _, c := range cases {
		if len(c.Intervals) > 0 {
			return true
		}
	}
	return false
}

// mergeIntervals lines the shards' intervals up on the common window: an
// interval belongs to slot round((shard start + offset − start) / length).
// Rates and counts add up; percentiles come from the merged interval
// histograms when every interval has one, else they are the largest of the
// shards' (an upper bound). Nil when the shards' interval lengths differ.
func mergeIntervals(cases []*Case, start time.Time) ([]Interval, error) {
	length := 0.0
	for _, c := range cases {
		for _, iv := range c.Intervals {
			if length == 0 {
				length = iv.DurationS
			}
			if math.Abs(iv.DurationS-length) > length*0.01 {
				return nil, nil
			}
		}
	}
	if length == 0 {
		return nil, nil
	}
	type slot struct {
		iv    Interval
		hists []*hdrhistogram.Histogram
		noHDR bool
	}
	slots := map[int]*slot{}
	for _, c := range cases {
		shift := 0.0
		if !c.Start.IsZero() && !start.IsZero() {
			shift = c.Start.Sub(start).Seconds()
		}
		for _, iv := range c.Intervals {
			n := int(math.Round((shift + iv.OffsetS) / length))
			sl, ok := slots[n]
			if !ok {
				sl = &slot{iv: Interval{OffsetS: float64(n) * length, DurationS: length}}
				slots[n] = sl
			}
			sl.iv.HandshakesPerS += iv.HandshakesPerS
			sl.iv.Errors += iv.Errors
			sl.iv.Resumed += iv.Resumed
			sl.iv.InFlight += iv.InFlight
			sl.iv.P50Us = max(sl.iv.P50Us, iv.P50Us)
			sl.iv.P99Us = max(sl.iv.P99Us, iv.P99Us)
			if iv.HDR == "" {
				sl.noHDR = true
				continue
			}
			h, err := DecodeHDR(iv.HDR)
			if err != nil {
				return nil, &MergeError{Reason: fmt.Sprintf("case %s interval at %gs: %v", c.Name, iv.OffsetS, err)}
			}
			sl.hists = append(sl.hists, h)
		}
	}
	keys := make([]int, 0, len(slots))
	for k := range slots {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	out := make([]Interval, 0, len(keys))
	for _, k := range keys {
		sl := slots[k]
		if !sl.noHDR && len(sl.hists) > 0 {
			h := NewHistogram()
			for _, part := range sl.hists {
				h.Merge(part)
			}
			sl.iv.P50Us, sl.iv.P99Us = h.ValueAtQuantile(50), h.ValueAtQuantile(99)
			sl.iv.HDR = EncodeHDR(h)
		}
		out = append(out, sl.iv)
	}
	return out, nil
}

// mergeSegments adds up the steps of a stepped schedule, step by step. The
// shards must have run the same steps.
func mergeSegments(cases []*Case) ([]Segment, error) {
	n := len(cases[0].Segments)
	for _, c := range cases {
		if len(c.Segments) != n {
			return nil, &MergeError{Reason: fmt.Sprintf("case %s: shards ran %d and %d load steps", c.Name, n, len(c.Segments))}
		}
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]Segment, n)
	for i := range out {
		var summaries []*Summary
		var from []string
		for j, c := range cases {
			seg := c.Segments[i]
			if j == 0 {
				out[i] = Segment{OffsetS: seg.OffsetS, DurationS: seg.DurationS}
			}
			out[i].Rate += seg.Rate
			out[i].HandshakesPerS += seg.HandshakesPerS
			out[i].Errors += seg.Errors
			out[i].DurationS = math.Max(out[i].DurationS, seg.DurationS)
			summaries = append(summaries, &c.Segments[i].Latency)
			from = append(from, fmt.Sprintf("case %s step %d", c.Name, i+1))
		}
		merged, err := mergeSummaries(summaries, from)
		if err != nil {
			return nil, err
		}
		out[i].Latency = merged
	}
	return out, nil
}
