package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagGroup is a group of flags in the help: its key (setGroup) and
// heading.
type flagGroup struct{ key, title string }

// groupAnnotation is the pflag annotation that puts a flag in a group of
// the help (setGroup); its value is one of flagGroups' keys.
const groupAnnotation = "mtlsbench_group"

// flagGroups are the groups of the help, in the order printed. A flag in
// none is listed last, under "Other flags".
var flagGroups = []flagGroup{
	{"scenario", "Scenario"},
	{"target", "Target flags (what is measured)"},
	{"tls", "TLS axes (a comma list runs each value as its own case)"},
	{"load", "Load flags"},
	{"search", "Capacity search flags"},
	{"output", "Output flags"},
	{"shard", "Sharding flags (one run over several generators)"},
	{"k8s", "Kubernetes flags"},
}

// setGroup puts the flags names of fs in group, a key of flagGroups. A
// name or group that does not exist panics: every test that builds the
// command finds the mistake, which would otherwise drop flags from the
// help.
func setGroup(fs *pflag.FlagSet, group string, names ...string) {
	if !slices.ContainsFunc(flagGroups, func(g flagGroup) bool { return g.key == group }) {
		panic("mtlsbench: flag group " + group + " is not in flagGroups")
	}
	for _, name := range names {
		if err := fs.SetAnnotation(name, groupAnnotation, []string{group}); err != nil {
			panic("mtlsbench: flag group: " + err.Error()) // a flag renamed without its group
		}
	}
}

// helpWidth is the width flag descriptions are wrapped to.
const helpWidth = 100

// usage writes c's usage to c's output: the usage line, subcommands,
// examples and the flags in their groups. cobra's help is c.Long followed
// by this.
func usage(c *cobra.Command) error {
	w := c.OutOrStderr()
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "Usage:\n  %s COMMAND [flags]\n", c.CommandPath())
		fmt.Fprintln(w, "\nCommands:")
		width := 0
		for _, sub := range c.Commands() {
			width = max(width, len(sub.Name()))
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(w, "  %-*s  %s\n", width, sub.Name(), sub.Short)
			}
		}
	} else {
		fmt.Fprintf(w, "Usage:\n  %s\n", c.UseLine())
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
	}
	writeFlagGroups(w, c.Flags())
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun '%s' for a command's flags and examples.\n", helpCommand(c)+" COMMAND")
	}
	return nil
}

// writeFlagGroups writes the visible flags of fs under their groups'
// headings, in the order they were defined.
func writeFlagGroups(w io.Writer, fs *pflag.FlagSet) {
	sets := map[string]*pflag.FlagSet{} // by group key; "" holds the ungrouped
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		key := ""
		if g := f.Annotations[groupAnnotation]; len(g) > 0 {
			key = g[0]
		}
		set := sets[key]
		if set == nil {
			set = pflag.NewFlagSet(key, pflag.ContinueOnError)
			set.SortFlags = false
			sets[key] = set
		}
		set.AddFlag(f)
	})
	other, known := sets[""], false
	for _, g := range flagGroups {
		if set := sets[g.key]; set != nil {
			fmt.Fprintf(w, "\n%s:\n%s", g.title, set.FlagUsagesWrapped(helpWidth))
			known = true
		}
	}
	if other != nil {
		title := "Flags"
		if known {
			title = "Other flags"
		}
		fmt.Fprintf(w, "\n%s:\n%s", title, other.FlagUsagesWrapped(helpWidth))
	}
}

// helpCommand is the command that shows c's help: "mtlsbench help run".
func helpCommand(c *cobra.Command) string {
	path := c.CommandPath()
	root := c.Root().Name()
	if path == root {
		return root + " help"
	}
	return root + " help " + strings.TrimPrefix(path, root+" ")
}

// newHelpCmd is 'mtlsbench help [COMMAND...]': the help of a command, on
// standard output; an unknown command is a usage error (exit 2).
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "help about any command (also: mtlsbench COMMAND --help)",
		Long:  "Print the help of a command: what it does, its flags in groups, and examples.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return &usageError{err: fmt.Errorf("no help for %q: unknown command (commands: %s)", strings.Join(args, " "), commandList(root)), help: root}
			}
			return cmd.Help()
		},
	}
}

// commandList names root's visible commands: "bare-client, capacity, ...".
func commandList(c *cobra.Command) string {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return strings.Join(names, ", ")
}

// flagError is every command's error for a flag that does not parse
// (unknown, or a bad value): a usage error citing the command's help.
func flagError(c *cobra.Command, err error) error {
	return &usageError{err: err, help: c}
}

// unknownCommand is the root's argument check: any argument is a command
// it does not have (cobra found none of that name).
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return unknownSubcommand(c, args[0])
}

// unknownSubcommand is the usage error for name under c, with cobra's
// suggestions (commands one edit away, or starting with it).
func unknownSubcommand(c *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q", name)
	if c.HasParent() {
		msg = fmt.Sprintf("unknown %s command %q", c.Name(), name)
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default, applied only by its own message
	}
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return &usageError{err: fmt.Errorf("%s; commands: %s", msg, commandList(c)), help: c}
}

// groupRunE is the RunE of a command that only holds subcommands (pki,
// scenarios, k8s): without one, its usage on standard error and exit 2;
// with an unknown one, a usage error listing them.
func groupRunE(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		c.SetOut(c.ErrOrStderr())
		_ = c.Usage()
		return &usageError{err: fmt.Errorf("%s needs a command: %s", c.Name(), strings.ReplaceAll(commandList(c), ", ", " or ")), help: c}
	}
	return unknownSubcommand(c, args[0])
}

// noArgs is the argument check of a command that takes only flags; why
// says what to do instead ("use -f to name a scenario").
func noArgs(why string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return &usageError{err: fmt.Errorf("unexpected argument %q (%s)", args[0], why), help: c}
		}
		return nil
	}
}

// exactArgs is the argument check of a command that takes n arguments;
// want describes them for the error ("one result file").
func exactArgs(n int, want string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{err: fmt.Errorf("want %s, got %d arguments", want, len(args)), help: c}
		}
		return nil
	}
}

// minArgs is the argument check of a command that takes at least n
// arguments.
func minArgs(n int, want string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < n {
			return &usageError{err: fmt.Errorf("want %s", want), help: c}
		}
		return nil
	}
}
