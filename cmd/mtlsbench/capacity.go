package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/bench"
	"github.com/mtlsbench/mtlsbench/capacity"
	"github.com/mtlsbench/mtlsbench/report"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

func init() { register(newCapacityCmd) }

const capacityExamples = `  mtlsbench capacity                                   the 'capacity' scenario: three key types
  mtlsbench capacity --slo 'p99<20ms,errors<0.1%' --key-type ecdsa-p256 --project 20k/s
  mtlsbench capacity --target nginx --start 1k/s --max 50k/s --step-duration 5s`

func newCapacityCmd(env *cliEnv) *cobra.Command {
	var o capacityOptions
	c := &cobra.Command{
		Use:   "capacity [-f SCENARIO] [--slo 'p99<50ms,errors<0.1%'] [flags]",
		Short: "find the highest handshake rate that meets an SLO, and the cores a rate needs",
		Long: "For each case, search for the highest open-loop handshake rate that meets an SLO:\n" +
			"grow the rate until the SLO breaks (or the generator saturates), bisect between the\n" +
			"last good and first bad rate, and run the answer again. Each step warms up, then\n" +
			"measures. Reports the maximum sustainable rate, where and why it broke, the knee,\n" +
			"server CPU per handshake, and (--project) the cores a rate needs.\n" +
			"With no flags: the 'capacity' scenario (three key types against the built-in target).\n" +
			"Takes every run flag; those that set a load (--rate, -c, --duration...) are refused.\n\n" +
			"SLO: " + capacity.SLOSyntax + ".",
		Example: capacityExamples,
		Args:    noArgs("use -f to name a scenario"),
		RunE: func(c *cobra.Command, args []string) error {
			return capacityCmd(c.Context(), env, c.Flags(), &o)
		},
	}
	c.Flags().SortFlags = false
	capacityFlags(c.Flags(), &o)
	return c
}

// capacityOptions are capacity's flags: every run flag (target, identity,
// axes, output) plus the search's.
type capacityOptions struct {
	run        runOptions
	slo        string
	start, max string
	stepWarmup time.Duration
	resolution float64
	maxSteps   int
	project    []string
}

// capacityRefused are run flags that set what the search chooses itself,
// with what to use instead.
var capacityRefused = map[string]string{
	"rate":        "the search chooses the rates: use --start and --max",
	"steps":       "the search chooses the rates: use --start and --max",
	"concurrency": "a capacity search is an open loop at the rates it chooses; there is no concurrency to set",
	"ramp-up":     "each step holds its rate after --step-warmup; there is no ramp",
	"duration":    "each step's window is --step-duration",
	"count":       "each step's window is --step-duration",
	"warmup":      "each step warms up for --step-warmup",
	"repeat":      "the search repeats what it needs to (the answer is run twice); run the command again for another sample",
}

// capacityFlags defines capacity's flags on fs: run's scenario flags and
// the search's.
func capacityFlags(fs *pflag.FlagSet, o *capacityOptions) {
	addRunFlags(fs, &o.run)
	o.run.scenario = "capacity"
	fs.Lookup("file").DefValue = "capacity"
	fs.Lookup("step-duration").Usage = "each search step's measured window (default: the scenario's, else 10s)"
	fs.StringVar(&o.slo, "slo", "", "what a rate must meet, e.g. 'p99<50ms,errors<0.1%' (default: the scenario's, else "+scenarios.DefaultSLO+")")
	fs.StringVar(&o.start, "start", "", "first rate tried, e.g. 500/s (default: the scenario's, else 100/s)")
	fs.StringVar(&o.max, "max", "", "highest rate tried, e.g. 50k/s (default: the scenario's, else 100k/s)")
	fs.DurationVar(&o.stepWarmup, "step-warmup", 0, "load at each step's rate before its window (default: the scenario's, else 2s)")
	fs.Float64Var(&o.resolution, "resolution", 0, "stop bisecting when the failing rate is within this fraction above the sustainable one (default 0.05)")
	fs.IntVar(&o.maxSteps, "max-steps", 0, "bound on steps per case (default 20)")
	addLiveFlags(fs, &o.run.live)
	fs.StringSliceVar(&o.project, "project", nil, "rates to project server cores for, e.g. 20000/s (comma list; default: the scenario's)")
	setGroup(fs, "search", "slo", "start", "max", "step-duration", "step-warmup", "resolution", "max-steps", "project")
	// The refused load flags stay parseable, to be refused with why, but
	// out of the help.
	for name := range capacityRefused {
		fs.Lookup(name).Hidden = true
	}
}

func capacityCmd(ctx context.Context, env *cliEnv, fs *pflag.FlagSet, o *capacityOptions) error {
	for _, name := range slices.Sorted(maps.Keys(capacityRefused)) {
		if fs.Changed(name) {
			return usagef("--%s: %s", name, capacityRefused[name])
		}
	}
	format, err := report.ParseFormat(o.run.format)
	if err != nil || (format != report.FormatTable && format != report.FormatJSON && format != report.FormatMarkdown && format != report.FormatCSV) {
		return usagef("--format %q: accepted: table, json, markdown, csv (use 'mtlsbench report' for html)", o.run.format)
	}
	spec, err := scenarios.Load(o.run.scenario)
	if err != nil {
		return err
	}
	if err := spec.Apply(capacityOverrides(fs, o)); err != nil {
		return forFlags(err, fs, spec.Source())
	}
	if err := checkInputFiles(fs); err != nil {
		return err
	}
	search, err := spec.Capacity.Search()
	if err != nil {
		return usagef("%v", err)
	}
	cases, skipped, err := scenarios.Expand(*spec)
	if err != nil {
		return forFlags(err, fs, spec.Source())
	}
	for _, s := range skipped {
		fmt.Fprintf(env.stderr, "mtlsbench: skipping %s: %s\n", s.Case.Name, s.Reason)
	}
	if unused := unusedLoad(spec.Load); len(unused) > 0 && !o.run.quiet {
		fmt.Fprintf(env.stderr, "mtlsbench: the scenario's load.%s do not apply: the search sets each step's rate, warm-up and window\n", strings.Join(unused, ", load."))
	}
	out := resultPath(o.run.out, "mtlsbench-capacity-")
	if err := checkOutputs(output{"-o", out}, output{"--hdr-log", o.run.hdrLog}, output{"--cpuprofile", o.run.profile}); err != nil {
		return err
	}
	lv, err := o.run.live.open(env, out, string(format)) // --metrics-addr, --stream: before any load
	if err != nil {
		return err
	}
	defer lv.close()
	env = lv.env // with --stream -, what capacity prints goes to standard error
	stop, err := startProfile(o.run.profile)
	if err != nil {
		return err
	}
	defer stop()
	bench.Version = version()
	opts := bench.CapacityOptions{
		Options: bench.Options{
			Scenario: results.Scenario{Name: spec.Name, Source: spec.Source(), Spec: bench.SpecJSON(spec)},
			Cases:    cases,
			Log:      env.stderr,
			OnCase:   func(run *results.Run) { _ = results.WriteFile(out, run) },
			Watchers: lv.watchers,
			Width:    lv.width,
		},
		Search: search,
	}
	if !o.run.quiet {
		opts.Progress, opts.Live = env.stderr, env.stderrIsTerminal
		fmt.Fprintf(env.stderr, "mtlsbench: capacity search, scenario %s: %d cases, SLO %s, %s steps after %s warm-up\n",
			spec.Name, len(cases), search.Config.SLO, search.StepDuration, search.StepWarmup)
	}
	run, err := bench.Capacity(ctx, opts)
	if err != nil {
		return err
	}
	if err := results.WriteFile(out, run); err != nil {
		return err
	}
	if o.run.hdrLog != "" {
		if err := report.WriteHDRLogFile(o.run.hdrLog, run); err != nil {
			return err
		}
	}
	if !o.run.quiet {
		if err := report.Render(env.stdout, run, format, report.RenderOptions{}); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.stderr, "mtlsbench: result written to %s\n", out)
	return runOutcome(env, run)
}

// capacityOverrides are run's overrides plus the search's. --step-duration
// is the search's here, not a --steps schedule's (capacity refuses --steps).
func capacityOverrides(fs *pflag.FlagSet, o *capacityOptions) scenarios.Overrides {
	ov := runOverrides(fs, &o.run)
	ov.Load.StepDuration = nil
	c := &ov.Capacity
	c.SLO = changed(fs, "slo", o.slo)
	c.Start = changed(fs, "start", o.start)
	c.Max = changed(fs, "max", o.max)
	c.StepDuration = changed(fs, "step-duration", o.run.stepDuration)
	c.StepWarmup = changed(fs, "step-warmup", o.stepWarmup)
	c.Resolution = changed(fs, "resolution", o.resolution)
	c.MaxSteps = changed(fs, "max-steps", o.maxSteps)
	c.Project = changed(fs, "project", o.project)
	for _, flag := range []string{"slo", "start", "max", "step-duration", "step-warmup", "resolution", "max-steps", "project"} {
		ov.Names["capacity."+strings.ReplaceAll(flag, "-", "_")] = "--" + flag
	}
	return ov
}

// unusedLoad names the load fields a scenario sets that a capacity search
// does not use.
func unusedLoad(l scenarios.LoadSpec) []string {
	var names []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"rate", l.Rate != 0}, {"steps", len(l.Steps) > 0}, {"duration", l.Duration != 0}, {"count", l.Count != 0},
		{"warmup", l.Warmup != 0}, {"ramp_up", l.RampUp != 0}, {"concurrency", l.Concurrency != 0},
	} {
		if f.set {
			names = append(names, f.name)
		}
	}
	return names
}
