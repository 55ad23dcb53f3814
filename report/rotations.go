package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// The certificate-rotation section (run --rotate-at): one row per
// rotation of every case that rotated, with what the handshakes around
// it did (results.Rotation says what "around" means).

const rotationTitle = "Certificate rotations"

var rotationHeader = []string{"case", "#", "at", "served after", "failed around (before)", "ok around", "slower than p99 before", "full hs with new cert", "resumed across (refused)"}

// rotationCaption says how to read the section.
const rotationCaption = "around: the interval containing the rotation and the next one; before: the interval just before them. " +
	"A full handshake begun after the target served the new certificate that presented the old one fails the case (param_mismatch)."

// rotationRows are the section's rows; labels are the cases' (caseLabels).
func rotationRows(run *results.Run, labels []string) [][]string {
	var rows [][]string
	for i := range run.Cases {
		c := &run.Cases[i]
		for j, r := range c.Rotations {
			served := "failed: " + r.Error
			if r.Error == "" {
				served = units.Latency((r.DoneS - r.AtS) * 1e6)
			}
			slowed := "–"
			if r.BeforeP99Us > 0 {
				slowed = strconv.FormatInt(r.SlowedAround, 10) + " over " + units.Latency(float64(r.BeforeP99Us))
			}
			rows = append(rows, []string{labels[i], strconv.Itoa(j + 1), fmt.Sprintf("%.3fs", r.AtS), served,
				fmt.Sprintf("%d (%d)", r.ErrorsAround, r.ErrorsBefore), strconv.FormatInt(r.OKAround, 10), slowed,
				strconv.FormatInt(r.FullNew, 10), fmt.Sprintf("%d (%d)", r.ResumedAcross, r.RefusedAcross)})
		}
	}
	return rows
}

// writeTextRotations writes the section for the terminal table.
func writeTextRotations(w *bytes.Buffer, run *results.Run, labels []string) error {
	rows := rotationRows(run, labels)
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s\n", rotationTitle)
	t := TextTable{Header: rotationHeader, Left: []int{0}, Rows: rows}
	table, err := t.Render()
	if err != nil {
		return err
	}
	w.Write(table)
	fmt.Fprintln(w, rotationCaption)
	return nil
}

// writeMarkdownRotations writes the section as markdown.
func writeMarkdownRotations(w io.Writer, run *results.Run, labels []string) {
	rows := rotationRows(run, labels)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n#### %s\n\n", rotationTitle)
	io.WriteString(w, MarkdownRow(rotationHeader...))
	align := []string{":---"}
	for range rotationHeader[1:] {
		align = append(align, "---:")
	}
	io.WriteString(w, MarkdownRow(align...))
	for _, r := range rows {
		r[0] = MarkdownCode(r[0])
		for k := 1; k < len(r); k++ {
			r[k] = MarkdownText(r[k])
		}
		io.WriteString(w, MarkdownRow(r...))
	}
	fmt.Fprintf(w, "\n%s\n", MarkdownText(rotationCaption))
}

// rotationStyle marks a certificate rotation on a time series.
var rotationStyle = lineStyle{okabeIto.Vermillion, []vg.Length{vg.Points(2), vg.Points(2)}}

// rotationMarkers draws a vertical line across p at each rotation (seconds
// into the window), named "rotation" once in the legend.
func rotationMarkers(p *plot.Plot, at []float64) error {
	for i, x := range at {
		line, err := plotter.NewLine(plotter.XYs{{X: x, Y: p.Y.Min}, {X: x, Y: p.Y.Max}})
		if err != nil {
			return fmt.Errorf("report: plot rotation marker: %w", err)
		}
		rotationStyle.apply(line)
		p.Add(line)
		if i == 0 {
			p.Legend.Add("rotation", line)
		}
	}
	return nil
}
