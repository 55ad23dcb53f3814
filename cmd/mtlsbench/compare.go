package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/compare"
	"github.com/mtlsbench/mtlsbench/report"
)

func init() { register(newCompareCmd) }

// compareOptions are the compare command's flags.
type compareOptions struct {
	format     formatValue
	out        string
	thresholds thresholdsValue
	alpha      float64
}

const compareExamples = `  mtlsbench compare base.json head.json                  a table; exit 1 on a regression
  mtlsbench compare base.json head.json -o verdict.md    markdown for a PR comment
  mtlsbench compare base.json head.json --threshold p99=+10%:500us,handshakes_per_s=-5%`

func newCompareCmd(env *cliEnv) *cobra.Command {
	opts := compareOptions{
		format:     formatValue{format: report.FormatTable, allowed: compare.Formats},
		thresholds: thresholdsValue{thresholds: compare.DefaultThresholds()},
	}
	c := &cobra.Command{
		Use:   "compare BASE.json HEAD.json [flags]",
		Short: "base.json head.json → verdicts per case and metric; exit 1 on regression",
		Long: "Compare two results case by case (matched by key; repeats are samples) on\n" +
			"handshakes/s, p50, p99, p99.9, error rate and client/target CPU per handshake.\n" +
			"A metric regresses when it worsens past its threshold (relative AND absolute)\n" +
			"and, with enough repeats on both sides, a Mann-Whitney U test finds the\n" +
			"difference significant. Exit status: 0 no regression, 1 regression,\n" +
			"2 unreadable input or mismatched schemas. See docs/compare.md.",
		Example: compareExamples,
		Args:    exactArgs(2, "two result files, BASE.json and HEAD.json"),
		RunE: func(c *cobra.Command, args []string) error {
			return runCompare(env, c.Flags(), args, &opts)
		},
	}
	fs := c.Flags()
	fs.SortFlags = false
	fs.Var(&opts.format, "format", "output format: "+formatNames(compare.Formats))
	fs.StringVarP(&opts.out, "out", "o", "", "write the output to this file (the table still goes to standard output)")
	fs.Var(&opts.thresholds, "threshold", "override thresholds: METRIC=±N%[:ABS] or METRIC=off, comma-separated or repeated\n(metrics: handshakes_per_s p50 p99 p99.9 error_rate client_cpu target_cpu; e.g. p99=+10%:500us,handshakes_per_s=-5%)")
	fs.Float64Var(&opts.alpha, "alpha", 0.05, "significance level of the U test")
	return c
}

func runCompare(env *cliEnv, fs *pflag.FlagSet, args []string, opts *compareOptions) error {
	if opts.alpha <= 0 || opts.alpha >= 1 {
		return usagef("--alpha %g: want a level between 0 and 1, e.g. 0.05", opts.alpha)
	}
	if err := checkOutputs(output{"-o", opts.out}); err != nil {
		return err
	}
	cmp, err := compare.Files(args[0], args[1], compare.Options{
		Thresholds: opts.thresholds.thresholds, Alpha: opts.alpha,
	})
	if err != nil {
		return err
	}
	format := opts.format.format
	if !fs.Changed("format") && opts.out != "" {
		if f, ok := report.FormatForPath(opts.out); ok && (f == report.FormatMarkdown || f == report.FormatJSON) {
			format = f
		}
	}
	if opts.out == "" || opts.out == "-" {
		if err := compare.Render(env.stdout, cmp, format); err != nil {
			return err
		}
	} else {
		if err := compare.RenderFile(opts.out, cmp, format); err != nil {
			return err
		}
		if format != report.FormatTable {
			if err := compare.Render(env.stdout, cmp, report.FormatTable); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.stderr, "mtlsbench compare: wrote %s (%s)\n", opts.out, format)
	}
	if cmp.Regressed() {
		return &silentError{code: exitFailed}
	}
	return nil
}

// thresholdsValue parses --threshold items on top of the thresholds so far
// (the defaults, then earlier --threshold flags).
type thresholdsValue struct {
	thresholds compare.Thresholds
	specs      []string
}

func (v *thresholdsValue) String() string {
	if len(v.specs) == 0 {
		return ""
	}
	return fmt.Sprint(v.specs)
}
func (v *thresholdsValue) Type() string { return "METRIC=CHANGE" }

func (v *thresholdsValue) Set(s string) error {
	t, err := compare.ParseThresholds(s, v.thresholds)
	if err != nil {
		return err
	}
	v.thresholds = t
	v.specs = append(v.specs, s)
	return nil
}
