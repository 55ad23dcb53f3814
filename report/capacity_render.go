package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// This file renders capacity searches: a summary row per case (the answer,
// the SLO figures at it, where it broke, the knee, server CPU), the
// projection of server cores, and each case's search path. The text and
// markdown renderers show these instead of the plain case table; the HTML
// report adds them, with a latency-vs-rate chart per case, above its usual
// sections.

// capacityCase pairs a case with its label.
type capacityCase struct {
	label string
	c     *results.Case
	cap   *results.Capacity
}

func capacityCases(run *results.Run, labels []string) []capacityCase {
	var out []capacityCase
	for i := range run.Cases {
		if cp := run.Cases[i].Capacity; cp != nil {
			out = append(out, capacityCase{labels[i], &run.Cases[i], cp})
		}
	}
	return out
}

// capacityLine says how the searches were run: the SLO and the steps.
func capacityLine(cases []capacityCase) string {
	if len(cases) == 0 {
		return ""
	}
	cp := cases[0].cap
	line := "Capacity search: SLO " + cp.SLO
	if s := cp.Search; s.StepDurationS > 0 {
		line += fmt.Sprintf(" · %s steps", formatSeconds(s.StepDurationS))
		if s.StepWarmupS > 0 {
			line += fmt.Sprintf(" after %s warm-up each", formatSeconds(s.StepWarmupS))
		}
		line += fmt.Sprintf(" · rates %s–%s/s, ×%s growth, %s resolution", units.AskedRate(s.StartRate), units.AskedRate(s.MaxRate),
			strconv.FormatFloat(s.Growth, 'f', -1, 64), strconv.FormatFloat(s.Resolution*100, 'f', -1, 64)+"%")
	}
	return line
}

func formatSeconds(s float64) string {
	return strconv.FormatFloat(s, 'f', -1, 64) + "s"
}

// capacityRateCell writes the answer: "1063/s", "≥ 800/s" for a lower
// bound (never a capacity figure), "none".
func capacityRateCell(cp *results.Capacity) string {
	switch {
	case cp.MaxSustainableRate == 0:
		return "none"
	case cp.Verdict != "capacity":
		return "≥ " + units.AskedRate(cp.MaxSustainableRate) + "/s"
	}
	return units.AskedRate(cp.MaxSustainableRate) + "/s"
}

func verdictCell(cp *results.Capacity) string {
	if cp.Verdict == "lower_bound" {
		return "lower bound (" + strings.ReplaceAll(cp.StopReason, "_", " ") + ")"
	}
	return cp.Verdict
}

// firstFailingCell writes "1125/s: p99 72.1ms".
func firstFailingCell(cp *results.Capacity) string {
	if cp.FirstFailingRate == 0 {
		return "–"
	}
	cell := units.AskedRate(cp.FirstFailingRate) + "/s"
	if len(cp.FirstFailingTerms) > 0 {
		var terms []string
		for _, t := range cp.FirstFailingTerms {
			// "p99 72.1ms (SLO p99<50ms)" → "p99 72.1ms"
			terms = append(terms, strings.TrimSpace(strings.SplitN(t, " (SLO", 2)[0]))
		}
		cell += ": " + strings.Join(terms, ", ")
	}
	return cell
}

// kneeCell writes "800–1600/s" (between the knee and the rate where the
// median doubled) or "≥ 1600/s" when it never did.
func kneeCell(cp *results.Capacity) string {
	k := cp.Knee
	switch {
	case k == nil:
		return "–"
	case k.AboveRate == 0:
		return "≥ " + units.AskedRate(k.Rate) + "/s"
	}
	return units.AskedRate(k.Rate) + "–" + units.AskedRate(k.AboveRate) + "/s"
}

func latencyAt(st *results.CapacityStep, metric string) string {
	if st == nil || st.Attempted == 0 {
		return "–"
	}
	switch metric {
	case "p50":
		return units.Latency(float64(st.P50Us))
	case "p99.9":
		return units.Latency(float64(st.P999Us))
	}
	return units.Latency(float64(st.P99Us))
}

func errorRateCell(st *results.CapacityStep) string {
	if st == nil {
		return "–"
	}
	return units.Percent(st.Errors, st.Attempted)
}

func cpuUsCell(us float64) string {
	if us <= 0 {
		return "–"
	}
	return units.Rate(us)
}

// textName is a case's label with its markers, as the text table shows
// them: "name [G]".
func textName(label string, c *results.Case) string {
	if flags := caseFlags(c); len(flags) > 0 {
		return label + " [" + strings.Join(flags, "") + "]"
	}
	return label
}

// capacitySummaryRows is one row per case; name writes the case column.
func capacitySummaryRows(cases []capacityCase, name func(label string, c *results.Case) string) (header []string, rows [][]string) {
	header = []string{"case", "max rate", "verdict", "p99 at max", "errors", "first failing", "knee", "server µs/hs", "hs/s per core"}
	for _, cc := range cases {
		cp := cc.cap
		rows = append(rows, []string{
			name(cc.label, cc.c), capacityRateCell(cp), verdictCell(cp), latencyAt(cp.AtMax, "p99"), errorRateCell(cp.AtMax),
			firstFailingCell(cp), kneeCell(cp), cpuUsCell(cp.TargetUsPerHandshake), cpuUsCell(cp.PerCoreRate),
		})
	}
	return header, rows
}

// projectedRates lists every rate projected in any case, in order.
func projectedRates(cases []capacityCase) []float64 {
	seen := map[float64]bool{}
	var rates []float64
	for _, cc := range cases {
		for _, p := range cc.cap.Projections {
			if !seen[p.Rate] {
				seen[p.Rate] = true
				rates = append(rates, p.Rate)
			}
		}
	}
	sort.Float64s(rates)
	return rates
}

// projectionRows is one row per case: its CPU figure and the cores each
// rate needs, "10.8 → 11".
func projectionRows(cases []capacityCase) (header []string, rows [][]string) {
	rates := projectedRates(cases)
	if len(rates) == 0 {
		return nil, nil
	}
	header = []string{"case", "server µs/hs", "hs/s per core"}
	for _, r := range rates {
		header = append(header, "cores for "+units.AskedRate(r)+"/s")
	}
	for _, cc := range cases {
		row := []string{cc.label, cpuUsCell(cc.cap.TargetUsPerHandshake), cpuUsCell(cc.cap.PerCoreRate)}
		for _, r := range rates {
			cell := "–"
			for _, p := range cc.cap.Projections {
				if p.Rate == r {
					cell = formatCores(p.Cores) + " → " + strconv.Itoa(p.WholeCores)
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return header, rows
}

func formatCores(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// projectionNote states the assumption and the machine it was measured on.
func projectionNote(run *results.Run, cases []capacityCase) string {
	assumption := ""
	for _, cc := range cases {
		if cc.cap.ProjectionAssumption != "" {
			assumption = cc.cap.ProjectionAssumption
			break
		}
	}
	if assumption == "" {
		return ""
	}
	note := "Projection: " + assumption + "."
	if m := run.Environment.CPUModel; m != "" {
		note += " Measured on " + m
		if t := run.Environment.TargetCPUs; t != "" {
			note += ", target pinned to CPUs " + t
		}
		note += "."
	}
	for _, cc := range cases {
		if cc.cap.Verdict != "capacity" && len(cc.cap.Projections) > 0 {
			note += " A lower-bound case's CPU per handshake is measured as well as any, but its maximum rate is not its capacity."
			break
		}
	}
	return note
}

// stepHeader and stepRow describe one step of a search path.
var stepHeader = []string{"#", "phase", "rate", "achieved", "p50", "p99", "errors", "client cpu", "cpus busy", "server cores", "server µs/hs", "result"}

func stepRow(i int, st *results.CapacityStep) []string {
	result := "ok"
	if !st.Passed {
		result = strings.Join(st.Violations, "; ")
	}
	if st.Status != results.StatusOK && st.Status != "" {
		result += " [" + string(st.Status) + "]"
	}
	if st.GeneratorBound {
		result += " [generator bound]"
	}
	if st.Disturbed {
		result += fmt.Sprintf(" [disturbed: other work %.1f cores]", st.OtherCores)
	}
	busy, server := "–", "–"
	if st.GeneratorCPUsBusy > 0 {
		busy = strconv.FormatFloat(math.Round(st.GeneratorCPUsBusy*100), 'f', 0, 64) + "%"
	}
	if st.TargetUtilization > 0 {
		server = strconv.FormatFloat(st.TargetUtilization, 'f', 2, 64)
	}
	return []string{
		strconv.Itoa(i + 1), st.Phase, units.AskedRate(st.Rate), units.MeasuredRate(st.AchievedRate),
		latencyAt(st, "p50"), latencyAt(st, "p99"), errorRateCell(st),
		strconv.FormatFloat(math.Round(st.ClientUtilization*100), 'f', 0, 64) + "%", busy, server,
		cpuUsCell(st.TargetUsPerHandshake), result,
	}
}

// stepLeft and summaryLeft are the columns of the step and summary tables
// aligned left: words, not figures.
var (
	stepLeft    = []int{1, len(stepHeader) - 1}
	summaryLeft = []int{0, 2, 5}
)

// renderCapacityTable is the terminal view of a capacity run: the summary,
// the projection, each search path, then the notes.
func renderCapacityTable(w io.Writer, run *results.Run, opts RenderOptions) error {
	labels, _ := caseLabels(run, false)
	var out bytes.Buffer
	fmt.Fprintln(&out, runLine(run))
	cases := capacityCases(run, labels)
	summaryHeader, summary := capacitySummaryRows(cases, textName)
	table, err := TextTable{Header: summaryHeader, Left: summaryLeft, Rows: summary}.Render()
	if err != nil {
		return err
	}
	common := ""
	if maxLineWidth(table) > opts.width() {
		if short, words := caseLabels(run, true); words != "" {
			labels, common = short, words
			cases = capacityCases(run, labels)
			summaryHeader, summary = capacitySummaryRows(cases, textName)
			if table, err = (TextTable{Header: summaryHeader, Left: summaryLeft, Rows: summary}).Render(); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(&out, "%s\n\n", capacityLine(cases))
	out.Write(table)
	if common != "" {
		fmt.Fprintf(&out, "Every case name above also has %q.\n", common)
	}
	fmt.Fprintln(&out, "max rate: the highest rate meeting the SLO (≥: a lower bound, not a capacity); latency from the intended start; knee: where median latency doubled.")

	if header, rows := projectionRows(cases); rows != nil {
		table, err := TextTable{Header: header, Left: []int{0}, Rows: rows}.Render()
		if err != nil {
			return err
		}
		fmt.Fprintln(&out)
		out.Write(table)
		fmt.Fprintln(&out, projectionNote(run, cases))
	}
	for _, cc := range cases {
		fmt.Fprintf(&out, "\n%s: %s\n", cc.label, cc.cap.Explanation)
		rows := make([][]string, len(cc.cap.Steps))
		for i := range cc.cap.Steps {
			rows[i] = stepRow(i, &cc.cap.Steps[i])
		}
		table, err := TextTable{Header: stepHeader, Left: stepLeft, Rows: rows}.Render()
		if err != nil {
			return err
		}
		out.Write(table)
	}
	writeCapacityNotes(&out, run, labels)
	_, err = w.Write(out.Bytes())
	return err
}

// writeCapacityNotes writes the markers' legend, failures, warnings and
// errors as the case table's notes do, without the per-interval trend: a
// search's intervals are only those of the step at its answer.
func writeCapacityNotes(w io.Writer, run *results.Run, labels []string) {
	for _, i := range usedFlags(run) {
		fmt.Fprintf(w, "[%s] %s: %s\n", flagLegend[i].flag, flagLegend[i].name, flagLegend[i].meaning)
	}
	failures, warnings, errs := caseNotes(run, labels)
	writeTextList(w, "Failures", failures)
	writeTextList(w, "Warnings", warnings)
	writeTextList(w, "Errors", errs)
}

// renderCapacityMarkdown is the markdown view of a capacity run.
func renderCapacityMarkdown(w io.Writer, run *results.Run, opts RenderOptions) error {
	labels, _ := caseLabels(run, false)
	cases := capacityCases(run, labels)
	var b bytes.Buffer
	fmt.Fprintf(&b, "### %s\n\n", MarkdownText(opts.title(run)))
	fmt.Fprintf(&b, "%s\n\n", MarkdownText(strings.ReplaceAll(runLine(run), "\n", " ")))
	fmt.Fprintf(&b, "%s\n\n", MarkdownText(capacityLine(cases)))
	header, rows := capacitySummaryRows(cases, func(label string, c *results.Case) string {
		name := MarkdownCode(label)
		if flags := caseFlags(c); len(flags) > 0 {
			var names []string
			for _, f := range flags {
				names = append(names, flagName(f))
			}
			name += " **⚠ " + strings.Join(names, ", ") + "**"
		}
		return name
	})
	mdTable(&b, header, []bool{true, false, true, false, false, true, false, false, false}, rows)
	b.WriteString("\n*max rate*: the highest rate meeting the SLO (≥: a lower bound, not a capacity); latency from the intended start; *knee*: where median latency doubled.\n")
	if header, rows := projectionRows(cases); rows != nil {
		b.WriteString("\n")
		left := make([]bool, len(header))
		left[0] = true
		for _, r := range rows {
			r[0] = MarkdownCode(r[0])
		}
		mdTable(&b, header, left, rows)
		fmt.Fprintf(&b, "\n%s\n", MarkdownText(projectionNote(run, cases)))
	}
	for _, cc := range cases {
		fmt.Fprintf(&b, "\n%s: %s\n\n", MarkdownCode(cc.label), MarkdownText(cc.cap.Explanation))
		rows := make([][]string, len(cc.cap.Steps))
		for i := range cc.cap.Steps {
			rows[i] = stepRow(i, &cc.cap.Steps[i])
		}
		left := make([]bool, len(stepHeader))
		left[1], left[len(left)-1] = true, true
		mdTable(&b, stepHeader, left, rows)
	}
	failures, warnings, errs := caseNotes(run, labels)
	mdList(&b, "Failures", failures)
	mdList(&b, "Warnings", warnings)
	mdList(&b, "Errors", errs)
	_, err := w.Write(b.Bytes())
	return err
}

// mdTable writes a markdown table; left marks left-aligned columns. Cells
// that start with a code span are markdown already; others are escaped.
func mdTable(b *bytes.Buffer, header []string, left []bool, rows [][]string) {
	b.WriteString(MarkdownRow(header...))
	align := make([]string, len(header))
	for i := range align {
		align[i] = "---:"
		if i < len(left) && left[i] {
			align[i] = ":---"
		}
	}
	b.WriteString(MarkdownRow(align...))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = c
			if !strings.HasPrefix(c, "`") {
				cells[i] = MarkdownText(c)
			}
		}
		b.WriteString(MarkdownRow(cells...))
	}
}
