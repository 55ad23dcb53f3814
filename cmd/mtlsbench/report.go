package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/report"
	"github.com/mtlsbench/mtlsbench/results"
)

func init() { register(newReportCmd) }

// reportOptions are the report command's flags.
type reportOptions struct {
	format  formatValue
	out     string
	groupBy []string
	title   string
	width   int
}

const reportExamples = `  mtlsbench report results/mtlsbench-20261202-170000.json      a table on the terminal
  mtlsbench report result.json -o report.html                   a self-contained HTML report
  mtlsbench report result.json --format markdown --title "TLS 1.3 vs 1.2"
  mtlsbench report result.json -o charts.png --group-by tls_version`

func newReportCmd(env *cliEnv) *cobra.Command {
	opts := reportOptions{format: formatValue{format: report.FormatTable, allowed: report.Formats}}
	c := &cobra.Command{
		Use:   "report FILE.json [flags]",
		Short: "render a result file (table, markdown, csv, json, html, png, hdrlog)",
		Long: "Render a result file: a terminal table, markdown for a PR comment, CSV, JSON,\n" +
			"a self-contained HTML report with charts, a PNG of the main charts, or an\n" +
			"HdrHistogram interval log (one tag per case).",
		Example: reportExamples,
		Args:    exactArgs(1, "one result file (usage: mtlsbench report FILE.json [--format F] [-o OUT])"),
		RunE: func(c *cobra.Command, args []string) error {
			return runReport(env, c.Flags(), args[0], &opts)
		},
	}
	fs := c.Flags()
	fs.SortFlags = false
	fs.Var(&opts.format, "format", "output format: "+formatNames(report.Formats)+"; without it, -o's extension decides")
	fs.StringVarP(&opts.out, "out", "o", "", "write to this file instead of standard output (required for png)")
	fs.StringSliceVar(&opts.groupBy, "group-by", nil, "html/png: one latency plot per value of these parameters (e.g. tls_version,resume), overlaying the cases that share them; 'none' puts every case on one plot (default: automatic)")
	fs.StringVar(&opts.title, "title", "", "title of the markdown and HTML reports (default: the scenario's name)")
	fs.IntVar(&opts.width, "width", 100, "table: the terminal width to fit")
	return c
}

func runReport(env *cliEnv, fs *pflag.FlagSet, path string, opts *reportOptions) error {
	format := opts.format.format
	if !fs.Changed("format") && opts.out != "" {
		if f, ok := report.FormatForPath(opts.out); ok {
			format = f
		}
	}
	if format == report.FormatPNG && (opts.out == "" || opts.out == "-") {
		return usagef("png is binary: give the file to write with -o FILE.png")
	}
	if opts.width < 40 || opts.width > 1000 {
		return usagef("--width %d: out of range: 40 to 1000 columns", opts.width)
	}
	if err := report.CheckGroupBy(opts.groupBy); err != nil {
		return usagef("--group-by: %v", err)
	}
	if err := checkOutputs(output{"-o", opts.out}); err != nil {
		return err
	}
	run, err := results.ReadFile(path)
	if err != nil {
		return err
	}
	render := report.RenderOptions{Width: opts.width, Title: opts.title, GroupBy: opts.groupBy}
	if opts.out == "" || opts.out == "-" {
		return report.Render(env.stdout, run, format, render)
	}
	if err := report.RenderFile(opts.out, run, format, render); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "mtlsbench report: wrote %s (%s, %d cases)\n", opts.out, format, len(run.Cases))
	return nil
}

// formatValue parses --format straight into a report.Format, accepting
// only the formats the command can write.
type formatValue struct {
	format  report.Format
	allowed []report.Format
}

func (v *formatValue) String() string { return string(v.format) }
func (v *formatValue) Type() string   { return "format" }

func (v *formatValue) Set(s string) error {
	f, err := report.ParseFormat(s)
	if err == nil {
		for _, a := range v.allowed {
			if a == f {
				v.format = f
				return nil
			}
		}
	}
	return fmt.Errorf("unknown format %q (accepted: %s)", s, formatNames(v.allowed))
}

func formatNames(formats []report.Format) string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
