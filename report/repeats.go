package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// The case tables (text, markdown, HTML) show one row per case. A case
// that ran several times (repeats) reads as hyperfine shows a command's
// runs: the mean ± the standard deviation across the repeats, and their
// min…max, for handshakes/s, p50 and p99; the other columns are the
// repeats together (counts summed, CPU and bytes averaged). The notes
// under a table still name each repeat ("#2").

// caseRow is one row of a case table.
type caseRow struct {
	// label is the case's name as the table shows it.
	label string
	// cases are the repeats, in run order; one for a case run once.
	cases []*results.Case
	// sum is the repeats as one case for the columns that add up: counts
	// and errors summed, rates, CPU and bytes averaged. For a single
	// repeat it is that case itself.
	sum *results.Case
}

// caseRows groups run's cases into rows, one per case (results.GroupRepeats),
// labelled by name; with shorten, the words every name shares are
// dropped and returned as common (see shortenLabels).
func caseRows(run *results.Run, shorten bool) (rows []caseRow, common string) {
	sets := results.GroupRepeats(run)
	names := make([]string, len(sets))
	for i, s := range sets {
		names[i] = s.Name
	}
	if shorten {
		if short, words, ok := shortenLabels(names); ok {
			names, common = short, words
		}
	}
	for i, s := range sets {
		rows = append(rows, caseRow{label: names[i], cases: s.Cases, sum: sumRepeats(s.Cases)})
	}
	return rows, common
}

// repeated reports whether any row holds more than one repeat.
func repeated(rows []caseRow) bool {
	for _, r := range rows {
		if len(r.cases) > 1 {
			return true
		}
	}
	return false
}

// sumRepeats is cases as one case for the columns that add up.
func sumRepeats(cases []*results.Case) *results.Case {
	if len(cases) == 1 {
		return cases[0]
	}
	sum := *cases[0]
	sum.Counts = results.Counts{}
	sum.Errors = map[string]int64{}
	sum.GeneratorBound = false
	var clientCPU, targetCPU, sent, received, rate float64
	for _, c := range cases {
		sum.Counts.Add(c.Counts)
		for class, n := range c.Errors {
			sum.Errors[class] += n
		}
		sum.GeneratorBound = sum.GeneratorBound || c.GeneratorBound
		sum.CPU.TargetMeasured = sum.CPU.TargetMeasured && c.CPU.TargetMeasured
		clientCPU += c.CPU.ClientUsPerHandshake
		targetCPU += c.CPU.TargetUsPerHandshake
		sent += c.Bytes.HandshakeSentMean
		received += c.Bytes.HandshakeReceivedMean
		rate += c.HandshakesPerS
	}
	n := float64(len(cases))
	sum.CPU.ClientUsPerHandshake, sum.CPU.TargetUsPerHandshake = clientCPU/n, targetCPU/n
	sum.Bytes.HandshakeSentMean, sum.Bytes.HandshakeReceivedMean = sent/n, received/n
	sum.HandshakesPerS = rate / n
	return &sum
}

// flags are the markers of every repeat of the row, in legend order.
func (r caseRow) flags() []string {
	has := map[string]bool{}
	for _, c := range r.cases {
		for _, f := range caseFlags(c) {
			has[f] = true
		}
	}
	var out []string
	for _, l := range flagLegend {
		if has[l.flag] {
			out = append(out, l.flag)
		}
	}
	return out
}

// spread is one figure across repeats.
type spread struct {
	n                  int
	mean, sd, min, max float64
}

// spreadOf gathers figure over the cases for which it exists (ok).
func spreadOf(cases []*results.Case, figure func(*results.Case) (v float64, ok bool)) spread {
	var values []float64
	for _, c := range cases {
		if v, ok := figure(c); ok {
			values = append(values, v)
		}
	}
	s := spread{n: len(values)}
	if s.n == 0 {
		return s
	}
	s.min, s.max = minMax(values)
	for _, v := range values {
		s.mean += v
	}
	s.mean /= float64(s.n)
	if s.n > 1 {
		var sq float64
		for _, v := range values {
			sq += (v - s.mean) * (v - s.mean)
		}
		s.sd = math.Sqrt(sq / float64(s.n-1)) // the sample standard deviation, as hyperfine's σ
	}
	return s
}

// rate writes handshakes/s as "1566 ± 397" and "1285…1846"; a single
// value as it is, with no range.
func (s spread) rate() (meanSD, span string) {
	switch s.n {
	case 0:
		return "–", ""
	case 1:
		return units.Rate(s.mean), ""
	}
	return units.Rate(s.mean) + " ± " + units.Rate(s.sd), units.Rate(s.min) + "…" + units.Rate(s.max)
}

// latency writes µs figures in the unit of the mean: "2.32 ± 0.59ms" and
// "1.90…2.74ms"; a single value as units.Latency does, with no range.
func (s spread) latency() (meanSD, span string) {
	switch s.n {
	case 0:
		return "–", ""
	case 1:
		return units.Latency(s.mean), ""
	}
	scale, unit, digits := latencyUnit(s.mean)
	f := func(us float64) string { return strconv.FormatFloat(us/scale, 'f', digits, 64) }
	return f(s.mean) + " ± " + f(s.sd) + unit, f(s.min) + "…" + f(s.max) + unit
}

// latencyUnit is the unit and precision units.Latency writes us in.
func latencyUnit(us float64) (scale float64, unit string, digits int) {
	switch {
	case us < 1000:
		return 1, "µs", 0
	case us < 10_000:
		return 1000, "ms", 2
	case us < 100_000:
		return 1000, "ms", 1
	case us < 1_000_000:
		return 1000, "ms", 0
	default:
		return 1e6, "s", 2
	}
}

// joinSpread writes a spread in one cell: "1566 ± 397 (1285…1846)".
func joinSpread(meanSD, span string) string {
	if span == "" {
		return meanSD
	}
	return fmt.Sprintf("%s (%s)", meanSD, span)
}

// rateSpread, p50Spread, p99Spread and p999Spread are the row's figures
// across its repeats.
func (r caseRow) rateSpread() spread {
	return spreadOf(r.cases, func(c *results.Case) (float64, bool) { return c.HandshakesPerS, true })
}

func (r caseRow) latencySpread(get func(*results.Summary) int64) spread {
	return spreadOf(r.cases, func(c *results.Case) (float64, bool) {
		s := headlineLatency(c)
		if s == nil {
			return 0, false
		}
		return float64(get(s)), true
	})
}

func (r caseRow) p50Spread() spread {
	return r.latencySpread(func(s *results.Summary) int64 { return s.P50Us })
}

func (r caseRow) p99Spread() spread {
	return r.latencySpread(func(s *results.Summary) int64 { return s.P99Us })
}

// p999 is p99.9: the mean across repeats.
func (r caseRow) p999() string {
	s := r.latencySpread(func(s *results.Summary) int64 { return s.P999Us })
	if s.n == 0 {
		return "–"
	}
	return units.Latency(s.mean)
}

// spreadNote says how a table writes the figures of repeated cases; ""
// when no case repeats.
func spreadNote(rows []caseRow) string {
	if !repeated(rows) {
		return ""
	}
	return "Cases that ran more than once: handshakes/s, p50 and p99 are the mean ± standard deviation (min…max) over their repeats; p99.9, CPU and bytes the mean; resumed and errors over all repeats."
}

// trend is the row's handshakes/s sparkline: one per repeat that has an
// interval series, separated by a space.
func (r caseRow) trend(width int) string {
	out := ""
	for _, c := range r.cases {
		if len(trendIntervals(c)) < 2 {
			continue
		}
		if out != "" {
			out += " "
		}
		out += sparkline(intervalRates(c), width)
	}
	return out
}

// slo is the row's verdict against the run's --slo for the tables: "" when
// no repeat was judged, "met" when every judged repeat met it, else the
// broken terms' metrics ("broke p99, errors"), with how many repeats
// broke it when there were several ("broke p99 (2 of 3)").
func (r caseRow) slo() string {
	judged, broken := 0, 0
	var metrics []string
	for _, c := range r.cases {
		if c.SLO == nil {
			continue
		}
		judged++
		if c.SLO.Met {
			continue
		}
		broken++
		for _, metric := range c.SLO.BrokenMetrics() {
			if !slices.Contains(metrics, metric) {
				metrics = append(metrics, metric)
			}
		}
	}
	switch {
	case judged == 0:
		return ""
	case broken == 0:
		return "met"
	case judged > 1:
		return fmt.Sprintf("broke %s (%d of %d)", strings.Join(metrics, ", "), broken, judged)
	}
	return "broke " + strings.Join(metrics, ", ")
}

// judged reports whether any row has an SLO verdict, so that the tables
// show the SLO column only for a run given one.
func judged(rows []caseRow) bool {
	for _, r := range rows {
		if r.slo() != "" {
			return true
		}
	}
	return false
}

// sloTitle heads sloNotes. Its latency terms judge the whole connection
// (results.Case.JudgeSLO), which the table's handshake columns do not show.
const sloTitle = "SLO broken (latency terms judge connect + handshake + requests)"

// sloNotes lists, per case that broke its SLO, each broken term with the
// value measured and the term ("p99 72.1ms (SLO p99<50ms)").
func sloNotes(run *results.Run, labels []string) []note {
	var notes []note
	for i := range run.Cases {
		if v := run.Cases[i].SLO; v != nil && !v.Met {
			notes = append(notes, note{labels[i], strings.Join(v.Broken, "; ")})
		}
	}
	return notes
}
