// Package compare owns the verdicts between two results. It judges head
// against base, case by case and metric by metric, so that CI can fail on
// a regression without failing on noise. Cases are matched by key; the
// repeats of a case (same key, different Repeat) are its samples. A metric
// regresses when its median worsens past its Threshold (both the relative
// and the absolute part) and, when both sides have enough samples for a
// Mann–Whitney U test to reach Alpha, the difference is significant. See
// docs/compare.md for the defaults and why. It renders its verdicts too
// (table, markdown, JSON).
//
// It runs nothing and changes no result.
package compare

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"golang.org/x/perf/benchmath"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// Metric names a figure compare judges.
type Metric string

// The metrics compare judges, by the names --threshold accepts.
const (
	MetricHandshakesPerS Metric = "handshakes_per_s"
	MetricP50            Metric = "p50"
	MetricP99            Metric = "p99"
	MetricP999           Metric = "p99.9"
	MetricErrorRate      Metric = "error_rate"
	MetricClientCPU      Metric = "client_cpu"
	MetricTargetCPU      Metric = "target_cpu"
)

// Metrics lists every metric in the order reports show them.
var Metrics = []Metric{MetricHandshakesPerS, MetricP50, MetricP99, MetricP999, MetricErrorRate, MetricClientCPU, MetricTargetCPU}

// metricInfo is what compare knows about a metric.
type metricInfo struct {
	// label is how tables name it.
	label string
	// unit is the unit of its values and of Threshold.Abs.
	unit string
	// higherBetter is true for throughput; every other metric is better
	// lower.
	higherBetter bool
	// value reads it from a case; ok is false when the case does not have
	// it (no successful handshakes, target CPU not measured).
	value func(c *results.Case) (v float64, ok bool)
	// quantile is the latency percentile (99 for p99), zero for other
	// metrics.
	quantile float64
}

var metricInfos = map[Metric]metricInfo{
	MetricHandshakesPerS: {"handshakes/s", "hs/s", true, func(c *results.Case) (float64, bool) {
		return c.HandshakesPerS, c.Counts.Attempted > 0 || c.HandshakesPerS > 0
	}, 0},
	MetricP50:  {"p50", "µs", false, latencyMetric(func(s *results.Summary) int64 { return s.P50Us }), 50},
	MetricP99:  {"p99", "µs", false, latencyMetric(func(s *results.Summary) int64 { return s.P99Us }), 99},
	MetricP999: {"p99.9", "µs", false, latencyMetric(func(s *results.Summary) int64 { return s.P999Us }), 99.9},
	MetricErrorRate: {"error rate", "pp", false, func(c *results.Case) (float64, bool) {
		if c.Counts.Attempted == 0 {
			return 0, false
		}
		return 100 * float64(c.Counts.Errors) / float64(c.Counts.Attempted), true
	}, 0},
	MetricClientCPU: {"client CPU/hs", "µs", false, func(c *results.Case) (float64, bool) {
		return c.CPU.ClientUsPerHandshake, c.Counts.OK > 0 && c.CPU.ClientUsPerHandshake > 0
	}, 0},
	MetricTargetCPU: {"target CPU/hs", "µs", false, func(c *results.Case) (float64, bool) {
		return c.CPU.TargetUsPerHandshake, c.Counts.OK > 0 && c.CPU.TargetMeasured
	}, 0},
}

func latencyMetric(field func(*results.Summary) int64) func(*results.Case) (float64, bool) {
	return func(c *results.Case) (float64, bool) {
		s := c.HandshakeLatency()
		if s == nil {
			return 0, false
		}
		return float64(field(s)), true
	}
}

// Verdict is compare's judgement of one metric of one case.
type Verdict string

const (
	// VerdictOK: no change past the threshold (or a significant one
	// smaller than the threshold).
	VerdictOK Verdict = "ok"
	// VerdictRegression: worse past the threshold and, where the samples
	// allow a test, significantly so. Fails the build.
	VerdictRegression Verdict = "regression"
	// VerdictImprovement: better past the threshold, as above.
	VerdictImprovement Verdict = "improvement"
	// VerdictNoise: past the threshold, but the U test says the samples do
	// not differ significantly.
	VerdictNoise Verdict = "noise"
	// VerdictNoData: a side lacks the figure.
	VerdictNoData Verdict = "no data"
)

// Options tune Runs and Files. The zero value uses the defaults.
type Options struct {
	// Thresholds per metric. If nil, DefaultThresholds(). A metric absent
	// from a non-nil map is shown but not judged.
	Thresholds Thresholds
	// Alpha is the significance level of the U test. If zero, 0.05.
	Alpha float64
	// BaseLabel and HeadLabel name the inputs in reports (file names). If
	// empty, "base" and "head".
	BaseLabel, HeadLabel string
}

// Comparison is the verdicts of Runs and Files: per case and metric,
// and in total.
type Comparison struct {
	Base       RunRef           `json:"base"`
	Head       RunRef           `json:"head"`
	Alpha      float64          `json:"alpha"`
	Thresholds Thresholds       `json:"thresholds"`
	Cases      []CaseComparison `json:"cases"`
	// OnlyBase and OnlyHead list cases present on one side only.
	OnlyBase []CaseRef `json:"only_base"`
	OnlyHead []CaseRef `json:"only_head"`
	// Warnings are the statistical caveats, each once, with how many
	// metrics they concern.
	Warnings []string `json:"warnings"`
	// Counts of verdicts over every metric of every matched case.
	Verdicts map[Verdict]int `json:"verdicts"`
}

// RunRef identifies one side of a comparison.
type RunRef struct {
	Label    string    `json:"label"`
	Scenario string    `json:"scenario"`
	Tool     string    `json:"tool"`
	Start    time.Time `json:"start"`
	Cases    int       `json:"cases"`
}

// CaseRef names a case and how many samples (repeats) a side has of it.
type CaseRef struct {
	Key     string `json:"key"`
	Name    string `json:"name"`
	Samples int    `json:"samples"`
}

// CaseComparison is the verdicts on one matched case.
type CaseComparison struct {
	Key         string             `json:"key"`
	Name        string             `json:"name"`
	BaseSamples int                `json:"base_samples"`
	HeadSamples int                `json:"head_samples"`
	Metrics     []MetricComparison `json:"metrics"`
	// Notes are conditions that qualify the figures (a generator-bound
	// side, a failed case, parameters that differ).
	Notes []string `json:"notes,omitempty"`
}

// MetricComparison is one metric of one case on both sides.
type MetricComparison struct {
	Metric Metric `json:"metric"`
	Unit   string `json:"unit"`
	// Base and Head are the medians of the samples.
	Base       float64   `json:"base"`
	Head       float64   `json:"head"`
	BaseValues []float64 `json:"base_values"`
	HeadValues []float64 `json:"head_values"`
	// Delta is Head−Base; DeltaPct the same in percent of Base (absent
	// when Base is zero).
	Delta    float64  `json:"delta"`
	DeltaPct *float64 `json:"delta_pct,omitempty"`
	// P is the U test's p-value; absent when either side has fewer than
	// three samples.
	P         *float64  `json:"p,omitempty"`
	Threshold Threshold `json:"threshold"`
	Verdict   Verdict   `json:"verdict"`
	// Basis says what the verdict rests on: "u-test", "threshold" (too few
	// samples for a test that could reach alpha) or "one sample".
	Basis    string   `json:"basis,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// minTestSamples is how many samples each side needs before compare runs
// the U test at all.
const minTestSamples = 3

// minTailValues is how many handshakes must lie beyond a percentile for it
// to be judged: a p99.9 from 1 500 handshakes is decided by the one or two
// slowest, and moves by 100% between two runs of the same setup. With ten
// values beyond it (1 000 handshakes for p99, 10 000 for p99.9) it is
// stable enough to gate on.
const minTailValues = 10

// tailTooThin reports whether any sample has too few handshakes for the
// metric's percentile, and the smallest count.
func tailTooThin(info metricInfo, sets ...results.Repeats) (thin bool, need, smallest int64) {
	if info.quantile < 90 {
		return false, 0, 0
	}
	// Rounded: 100−99.9 is not exactly 0.1 in floating point.
	need = int64(math.Round(minTailValues * 100 / (100 - info.quantile)))
	smallest = math.MaxInt64
	for _, s := range sets {
		for _, c := range s.Cases {
			if h := c.HandshakeLatency(); h != nil {
				smallest = min(smallest, h.Count)
			}
		}
	}
	return smallest < need, need, smallest
}

// Runs judges head against base, two results already read. A result of
// another schema version is an error wrapping a *results.SchemaError.
func Runs(base, head *results.Run, opts Options) (*Comparison, error) {
	if base == nil || head == nil {
		return nil, errors.New("compare: missing result")
	}
	if opts.BaseLabel == "" {
		opts.BaseLabel = "base"
	}
	if opts.HeadLabel == "" {
		opts.HeadLabel = "head"
	}
	for _, side := range []struct {
		run   *results.Run
		label string
	}{{base, opts.BaseLabel}, {head, opts.HeadLabel}} {
		if side.run.Schema != results.Schema {
			return nil, fmt.Errorf("compare: %w", &results.SchemaError{Source: side.label, Got: side.run.Schema})
		}
	}
	thresholds := opts.Thresholds
	if thresholds == nil {
		thresholds = DefaultThresholds()
	}
	alpha := opts.Alpha
	if alpha == 0 {
		alpha = benchmath.DefaultThresholds.CompareAlpha
	}
	cmp := &Comparison{
		Base: runRef(base, opts.BaseLabel), Head: runRef(head, opts.HeadLabel),
		Alpha: alpha, Thresholds: thresholds, Verdicts: map[Verdict]int{},
		OnlyBase: []CaseRef{}, OnlyHead: []CaseRef{}, Warnings: []string{},
	}
	if base.HasCapacity() || head.HasCapacity() {
		cmp.Warnings = append(cmp.Warnings, "a capacity search's figures are those at its own maximum sustainable rate, which may differ between the sides: "+
			"latency and CPU are compared at different loads; compare the max rates themselves ('mtlsbench report' on each)")
	}
	baseSets, headSets := results.GroupRepeats(base), results.GroupRepeats(head)
	headIndex := map[string]int{}
	for i, s := range headSets {
		headIndex[s.Key] = i
	}
	matched := map[string]bool{}
	warnings := map[string]int{}
	var warningOrder []string
	for _, bs := range baseSets {
		hi, ok := headIndex[bs.Key]
		if !ok {
			cmp.OnlyBase = append(cmp.OnlyBase, CaseRef{bs.Key, bs.Name, len(bs.Cases)})
			continue
		}
		matched[bs.Key] = true
		cc := compareCase(bs, headSets[hi], thresholds, alpha)
		for _, m := range cc.Metrics {
			cmp.Verdicts[m.Verdict]++
			for _, w := range m.Warnings {
				if warnings[w] == 0 {
					warningOrder = append(warningOrder, w)
				}
				warnings[w]++
			}
		}
		cmp.Cases = append(cmp.Cases, cc)
	}
	for _, hs := range headSets {
		if !matched[hs.Key] {
			cmp.OnlyHead = append(cmp.OnlyHead, CaseRef{hs.Key, hs.Name, len(hs.Cases)})
		}
	}
	for _, w := range warningOrder {
		cmp.Warnings = append(cmp.Warnings, fmt.Sprintf("%s (%s)", w, units.Count(warnings[w], "metric")))
	}
	if base.Scenario.Name != head.Scenario.Name {
		cmp.Warnings = append(cmp.Warnings, fmt.Sprintf("base ran scenario %q, head %q: only cases with the same key are compared", base.Scenario.Name, head.Scenario.Name))
	}
	if len(cmp.Cases) == 0 {
		// A gate that compares nothing must not pass: the files are
		// the wrong ones, or the scenario changed under the gate.
		return nil, &NoCommonCaseError{Base: cmp.Base, Head: cmp.Head, OnlyBase: cmp.OnlyBase, OnlyHead: cmp.OnlyHead}
	}
	return cmp, nil
}

// NoCommonCaseError is two results without a case in common: nothing was
// compared, so no verdict can be given (the compare command exits 2: a
// mis-wired gate must not pass).
type NoCommonCaseError struct {
	Base, Head         RunRef
	OnlyBase, OnlyHead []CaseRef
}

func (e *NoCommonCaseError) Error() string {
	side := func(r RunRef, cases []CaseRef) string {
		if len(cases) == 0 {
			return fmt.Sprintf("%s has no case", r.Label)
		}
		return fmt.Sprintf("%s has %s", r.Label, keyList(cases))
	}
	return fmt.Sprintf("compare: no case in common, nothing to compare: %s; %s (cases match by key: the same scenario and parameters on both sides)",
		side(e.Base, e.OnlyBase), side(e.Head, e.OnlyHead))
}

// keyList names up to five cases by key, and how many more there are.
func keyList(cases []CaseRef) string {
	const most = 5
	keys := make([]string, 0, most)
	for i, c := range cases {
		if i == most {
			break
		}
		keys = append(keys, c.Key)
	}
	s := strings.Join(keys, ", ")
	if len(cases) > most {
		s += fmt.Sprintf(" and %d more", len(cases)-most)
	}
	return s
}

// Files reads two result files and judges them as Runs does, labelled by
// their paths unless opts names them; read failures are *results.ReadError
// (bad input).
func Files(basePath, headPath string, opts Options) (*Comparison, error) {
	base, err := results.ReadFile(basePath)
	if err != nil {
		return nil, err
	}
	head, err := results.ReadFile(headPath)
	if err != nil {
		return nil, err
	}
	if opts.BaseLabel == "" {
		opts.BaseLabel = basePath
	}
	if opts.HeadLabel == "" {
		opts.HeadLabel = headPath
	}
	return Runs(base, head, opts)
}

func runRef(run *results.Run, label string) RunRef {
	return RunRef{
		Label: label, Scenario: run.Scenario.Name,
		Tool:  strings.TrimSpace(run.Tool.Name + " " + run.Tool.Version),
		Start: run.Start, Cases: len(run.Cases),
	}
}

// Regressed reports whether any metric of any case regressed.
func (c *Comparison) Regressed() bool { return c.Verdicts[VerdictRegression] > 0 }

// ExitCode is the exit status the compare command uses: 1 when a metric
// regressed, else 0.
func (c *Comparison) ExitCode() int {
	if c.Regressed() {
		return 1
	}
	return 0
}

// Regressions lists each case that regressed with its metrics, e.g.
// "tls1.3-full-ecdsa-p256-x25519 (p50, p99)", for messages.
func (c *Comparison) Regressions() []string {
	var out []string
	for _, cc := range c.Cases {
		var metrics []string
		for _, m := range cc.Metrics {
			if m.Verdict == VerdictRegression {
				metrics = append(metrics, string(m.Metric))
			}
		}
		if len(metrics) > 0 {
			out = append(out, cc.Name+" ("+strings.Join(metrics, ", ")+")")
		}
	}
	return out
}

func compareCase(base, head results.Repeats, thresholds Thresholds, alpha float64) CaseComparison {
	cc := CaseComparison{Key: base.Key, Name: base.Name, BaseSamples: len(base.Cases), HeadSamples: len(head.Cases)}
	for _, m := range Metrics {
		cc.Metrics = append(cc.Metrics, compareMetric(m, base, head, thresholds, alpha))
	}
	cc.Notes = caseNotesForCompare(base, head)
	return cc
}

func samples(s results.Repeats, info metricInfo) []float64 {
	var values []float64
	for _, c := range s.Cases {
		if v, ok := info.value(c); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			values = append(values, v)
		}
	}
	return values
}

func compareMetric(m Metric, base, head results.Repeats, thresholds Thresholds, alpha float64) MetricComparison {
	info := metricInfos[m]
	th, judged := thresholds[m]
	if th.Off {
		judged = false
	}
	mc := MetricComparison{Metric: m, Unit: info.unit, Threshold: th}
	if !judged {
		mc.Threshold = Threshold{Off: true}
	}
	bv, hv := samples(base, info), samples(head, info)
	mc.BaseValues, mc.HeadValues = nonNil(bv), nonNil(hv)
	if len(bv) == 0 || len(hv) == 0 {
		mc.Verdict = VerdictNoData
		return mc
	}
	mc.Base, mc.Head = results.Median(bv), results.Median(hv)
	mc.Delta = mc.Head - mc.Base
	if mc.Base != 0 {
		pct := 100 * mc.Delta / math.Abs(mc.Base)
		mc.DeltaPct = &pct
	}
	// worse is how much worse head is, in the metric's unit: positive for
	// a regression whichever way the metric points.
	worse := mc.Delta
	if info.higherBetter {
		worse = -worse
	}
	regressed := judged && th.exceeded(worse, mc.Base)
	improved := judged && th.exceeded(-worse, mc.Base)
	if thin, need, smallest := tailTooThin(info, base, head); thin && judged {
		// Too few values beyond the percentile: show it, never fail on it.
		mc.Basis = "too few handshakes"
		mc.Warnings = append(mc.Warnings, fmt.Sprintf("%s is not judged below %d handshakes per sample (%d values beyond it); the smallest sample has %d: run longer", m, need, minTailValues, smallest))
		mc.Verdict = VerdictOK
		if regressed || improved {
			mc.Verdict = VerdictNoise
		}
		return mc
	}
	byThreshold := func() Verdict {
		switch {
		case regressed:
			return VerdictRegression
		case improved:
			return VerdictImprovement
		default:
			return VerdictOK
		}
	}
	n1, n2 := len(bv), len(hv)
	if n1 < minTestSamples || n2 < minTestSamples {
		mc.Verdict = byThreshold()
		if n1 == 1 && n2 == 1 {
			mc.Basis = "one sample"
			mc.Warnings = append(mc.Warnings, fmt.Sprintf("the verdict rests on one sample per side: repeat each case %d times on both sides for a significance test", samplesForAlpha(alpha)))
		} else {
			mc.Basis = "threshold"
			mc.Warnings = append(mc.Warnings, fmt.Sprintf("%d+%d samples: no significance test below %d per side; the verdict rests on thresholds on the medians (repeat %d times for a test)", n1, n2, minTestSamples, samplesForAlpha(alpha)))
		}
		return mc
	}
	if allEqual(bv, hv) {
		// Nothing to test (e.g. no errors on either side): the U test
		// would only warn that all samples are equal.
		mc.Basis = "u-test"
		mc.Verdict = VerdictOK
		return mc
	}
	th2 := benchmath.DefaultThresholds
	th2.CompareAlpha = alpha
	res := benchmath.AssumeNothing.Compare(benchmath.NewSample(append([]float64(nil), bv...), &th2), benchmath.NewSample(append([]float64(nil), hv...), &th2))
	p := res.P
	mc.P = &p
	for _, w := range res.Warnings {
		mc.Warnings = append(mc.Warnings, w.Error())
	}
	significant := res.P <= alpha
	switch {
	case significant:
		mc.Basis = "u-test"
		mc.Verdict = byThreshold()
	case minUTestP(n1, n2) > alpha:
		// No difference could reach alpha with so few samples: the test
		// cannot tell, so the thresholds decide, as with one sample.
		mc.Basis = "threshold"
		mc.Verdict = byThreshold()
		mc.Warnings = append(mc.Warnings, fmt.Sprintf("with %d+%d samples no difference can reach α=%g: the verdict rests on thresholds on the medians", n1, n2, alpha))
	default:
		mc.Basis = "u-test"
		mc.Verdict = VerdictOK
		if regressed || improved {
			mc.Verdict = VerdictNoise
		}
	}
	return mc
}

func allEqual(a, b []float64) bool {
	for _, v := range append(append([]float64(nil), a...), b...) {
		if v != a[0] {
			return false
		}
	}
	return true
}

func nonNil(v []float64) []float64 {
	if v == nil {
		return []float64{}
	}
	return v
}

// minUTestP is the smallest two-sided p-value a Mann–Whitney U test can
// give for samples of sizes n1 and n2 (complete separation, no ties):
// 2 / C(n1+n2, n1). For 3+3 it is 0.1, so nothing reaches 0.05.
func minUTestP(n1, n2 int) float64 {
	c := 1.0
	for i := 1; i <= n1; i++ {
		c = c * float64(n2+i) / float64(i)
	}
	return math.Min(1, 2/c)
}

// samplesForAlpha is the smallest equal sample size whose U test can reach
// alpha.
func samplesForAlpha(alpha float64) int {
	n := 2
	for minUTestP(n, n) > alpha && n < 100 {
		n++
	}
	return n
}

// caseNotesForCompare says what qualifies a matched case's figures.
func caseNotesForCompare(base, head results.Repeats) []string {
	var notes []string
	for _, side := range []struct {
		name string
		set  results.Repeats
	}{{"base", base}, {"head", head}} {
		statuses := map[results.Status]int{}
		gen := 0
		for _, c := range side.set.Cases {
			if c.Status != results.StatusOK && c.Status != "" {
				statuses[c.Status]++
			}
			if c.GeneratorBound {
				gen++
			}
		}
		for _, st := range []results.Status{results.StatusFailed, results.StatusCrosscheckFailed, results.StatusInterrupted} {
			if n := statuses[st]; n > 0 {
				notes = append(notes, fmt.Sprintf("%s: %d of %d samples %s", side.name, n, len(side.set.Cases), st))
			}
		}
		if gen > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d of %d samples generator-bound (the figures describe the generator)", side.name, gen, len(side.set.Cases)))
		}
	}
	bp, hp := base.Cases[0].Params, head.Cases[0].Params
	var diffs []string
	for _, name := range results.ParamNames() {
		bv, _ := bp.Lookup(name)
		hv, _ := hp.Lookup(name)
		if bv != hv {
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", name, orDash(bv), orDash(hv)))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		notes = append(notes, "parameters differ: "+strings.Join(diffs, ", "))
	}
	return notes
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
