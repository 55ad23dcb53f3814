package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// renderMarkdown writes GitHub-flavoured markdown for a PR comment: a
// heading, the run line, the case table with full names, and the notes.
func renderMarkdown(w io.Writer, run *results.Run, opts RenderOptions) error {
	labels, _ := caseLabels(run, false)
	var b bytes.Buffer
	fmt.Fprintf(&b, "### %s\n\n", MarkdownText(opts.title(run)))
	fmt.Fprintf(&b, "%s\n\n", MarkdownText(strings.ReplaceAll(runLine(run), "\n", " ")))

	hasTrend := false
	for i := range run.Cases {
		hasTrend = hasTrend || len(trendIntervals(&run.Cases[i])) > 1
	}
	rows, _ := caseRows(run, false)
	runs := repeated(rows)
	header := []string{"case", "handshakes/s", "p50", "p99", "p99.9", "resumed", "errors", "client CPU µs/hs", "target CPU µs/hs", "bytes out/in per hs"}
	align := []string{":---", "---:", "---:", "---:", "---:", "---:", ":---", "---:", "---:", "---:"}
	if runs {
		header = slices.Insert(header, 1, "runs")
		align = slices.Insert(align, 1, "---:")
	}
	slo := judged(rows)
	if slo {
		header = append(header, "SLO")
		align = append(align, ":---")
	}
	if hasTrend {
		header = append(header, "trend (hs/s)")
		align = append(align, ":---")
	}
	b.WriteString(MarkdownRow(header...))
	b.WriteString(MarkdownRow(align...))
	for _, r := range rows {
		c := r.sum
		name := MarkdownCode(r.label)
		if flags := r.flags(); len(flags) > 0 {
			var names []string
			for _, f := range flags {
				names = append(names, flagName(f))
			}
			name += " **⚠ " + strings.Join(names, ", ") + "**"
		}
		client, target := "–", "–"
		if c.Counts.OK > 0 {
			client = units.Rate(c.CPU.ClientUsPerHandshake)
		}
		if c.CPU.TargetMeasured && c.Counts.OK > 0 {
			target = units.Rate(c.CPU.TargetUsPerHandshake)
		}
		bytesOut := "–"
		if c.Counts.Attempted > 0 && !plainTCP(c) {
			bytesOut = units.Rate(c.Bytes.HandshakeSentMean) + " / " + units.Rate(c.Bytes.HandshakeReceivedMean)
		}
		row := []string{name}
		if runs {
			row = append(row, strconv.Itoa(len(r.cases)))
		}
		row = append(row, joinSpread(r.rateSpread().rate()), joinSpread(r.p50Spread().latency()), joinSpread(r.p99Spread().latency()), r.p999(),
			resumedShare(c), MarkdownText(errorCell(c)), client, target, bytesOut)
		if slo {
			row = append(row, MarkdownText(mdSLO(r.slo())))
		}
		if hasTrend {
			row = append(row, r.trend(24))
		}
		b.WriteString(MarkdownRow(row...))
	}
	if note := spreadNote(rows); note != "" {
		fmt.Fprintf(&b, "\n%s\n", MarkdownText(note))
	}
	writeMarkdownMutualCost(&b, rows)
	writeMarkdownAmortization(&b, run)
	writeMarkdownRotations(&b, run, labels)
	if idx := usedFlags(run); len(idx) > 0 {
		b.WriteString("\n")
		for _, i := range idx {
			fmt.Fprintf(&b, "- **%s**: %s\n", flagLegend[i].name, MarkdownText(flagLegend[i].meaning))
		}
	}
	failures, warnings, errs := caseNotes(run, labels)
	mdList(&b, "Failures", failures)
	mdList(&b, sloTitle, sloNotes(run, labels))
	mdList(&b, "Warnings", warnings)
	mdList(&b, "Errors", errs)
	mdList(&b, "Shard alignment", alignmentNotes(run, labels))
	mdList(&b, earlyDataTitle, earlyDataNotes(run, labels))
	_, err := w.Write(b.Bytes())
	return err
}

// mdSLO marks a broken SLO so that it stands out in a PR comment.
func mdSLO(verdict string) string {
	switch verdict {
	case "":
		return "–"
	case "met":
		return verdict
	}
	return "❌ " + verdict
}

// MarkdownRow is one row of a markdown table, cells as they are, with its
// line end: "| a | b |\n".
func MarkdownRow(cells ...string) string {
	return "| " + strings.Join(cells, " | ") + " |\n"
}

func mdList(b *bytes.Buffer, title string, notes []note) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintf(b, "\n**%s**\n\n", title)
	for _, n := range notes {
		fmt.Fprintf(b, "- %s: %s\n", MarkdownCode(n.label), MarkdownText(n.text))
	}
}

// MarkdownText makes s safe inside a markdown table cell or list item: one
// line, no column breaks, no HTML.
func MarkdownText(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// MarkdownCode puts s in a code span, choosing a fence longer than any run
// of backticks inside it.
func MarkdownCode(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`).Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// flagName is the long name of a one-letter case marker.
func flagName(flag string) string {
	for _, l := range flagLegend {
		if l.flag == flag {
			return l.name
		}
	}
	return flag
}
