package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mtlsbench/mtlsbench/scenarios"
)

func init() { register(newScenariosCmd) }

func newScenariosCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{
		Use:   "scenarios",
		Short: "list or show the built-in scenarios (and check a scenario file)",
		Long:  "The built-in scenarios, each a question with the matrix that answers it. Run one with 'mtlsbench run -f NAME|FILE'.",
		Example: `  mtlsbench scenarios list                  the built-in scenarios, one line each
  mtlsbench scenarios show NAME|FILE        print a scenario's YAML (built-in ones explain themselves)
  mtlsbench scenarios show --cases NAME|FILE
                                            check it and list the cases it expands to, with
                                            their keys, and the cells skipped and why`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	var opts scenariosShowOptions
	show := &cobra.Command{
		Use:   "show [--cases] NAME|FILE",
		Short: "print a scenario's YAML, or with --cases the cases it expands to",
		Long: "Print a scenario's YAML (the built-in ones explain themselves), or with --cases check\n" +
			"it and list the cases it expands to, with their keys, and the cells skipped and why.",
		Example: "  mtlsbench scenarios show quick\n  mtlsbench scenarios show --cases my.yaml",
		Args:    exactArgs(1, fmt.Sprintf("one scenario name or file (built-in: %s)", scenarios.LibraryNames())),
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completeScenario(c, args, toComplete)
		},
		RunE: func(c *cobra.Command, args []string) error {
			return runScenariosShow(env, args[0], &opts)
		},
	}
	show.Flags().BoolVar(&opts.cases, "cases", false, "check the scenario and list its cases (name and key) and skipped cells")
	c.AddCommand(&cobra.Command{
		Use:     "list",
		Short:   "the built-in scenarios, one line each, with what each answers",
		Long:    "List the built-in scenarios with what each answers; run one with 'mtlsbench run -f NAME'.",
		Example: "  mtlsbench scenarios list\n  mtlsbench run -f key-types",
		Args:    noArgs("scenarios list takes no arguments"),
		RunE:    func(c *cobra.Command, args []string) error { return runScenariosList(env) },
	}, show)
	return c
}

func runScenariosList(env *cliEnv) error {
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

func runScenariosShow(env *cliEnv, name string, opts *scenariosShowOptions) error {
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
