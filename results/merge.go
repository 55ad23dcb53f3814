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

// MergeInput is one shard result given to MergeShards. Name says where it
// came from (its file, or its pod): refusals name inputs by it, and the
// merged result records it as the shard's Source.
type MergeInput struct {
	Name string
	Run  *Run
}

// Merge is MergeShards with the inputs named "result 1", "result 2", ….
func Merge(runs ...*Run) (*Run, error) {
	in := make([]MergeInput, len(runs))
	for i, r := range runs {
		in[i] = MergeInput{Name: fmt.Sprintf("result %d", i+1), Run: r}
	}
	return MergeShards(in)
}

// MergeShards combines the results of the N shards of one sharded run
// (mtlsbench run --shard I/N --run-id ID on N generators) into one result,
// exactly where the data allow:
//
//   - cases are matched by Key and Repeat;
//   - HDR histograms are decoded, merged and summarised again, so merged
//     percentiles are those of all handshakes, not averages of percentiles;
//   - counts, errors, negotiated tuples, target counts and the shards'
//     LoadReports (each holds its share) are added; Params are not, since
//     every shard records the whole run's;
//   - times are put on shard 0's clock (a shard's time + its
//     Clock.OffsetUs, when it recorded one), and rates are recomputed over
//     the common window of each case, from the earliest shard's start to
//     the latest shard's end;
//   - CPU is kept per shard (CPU.PerShard); the per-handshake figures are
//     recomputed from the shards' CPU totals;
//   - each case says in Merged how its shards lined up (start skew, the
//     gap between their starts together), with a warning when they did
//     not;
//   - Run.Shards lists the shards by index; RunID is kept.
//
// MergeShards is strict, because a merge of results that are not one run's
// shards is a plausible-looking result with a meaningless rate. It refuses
// with a *MergeError naming the inputs: a result that is not a shard (or is
// already a merge), shards of different runs or shard counts, a shard
// given twice or missing, a case whose parameters differ between shards or
// that some shards lack, shards whose windows of a case do not overlap,
// capacity searches, different scenarios or schema versions, and the same
// result given twice.
func MergeShards(in []MergeInput) (*Run, error) {
	shards, err := checkShards(in)
	if err != nil {
		return nil, err
	}
	first := shards[0].run
	out := &Run{
		Schema:      Schema,
		Tool:        first.Tool,
		Environment: first.Environment,
		Scenario:    first.Scenario,
		RunID:       first.RunID,
	}
	for _, sh := range shards {
		r := sh.run
		if start := sh.global(r.Start); !start.IsZero() && (out.Start.IsZero() || start.Before(out.Start)) {
			out.Start = start
		}
		if end := sh.global(r.End); end.After(out.End) {
			out.End = end
		}
		out.Interrupted = out.Interrupted || r.Interrupted
		host := r.Environment.Hostname
		if host == "" {
			host = r.Shard.Hostname
		}
		out.Shards = append(out.Shards, Shard{
			Index: r.Shard.Index, Count: r.Shard.Count, Source: sh.name, Hostname: host,
			Start: r.Start, End: r.End, Environment: r.Environment, Clock: r.Shard.Clock,
		})
	}
	groups, err := checkCases(shards)
	if err != nil {
		return nil, err
	}
	schedule := scheduleOf(first.Scenario.Spec)
	for _, parts := range groups {
		merged, err := mergeCase(parts)
		if err != nil {
			return nil, err
		}
		alignCase(&merged, parts, schedule)
		out.Cases = append(out.Cases, merged)
	}
	return out, nil
}

// MergeError explains why results cannot be merged. It is bad input.
// Inputs names the inputs involved (MergeInput.Name), when any are.
type MergeError struct {
	Reason string
	Inputs []string
}

func (e *MergeError) Error() string { return "results: merge: " + e.Reason }

func mergeErrorf(inputs []string, format string, a ...any) *MergeError {
	return &MergeError{Reason: fmt.Sprintf(format, a...), Inputs: inputs}
}

// mergeCase combines one case's parts, one per shard in index order.
func mergeCase(parts []casePart) (Case, error) {
	first := parts[0].c
	out := Case{
		Name:   first.Name,
		Key:    first.Key,
		Repeat: first.Repeat,
		// Every shard records the whole run's parameters (checkCases made
		// sure they agree): they are not added up.
		Params:         first.Params,
		Status:         StatusOK,
		Acceptance:     AcceptanceConfirmed,
		ServerVerified: true,
		Errors:         map[string]int64{},
	}
	var end time.Time
	var failures []string
	warnings := map[string]bool{}
	cases := make([]*Case, len(parts))
	for i, p := range parts {
		c := p.c
		cases[i] = c
		shard := p.shard.run.Shard.Index
		if !p.start.IsZero() && (out.Start.IsZero() || p.start.Before(out.Start)) {
			out.Start = p.start
		}
		if e := p.end(); e.After(end) {
			end = e
		}
		out.WarmupS = math.Max(out.WarmupS, c.WarmupS)
		out.Status = worseStatus(out.Status, c.Status)
		if c.Failure != "" {
			failures = append(failures, fmt.Sprintf("shard %d: %s", shard, c.Failure))
		}
		if c.Acceptance == AcceptanceUnconfirmed {
			out.Acceptance = AcceptanceUnconfirmed
		}
		out.ServerVerified = out.ServerVerified && c.ServerVerified
		out.GeneratorBound = out.GeneratorBound || c.GeneratorBound
		// Each shard saw the target from its own connects: the longest
		// view of an outage is the run's.
		out.UnreachableS = math.Max(out.UnreachableS, c.UnreachableS)
		out.Outages = max(out.Outages, c.Outages)
		if out.ErrorBudget == nil {
			out.ErrorBudget = c.ErrorBudget
		}
		if c.GeneratorBound {
			addWarning(&out, warnings, fmt.Sprintf("shard %d was generator-bound", shard))
		}
		for _, w := range c.Warnings {
			addWarning(&out, warnings, fmt.Sprintf("shard %d: %s", shard, w))
		}

		out.Counts.Add(c.Counts)
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
		if c.EarlyData != nil {
			if out.EarlyData == nil {
				out.EarlyData = &EarlyData{}
			}
			out.EarlyData.Add(*c.EarlyData)
		}
		// Each shard's LoadReport holds its share: the shares add up to
		// the run's.
		out.Load = addLoad(out.Load, c.Load)
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
	if out.Latency, err = mergeLatency(parts); err != nil {
		return out, err
	}
	out.Intervals, err = mergeIntervals(parts, out.Start)
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
	// Each shard judged its own part; the objective is the whole run's,
	// so the merged case is judged again on the merged figures.
	if first.SLO != nil {
		if err := out.JudgeSLO(first.SLO.Objective); err != nil {
			return out, err
		}
	}
	return out, nil
}

func addWarning(c *Case, seen map[string]bool, w string) {
	if !seen[w] {
		seen[w] = true
		c.Warnings = append(c.Warnings, w)
	}
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
	into.Requests += from.Requests
	into.HTTP2Requests += from.HTTP2Requests
	into.EarlyData += from.EarlyData
	into.EarlyDataBytes += from.EarlyDataBytes
	into.Versions = addCounts(into.Versions, from.Versions)
	into.Ciphers = addCounts(into.Ciphers, from.Ciphers)
	into.ClientVerify = addCounts(into.ClientVerify, from.ClientVerify)
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

func mergeLatency(parts []casePart) (Latency, error) {
	var out Latency
	for _, phase := range latencyPhases {
		var summaries []*Summary
		var from []string
		for _, p := range parts {
			if s := *phase(&p.c.Latency); s != nil {
				summaries = append(summaries, s)
				from = append(from, fmt.Sprintf("case %s in %s (shard %d)", p.c.Name, p.shard.name, p.shard.run.Shard.Index))
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
// interval belongs to slot round((shard start + offset − start) / length),
// the shard's start on shard 0's clock.
// Rates and counts add up; percentiles come from the merged interval
// histograms when every interval has one, else they are the largest of the
// shards' (an upper bound). Nil when the shards' interval lengths differ.
func mergeIntervals(parts []casePart, start time.Time) ([]Interval, error) {
	length := 0.0
	for _, p := range parts {
		for _, iv := range p.c.Intervals {
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
	for _, p := range parts {
		c := p.c
		shift := 0.0
		if !p.start.IsZero() && !start.IsZero() {
			shift = p.start.Sub(start).Seconds()
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
// shards must have run the same steps. A step's Rate is the run's (each
// shard records the schedule's rate, as it does Params.Rate), so it is
// kept, not added.
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
				out[i] = Segment{Rate: seg.Rate, OffsetS: seg.OffsetS, DurationS: seg.DurationS}
			}
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
