package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/scenarios"
)

func init() {
	register("scenarios", "list or show the built-in scenarios (and check a scenario file)", runScenarios)
}

const scenariosUsage = `Usage:
  mtlsbench scenarios list                  the built-in scenarios, one line each
  mtlsbench scenarios show NAME|FILE        print a scenario's YAML (built-in ones explain themselves)
  mtlsbench scenarios show --cases NAME|FILE
                                            check it and list the cases it expands to, with
                                            their keys, and the cells skipped and why

Run one with 'mtlsbench run -f NAME|FILE'.
`

// runScenarios dispatches 'scenarios list' and 'scenarios show'.
func runScenarios(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.stderr, scenariosUsage)
		return usagef("scenarios needs a command: list or show")
	}
	switch args[0] {
	case "list":
		return runScenariosList(env, args[1:])
	case "show":
		return runScenariosShow(env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(env.stdout, scenariosUsage)
		return pflag.ErrHelp
	}
	return usagef("unknown scenarios command %q (commands: list, show)", args[0])
}

func runScenariosList(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "scenarios list", "", "List the built-in scenarios with what each answers.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("scenarios list takes no arguments (got %q)", fs.Args())
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION")
	for _, e := range scenarios.Library() {
		fmt.Fprintf(tw, "%s\t%s\n", e.Name, e.Description)
	}
	return tw.Flush()
}

// scenariosShowOptions are the flags of 'scenarios show'.
type scenariosShowOptions struct {
	cases bool
}

func runScenariosShow(env *cliEnv, args []string) error {
	var opts scenariosShowOptions
	fs := newFlagSet(env, "scenarios show", "[--cases] NAME|FILE", "Print a scenario's YAML, or with --cases the cases it expands to.")
	fs.BoolVar(&opts.cases, "cases", false, "check the scenario and list its cases (name and key) and skipped cells")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("scenarios show takes one scenario name or file (built-in: %s)", scenarios.LibraryNames())
	}
	name := fs.Arg(0)
	spec, err := scenarios.Load(name)
	if err != nil {
		return err
	}
	if opts.cases {
		return printCases(env.stdout, spec)
	}
	data, err := scenarios.Show(name)
	if err != nil { // not a library name: the file Load just read
		if data, err = os.ReadFile(name); err != nil {
			return err
		}
	}
	_, err = env.stdout.Write(data)
	return err
}

// printCases lists what spec expands to.
func printCases(w io.Writer, spec *scenarios.Spec) error {
	cases, skipped, err := scenarios.Expand(*spec)
	if err != nil {
		return err
	}
	repeat := max(spec.Repeat, 1)
	fmt.Fprintf(w, "%s: %d cases", spec.Name, len(cases))
	if repeat > 1 {
		fmt.Fprintf(w, " × %d repeats", repeat)
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, ", %d skipped", len(skipped))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tKEY")
	for _, c := range cases {
		fmt.Fprintf(tw, "%s\t%s\n", c.Name, c.Key)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(skipped) > 0 {
		fmt.Fprintln(w, "\nSkipped (the TLS stack cannot express them):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range skipped {
			fmt.Fprintf(tw, "%s\t%s\n", s.Case.Name, s.Reason)
		}
		return tw.Flush()
	}
	return nil
}
