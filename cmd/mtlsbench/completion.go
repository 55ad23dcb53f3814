package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/compare"
	"github.com/mtlsbench/mtlsbench/internal/outfile"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/report"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// The shell completion scripts are cobra's ('mtlsbench completion bash');
// the script calls 'mtlsbench __complete ARGS...', which is when the
// completions of flag values below are registered (cobra keeps them in a
// process-wide table, so they are not registered for any other run).

// isCompletionRequest reports whether args ask cobra for completions.
func isCompletionRequest(args []string) bool {
	return len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
}

// registerCompletions registers the value completions of the flags that
// take one of a list of names, on every command that has such a flag.
func registerCompletions(root *cobra.Command) {
	keyTypes := splitNames(pki.KeyTypeNames())
	lists := map[string][]string{
		"target":          {"builtin", "nginx", "haproxy", "openssl", "node"},
		"tls":             {"1.2", "1.3"},
		"key-type":        keyTypes,
		"client-key-type": keyTypes,
		"groups":          splitNames(tlsparams.GroupNames()),
		"key-share":       splitNames(tlsparams.GroupNames()),
		"ciphers":         splitNames(strings.TrimSuffix(tlsparams.SuiteNames(0), ", or their OpenSSL names")),
		"chain":           {"root", "intermediate"},
		"resume":          {"none", "tickets", "session-id"},
		"client":          {"go", "openssl"},
		"psk-mode":        {"dhe", "ke"},
		"auth":            {"mutual", "server", "none"},
		"mode":            {"handshake", "http", "http2"},
		"arrivals":        {"uniform", "poisson"},
		"client-signer":   {"go", "openssl"},
		"key-format":      {string(pki.PKCS8), string(pki.PKCS1), string(pki.SEC1)},
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, values := range lists {
			if f := c.LocalFlags().Lookup(name); f != nil {
				_, list := f.Value.(pflag.SliceValue)
				_ = c.RegisterFlagCompletionFunc(name, completeList(values, list || strings.Contains(f.DefValue, ",")))
			}
		}
		if f := c.LocalFlags().Lookup("format"); f != nil {
			_ = c.RegisterFlagCompletionFunc("format", completeList(formatsOf(c), false))
		}
		if f := c.LocalFlags().Lookup("file"); f != nil && f.Shorthand == "f" {
			_ = c.RegisterFlagCompletionFunc("file", completeScenario)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// formatsOf are the output formats c's --format takes.
func formatsOf(c *cobra.Command) []string {
	formats := []report.Format{report.FormatTable, report.FormatJSON, report.FormatMarkdown, report.FormatCSV} // run, capacity
	switch c.Name() {
	case "report":
		formats = report.Formats
	case "compare":
		formats = compare.Formats
	}
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	return names
}

// splitNames splits a help text's list of names ("a, b, c").
func splitNames(s string) []string {
	return strings.Split(s, ", ")
}

// completeList completes a flag's value from values. For a comma list
// (list) it completes the item after the last comma, offers no value
// already listed, and adds no space (another item may follow).
func completeList(values []string, list bool) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		done, item := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); list && i >= 0 {
			done, item = toComplete[:i+1], toComplete[i+1:]
		}
		listed := strings.Split(done, ",")
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, item) && !slices.Contains(listed, v) {
				out = append(out, done+v)
			}
		}
		directive := cobra.ShellCompDirectiveNoFileComp
		if list {
			directive |= cobra.ShellCompDirectiveNoSpace
		}
		return out, directive
	}
}

// completeScenario completes -f: the library's names, and files.
func completeScenario(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, e := range scenarios.Library() {
		if strings.HasPrefix(e.Name, toComplete) {
			out = append(out, cobra.CompletionWithDesc(e.Name, e.Description))
		}
	}
	return out, cobra.ShellCompDirectiveDefault
}

// newManCmd is the hidden 'mtlsbench man --dir DIR': one man page per
// command (mtlsbench.1, mtlsbench-run.1, mtlsbench-pki-gen.1, ...), made
// from the same definitions as the help.
func newManCmd(root *cobra.Command) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:    "man --dir DIR",
		Short:  "write the man pages of every command into a directory",
		Hidden: true,
		Args:   noArgs("give the directory with --dir"),
		RunE: func(c *cobra.Command, args []string) error {
			if dir == "" {
				return &usageError{err: fmt.Errorf("--dir DIR is needed: where to write the man pages"), help: c}
			}
			if err := outfile.CheckDir(dir); err != nil {
				return outputDirError("--dir", dir, err)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			header := &doc.GenManHeader{Title: "MTLSBENCH", Section: "1", Source: "mtlsbench " + version(), Manual: "mtlsbench manual"}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("write man pages: %w", err)
			}
			fmt.Fprintf(c.ErrOrStderr(), "mtlsbench man: wrote the man pages to %s\n", dir)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory to write the pages to (created if missing)")
	return c
}
