package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/report"
	"github.com/mtlsbench/mtlsbench/results"
)

// Formats are the formats Render writes.
var Formats = []report.Format{report.FormatTable, report.FormatMarkdown, report.FormatJSON}

// Render writes cmp as a text table, GitHub markdown (for a PR comment)
// or JSON.
func Render(w io.Writer, cmp *Comparison, format report.Format) error {
	switch format {
	case report.FormatTable:
		return compareTable(w, cmp)
	case report.FormatMarkdown:
		return compareMarkdown(w, cmp)
	case report.FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(cmp); err != nil {
			return fmt.Errorf("compare: encode: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("compare: %w", &report.FormatError{Name: string(format), Allowed: Formats})
	}
}

// RenderFile renders cmp into path atomically.
func RenderFile(path string, cmp *Comparison, format report.Format) error {
	return results.WriteFileAtomic(path, func(w io.Writer) error { return Render(w, cmp, format) })
}

// formatMetric writes a value in its metric's unit.
func formatMetric(unit string, v float64) string {
	switch unit {
	case "µs":
		return units.Latency(v)
	case "pp":
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	default:
		return units.Rate(v)
	}
}

// formatDelta writes the change: in percent when the base is not zero
// (percentage points for the error rate), else in the metric's unit.
func formatDelta(m MetricComparison) string {
	if m.Verdict == VerdictNoData {
		return "–"
	}
	if m.Unit == "pp" {
		return signed(strconv.FormatFloat(m.Delta, 'f', 2, 64)) + "pp"
	}
	if m.DeltaPct == nil {
		if m.Delta == 0 {
			return "0%"
		}
		return signed(formatMetric(m.Unit, m.Delta))
	}
	return signed(strconv.FormatFloat(*m.DeltaPct, 'f', 1, 64)) + "%"
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") || s == "0" || s == "0.0" || s == "0.00" {
		return s
	}
	return "+" + s
}

func formatSide(m MetricComparison, v float64, n int) string {
	if n == 0 {
		return "–"
	}
	return formatMetric(m.Unit, v)
}

func verdictText(v Verdict) string {
	if v == VerdictRegression {
		return "REGRESSION"
	}
	return string(v)
}

func testText(m MetricComparison) string {
	if m.P == nil {
		return ""
	}
	return "p=" + strconv.FormatFloat(*m.P, 'f', 3, 64)
}

func samplesText(cc CaseComparison) string {
	return fmt.Sprintf("n=%d+%d", cc.BaseSamples, cc.HeadSamples)
}

func compareTable(w io.Writer, cmp *Comparison) error {
	var out bytes.Buffer
	fmt.Fprintf(&out, "base: %s\nhead: %s\n", describeRef(cmp.Base), describeRef(cmp.Head))
	if len(cmp.Cases) > 0 {
		table := report.TextTable{Header: []string{"case / metric", "base", "head", "delta", "verdict", "test"}, Left: []int{0, 4, 5}, KeepIndent: true}
		for _, cc := range cmp.Cases {
			table.Rows = append(table.Rows, []string{cc.Name, "", "", "", "", samplesText(cc)})
			for _, m := range cc.Metrics {
				table.Rows = append(table.Rows, []string{"  " + metricInfos[m.Metric].label, formatSide(m, m.Base, len(m.BaseValues)), formatSide(m, m.Head, len(m.HeadValues)), formatDelta(m), verdictText(m.Verdict), testText(m)})
			}
		}
		text, err := table.Render()
		if err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		out.Write(text)
	}
	writeCompareNotes(&out, cmp, func(s string) string { return s })
	fmt.Fprintf(&out, "\nThresholds: %s (regression = worse past both parts; α=%g when both sides have ≥%d samples).\n", describeThresholds(cmp.Thresholds), cmp.Alpha, minTestSamples)
	fmt.Fprintln(&out, summaryLine(cmp))
	_, err := w.Write(out.Bytes())
	return err
}

func describeRef(r RunRef) string {
	parts := []string{r.Label}
	var detail []string
	if r.Scenario != "" {
		detail = append(detail, "scenario "+r.Scenario)
	}
	detail = append(detail, units.Count(r.Cases, "case"))
	if !r.Start.IsZero() {
		detail = append(detail, r.Start.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if r.Tool != "" {
		detail = append(detail, r.Tool)
	}
	return strings.Join(parts, "") + " (" + strings.Join(detail, ", ") + ")"
}

func describeThresholds(t Thresholds) string {
	var parts []string
	for _, m := range Metrics {
		th, ok := t[m]
		if !ok {
			th = Threshold{Off: true}
		}
		parts = append(parts, string(m)+"="+th.Describe(m))
	}
	return strings.Join(parts, ",")
}

// noteSection is one titled list under a comparison table.
type noteSection struct {
	title string
	items []string
}

// compareNotes lists case notes, one-sided cases and the statistical
// warnings; code formats a case name for the output.
func compareNotes(cmp *Comparison, code func(string) string) []noteSection {
	var notes []string
	for _, cc := range cmp.Cases {
		for _, n := range cc.Notes {
			notes = append(notes, code(cc.Name)+": "+n)
		}
	}
	refs := func(rs []CaseRef) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s (%s)", code(r.Name), units.Count(r.Samples, "sample")))
		}
		return out
	}
	var sections []noteSection
	for _, s := range []noteSection{
		{"Notes", notes},
		{"Only in " + cmp.Base.Label + " (base; not compared)", refs(cmp.OnlyBase)},
		{"Only in " + cmp.Head.Label + " (head; not compared)", refs(cmp.OnlyHead)},
		{"Statistics", cmp.Warnings},
	} {
		if len(s.items) > 0 {
			sections = append(sections, s)
		}
	}
	return sections
}

func writeCompareNotes(w io.Writer, cmp *Comparison, code func(string) string) {
	for _, s := range compareNotes(cmp, code) {
		fmt.Fprintf(w, "\n%s:\n", s.title)
		for _, it := range s.items {
			fmt.Fprintf(w, "- %s\n", it)
		}
	}
}

// summaryLine is the verdict of the whole comparison in one line.
func summaryLine(cmp *Comparison) string {
	if len(cmp.Cases) == 0 {
		return "No case is in both results: nothing compared. Exit status 0."
	}
	counts := []string{}
	for _, v := range []Verdict{VerdictRegression, VerdictImprovement, VerdictNoise, VerdictOK, VerdictNoData} {
		if n := cmp.Verdicts[v]; n > 0 {
			counts = append(counts, fmt.Sprintf("%s %d", v, n))
		}
	}
	tally := fmt.Sprintf("%s; metrics: %s.", units.Count(len(cmp.Cases), "matched case"), strings.Join(counts, ", "))
	if regs := cmp.Regressions(); len(regs) > 0 {
		return fmt.Sprintf("REGRESSION in %s. %s Exit status 1.", strings.Join(regs, ", "), tally)
	}
	return "No regression. " + tally + " Exit status 0."
}

func compareMarkdown(w io.Writer, cmp *Comparison) error {
	var b bytes.Buffer
	regs := cmp.Verdicts[VerdictRegression]
	switch {
	case regs > 0:
		fmt.Fprintf(&b, "### mtlsbench compare: ❌ %s\n\n", units.Count(regs, "regression"))
	case len(cmp.Cases) == 0:
		fmt.Fprintf(&b, "### mtlsbench compare: ⚠️ no case in common\n\n")
	default:
		fmt.Fprintf(&b, "### mtlsbench compare: ✅ no regression\n\n")
	}
	fmt.Fprintf(&b, "base: %s  \nhead: %s\n\n", report.MarkdownText(describeRef(cmp.Base)), report.MarkdownText(describeRef(cmp.Head)))
	header := []string{"case", "metric", "base", "head", "delta", "verdict", "test"}
	align := []string{":---", ":---", "---:", "---:", "---:", ":---", ":---"}
	rows := func(keep func(MetricComparison) bool) int {
		n := 0
		for _, cc := range cmp.Cases {
			first := true
			for _, m := range cc.Metrics {
				if !keep(m) {
					continue
				}
				name := ""
				if first {
					name = report.MarkdownCode(cc.Name)
				}
				first = false
				test := strings.TrimSpace(testText(m) + " " + samplesText(cc))
				b.WriteString(report.MarkdownRow(name, metricInfos[m.Metric].label, formatSide(m, m.Base, len(m.BaseValues)), formatSide(m, m.Head, len(m.HeadValues)), formatDelta(m), mdVerdict(m.Verdict), test))
				n++
			}
		}
		return n
	}
	notable := func(m MetricComparison) bool {
		return m.Verdict == VerdictRegression || m.Verdict == VerdictImprovement || m.Verdict == VerdictNoise
	}
	hasNotable := false
	for _, cc := range cmp.Cases {
		for _, m := range cc.Metrics {
			hasNotable = hasNotable || notable(m)
		}
	}
	if hasNotable {
		b.WriteString(report.MarkdownRow(header...))
		b.WriteString(report.MarkdownRow(align...))
		rows(notable)
		b.WriteString("\n")
	}
	if len(cmp.Cases) > 0 {
		fmt.Fprintf(&b, "<details><summary>All metrics of %s</summary>\n\n", units.Count(len(cmp.Cases), "matched case"))
		b.WriteString(report.MarkdownRow(header...))
		b.WriteString(report.MarkdownRow(align...))
		rows(func(MetricComparison) bool { return true })
		b.WriteString("\n</details>\n")
	}
	for _, s := range compareNotes(cmp, report.MarkdownCode) {
		fmt.Fprintf(&b, "\n**%s**\n\n", s.title)
		for _, it := range s.items {
			fmt.Fprintf(&b, "- %s\n", it)
		}
	}
	fmt.Fprintf(&b, "\nThresholds: `%s`, α=%g. %s\n", describeThresholds(cmp.Thresholds), cmp.Alpha, report.MarkdownText(summaryLine(cmp)))
	_, err := w.Write(b.Bytes())
	return err
}

func mdVerdict(v Verdict) string {
	switch v {
	case VerdictRegression:
		return "❌ **regression**"
	case VerdictImprovement:
		return "✅ improvement"
	case VerdictNoise:
		return "〰️ noise"
	default:
		return string(v)
	}
}
