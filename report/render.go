// Package report owns every renderer of a result: the terminal table,
// markdown, CSV, JSON, the self-contained HTML report with its SVG charts,
// the PNG, the HdrHistogram interval log and the capacity-search views;
// the format names the commands accept (Format, ParseFormat); and the
// text helpers compare's renderers share (TextTable, MarkdownRow, ...).
//
// It never changes a result: it reads a results.Run and writes bytes. It
// judges nothing (package compare does, and may import report; report
// never imports compare) and runs nothing.
package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/mtlsbench/mtlsbench/results"
)

// Format names a way to render a result.
type Format string

// The formats Render knows. Their names are the values of the --format flags.
const (
	// FormatTable is an aligned text table for a terminal.
	FormatTable Format = "table"
	// FormatMarkdown is GitHub-flavoured markdown, for PR comments.
	FormatMarkdown Format = "markdown"
	// FormatCSV is one row per case under a stable header.
	FormatCSV Format = "csv"
	// FormatJSON is the result file itself.
	FormatJSON Format = "json"
	// FormatHTML is a self-contained report with inline SVG charts.
	FormatHTML Format = "html"
	// FormatPNG is a picture of the main charts (for a README).
	FormatPNG Format = "png"
	// FormatHDRLog is the HdrHistogram interval log, one tag per case.
	FormatHDRLog Format = "hdrlog"
)

// Formats lists every format in the order help texts show them.
var Formats = []Format{FormatTable, FormatMarkdown, FormatCSV, FormatJSON, FormatHTML, FormatPNG, FormatHDRLog}

// FormatError reports a format name Render does not know.
type FormatError struct {
	Name string
	// Allowed lists the accepted names, for the message.
	Allowed []Format
}

func (e *FormatError) Error() string {
	names := make([]string, len(e.Allowed))
	for i, f := range e.Allowed {
		names[i] = string(f)
	}
	return fmt.Sprintf("report: unknown format %q (accepted: %s)", e.Name, strings.Join(names, ", "))
}

// ParseFormat returns the Format named s ("md" is accepted for markdown).
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "md" {
		name = string(FormatMarkdown)
	}
	for _, f := range Formats {
		if string(f) == name {
			return f, nil
		}
	}
	return "", &FormatError{Name: s, Allowed: Formats}
}

// FormatForPath guesses a format from an output file's extension (".html",
// ".png", ".md", ".csv", ".json", ".hlog"/".hdrlog"); ok is false when the
// extension says nothing.
func FormatForPath(path string) (f Format, ok bool) {
	lower := strings.ToLower(path)
	for ext, f := range map[string]Format{
		".html": FormatHTML, ".htm": FormatHTML, ".png": FormatPNG,
		".md": FormatMarkdown, ".markdown": FormatMarkdown, ".csv": FormatCSV,
		".json": FormatJSON, ".hlog": FormatHDRLog, ".hdrlog": FormatHDRLog,
	} {
		if strings.HasSuffix(lower, ext) {
			return f, true
		}
	}
	return "", false
}

// RenderOptions tune the renderers. The zero value is ready to use.
type RenderOptions struct {
	// Width is the terminal width the table renderer fits into. If zero,
	// 100 columns.
	Width int
	// Title heads the markdown and HTML reports. If empty, the scenario's
	// name.
	Title string
	// GroupBy chooses the HTML and PNG overlay plots: one percentile plot
	// per distinct combination of these parameters (names as in the
	// result's "params", e.g. "tls_version"), each overlaying every case
	// that shares them. If nil, the parameter with the most distinct
	// values is overlaid and the plots are grouped by all the others (so a
	// key-type matrix gives one plot per TLS version and resume mode, each
	// with every key type). []string{"none"} puts every case on one plot.
	GroupBy []string
}

func (o RenderOptions) width() int {
	if o.Width <= 0 {
		return 100
	}
	return o.Width
}

func (o RenderOptions) title(run *results.Run) string {
	switch {
	case o.Title != "":
		return o.Title
	case run.Scenario.Name != "":
		return "mtlsbench: " + run.Scenario.Name
	default:
		return "mtlsbench result"
	}
}

// Render writes run to w in the given format. Binary formats (png) are
// written as they are; the caller chooses where.
func Render(w io.Writer, run *results.Run, format Format, opts RenderOptions) error {
	if run == nil {
		return fmt.Errorf("report: render: no result")
	}
	switch format {
	case FormatTable:
		if run.HasCapacity() {
			return renderCapacityTable(w, run, opts)
		}
		return renderTable(w, run, opts)
	case FormatMarkdown:
		if run.HasCapacity() {
			return renderCapacityMarkdown(w, run, opts)
		}
		return renderMarkdown(w, run, opts)
	case FormatCSV:
		return renderCSV(w, run)
	case FormatJSON:
		return results.Write(w, run)
	case FormatHTML:
		return renderHTML(w, run, opts)
	case FormatPNG:
		return renderPNG(w, run, opts)
	case FormatHDRLog:
		return WriteHDRLog(w, run)
	default:
		return &FormatError{Name: string(format), Allowed: Formats}
	}
}

// RenderFile renders run into path, atomically (see
// results.WriteFileAtomic).
func RenderFile(path string, run *results.Run, format Format, opts RenderOptions) error {
	return results.WriteFileAtomic(path, func(w io.Writer) error {
		return Render(w, run, format, opts)
	})
}
