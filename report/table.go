package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// tableHeader is the text table's header; tableLeft its columns aligned
// left. A run with repeats has a "runs" column after the case.
var (
	tableHeader = []string{"case", "hs/s", "p50", "p99", "p99.9", "resumed", "errors", "cpu µs c/t", "bytes out/in"}
	tableLeft   = []int{0, 6}
)

// renderTable writes the terminal table: a line about the run, one row per
// case (its repeats summarised, see caseRow), then the notes a reader
// needs to trust the figures (markers, trends, errors, warnings).
func renderTable(w io.Writer, run *results.Run, opts RenderOptions) error {
	labels, _ := caseLabels(run, false)
	rows, _ := caseRows(run, false)
	var out bytes.Buffer
	fmt.Fprintln(&out, runLine(run))

	table, err := caseTable(rows)
	if err != nil {
		return err
	}
	common := ""
	if maxLineWidth(table) > opts.width() {
		if short, words := caseLabels(run, true); words != "" {
			labels, common = short, words
			rows, _ = caseRows(run, true)
			if table, err = caseTable(rows); err != nil {
				return err
			}
		}
	}
	out.Write(table)
	if common != "" {
		fmt.Fprintf(&out, "Every case name above also has %q.\n", common)
	}
	if note := spreadNote(rows); note != "" {
		fmt.Fprintln(&out, note)
	}
	if err := writeTextMutualCost(&out, rows); err != nil {
		return err
	}
	if err := writeTextAmortization(&out, run); err != nil {
		return err
	}
	if err := writeTextRotations(&out, run, labels); err != nil {
		return err
	}
	writeTextNotes(&out, run, labels)
	_, err = w.Write(out.Bytes())
	return err
}

func caseTable(rows []caseRow) ([]byte, error) {
	table := TextTable{Header: tableHeader, Left: tableLeft}
	runs, slo := repeated(rows), judged(rows)
	if runs {
		table.Header = slices.Insert(slices.Clone(tableHeader), 1, "runs")
		table.Left = []int{0, 7}
	}
	if slo {
		table.Header = append(slices.Clone(table.Header), "SLO")
		table.Left = append(slices.Clone(table.Left), len(table.Header)-1)
	}
	for _, r := range rows {
		name := r.label
		if flags := r.flags(); len(flags) > 0 {
			name += " [" + strings.Join(flags, "") + "]"
		}
		row := []string{name}
		if runs {
			row = append(row, strconv.Itoa(len(r.cases)))
		}
		row = append(row,
			joinSpread(r.rateSpread().rate()), joinSpread(r.p50Spread().latency()), joinSpread(r.p99Spread().latency()), r.p999(),
			resumedShare(r.sum), errorCell(r.sum), cpuCell(r.sum), bytesCell(r.sum),
		)
		if slo {
			row = append(row, orDash(r.slo()))
		}
		table.Rows = append(table.Rows, row)
	}
	return table.Render()
}

// textWidth is the terminal width of s. Every glyph the renderers use
// (µ, –, ×, the box and block characters) is one column wide, so counting
// runes is exact here.
func textWidth(s string) int { return utf8.RuneCountInString(s) }

func maxLineWidth(text []byte) int {
	widest := 0
	for _, line := range strings.Split(string(text), "\n") {
		widest = max(widest, textWidth(line))
	}
	return widest
}

// runLine is the one line that says what was run, where and when.
func runLine(run *results.Run) string {
	parts := []string{}
	if run.Scenario.Name != "" {
		parts = append(parts, "scenario "+run.Scenario.Name)
	}
	parts = append(parts, units.Count(len(run.Cases), "case"))
	if !run.Start.IsZero() {
		parts = append(parts, run.Start.UTC().Format("2006-01-02 15:04 UTC"))
		if !run.End.IsZero() {
			parts = append(parts, run.End.Sub(run.Start).Round(time.Second).String())
		}
	}
	if len(run.Shards) > 0 {
		merge := "merge of " + units.Count(len(run.Shards), "shard")
		if run.RunID != "" {
			merge += " (" + run.RunID + ")"
		}
		parts = append(parts, merge)
	} else if env := environmentLine(run.Environment); env != "" {
		parts = append(parts, env)
	}
	if run.Tool.Version != "" {
		parts = append(parts, run.Tool.Name+" "+run.Tool.Version)
	}
	line := strings.Join(parts, " · ")
	if run.Interrupted {
		line += "\nINTERRUPTED: the run was stopped; only the cases that ran are shown."
	}
	return line
}

func environmentLine(env results.Environment) string {
	var parts []string
	if env.CPUModel != "" {
		parts = append(parts, env.CPUModel)
	}
	if env.Cores > 0 {
		parts = append(parts, units.Count(env.Cores, "core"))
	}
	if env.ClientCPUs != "" || env.TargetCPUs != "" {
		parts = append(parts, fmt.Sprintf("pinned client %s target %s", orDash(env.ClientCPUs), orDash(env.TargetCPUs)))
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// note is one remark about one case, as the text and markdown renderers
// list them under the table.
type note struct {
	label string
	text  string
}

// caseNotes collects what a reader must know besides the figures: why a
// case failed, its warnings, and an example of each error class (most
// frequent first).
func caseNotes(run *results.Run, labels []string) (failures, warnings, errs []note) {
	// A warning several cases share is listed once, naming them ("every
	// case" when all have it): the same sentence eight times hides the
	// others.
	var order []string
	who := map[string][]string{}
	for i := range run.Cases {
		c := &run.Cases[i]
		if c.Failure != "" {
			failures = append(failures, note{labels[i], string(c.Status) + ": " + c.Failure})
		}
		for _, w := range c.Warnings {
			if _, seen := who[w]; !seen {
				order = append(order, w)
			}
			if l := who[w]; len(l) == 0 || l[len(l)-1] != labels[i] {
				who[w] = append(l, labels[i])
			}
		}
		for _, class := range errorClassesByCount(c.Errors) {
			text := fmt.Sprintf("%s ×%d (%s of attempts)", class, c.Errors[class], units.Percent(c.Errors[class], c.Counts.Attempted))
			if ex := c.ErrorExamples[class]; ex != "" {
				text += ": " + ex
			}
			errs = append(errs, note{labels[i], text})
		}
	}
	for _, w := range order {
		label := strings.Join(who[w], ", ")
		if len(who[w]) == len(run.Cases) && len(run.Cases) > 1 {
			label = "every case"
		}
		warnings = append(warnings, note{label, w})
	}
	return failures, warnings, errs
}

// alignmentNotes says, for each merged case, how its shards lined up:
// how far apart their windows began (on shard 0's clock) and, for an open
// loop, the median gap between their starts together beside the intended
// one. Merge warns when these are off; the figures are shown either way
// so that a reader sees how close a merge came.
func alignmentNotes(run *results.Run, labels []string) []note {
	var notes []note
	for i := range run.Cases {
		m := run.Cases[i].Merged
		if m == nil {
			continue
		}
		text := fmt.Sprintf("%s, window starts %s apart", units.Count(m.Shards, "shard"), units.Latency(float64(m.StartSkewUs)))
		if m.IntendedInterArrivalUs > 0 {
			text += fmt.Sprintf("; median gap between starts %s (intended %s)", units.Latency(m.InterArrivalP50Us), units.Latency(m.IntendedInterArrivalUs))
		}
		notes = append(notes, note{labels[i], text})
	}
	return notes
}

// usedFlags lists the markers that appear in the run, in legend order.
func usedFlags(run *results.Run) []int {
	used := map[string]bool{}
	for i := range run.Cases {
		for _, f := range caseFlags(&run.Cases[i]) {
			used[f] = true
		}
	}
	var idx []int
	for i, l := range flagLegend {
		if used[l.flag] {
			idx = append(idx, i)
		}
	}
	return idx
}

func writeTextNotes(w io.Writer, run *results.Run, labels []string) {
	for _, i := range usedFlags(run) {
		fmt.Fprintf(w, "[%s] %s: %s\n", flagLegend[i].flag, flagLegend[i].name, flagLegend[i].meaning)
	}
	width := 0
	for i := range run.Cases {
		if len(trendIntervals(&run.Cases[i])) > 1 {
			width = max(width, textWidth(labels[i]))
		}
	}
	if width > 0 {
		fmt.Fprintln(w, "\nHandshakes/s per interval:")
		for i := range run.Cases {
			c := &run.Cases[i]
			if len(trendIntervals(c)) < 2 {
				continue
			}
			rates := intervalRates(c)
			lo, hi := minMax(rates)
			pad := strings.Repeat(" ", width-textWidth(labels[i]))
			fmt.Fprintf(w, "  %s%s  %s  %s–%s\n", labels[i], pad, sparkline(rates, 32), units.Rate(lo), units.Rate(hi))
		}
	}
	failures, warnings, errs := caseNotes(run, labels)
	writeTextList(w, "Failures", failures)
	writeTextList(w, sloTitle, sloNotes(run, labels))
	writeTextList(w, "Warnings", warnings)
	writeTextList(w, "Errors", errs)
	writeTextList(w, "Shard alignment", alignmentNotes(run, labels))
	writeTextList(w, earlyDataTitle, earlyDataNotes(run, labels))
}

func writeTextList(w io.Writer, title string, notes []note) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	for _, n := range notes {
		fmt.Fprintf(w, "  %s: %s\n", n.label, n.text)
	}
}
