// Command mtlsbench measures what mutual TLS costs: it drives concurrent
// full and resumed mTLS handshakes against a target and records latency,
// throughput, bytes and CPU per handshake on both sides.
//
// This package is a thin CLI: one file per subcommand, each parsing its own
// pflag.FlagSet into an options struct and calling the libraries. Only this
// package handles signals and turns errors into exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/internal/cleanup"
	"github.com/mtlsbench/mtlsbench/internal/tempdir"
)

// Exit codes: 0 ok; 1 a run failed its own checks or a regression was
// found; 2 bad usage or input; 130 interrupted.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what a subcommand may touch besides its arguments, so tests can
// run subcommands in-process.
type cliEnv struct {
	stdout, stderr io.Writer
	// stderrIsTerminal enables live progress.
	stderrIsTerminal bool
}

var commands = map[string]command{}

// register adds a subcommand; each subcommand file calls it from init.
func register(name, summary string, run func(ctx context.Context, env *cliEnv, args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

func main() {
	ctx, stop := signalContext()
	defer stop()
	// A panic in main still kills the servers and removes the temporary
	// directories: deferred calls run while a panic unwinds.
	defer cleanup.Run()
	if !isChild(os.Args[1:]) {
		sweepStale(os.Stderr)
	}
	env := &cliEnv{stdout: os.Stdout, stderr: os.Stderr, stderrIsTerminal: isTerminal(os.Stderr)}
	code := runCLI(ctx, env, os.Args[1:])
	stop()
	cleanup.Run() // os.Exit runs no deferred call
	os.Exit(code)
}

// isChild reports whether this process is the built-in target's child
// ('serve --child'), started by an mtlsbench that has swept already.
func isChild(args []string) bool {
	return len(args) > 1 && args[0] == "serve" && slices.Contains(args[1:], "--child")
}

// sweepStale removes the temporary directories (they hold a server key)
// that an mtlsbench killed outright left behind: those whose owner
// process is gone (internal/tempdir).
func sweepStale(w io.Writer) {
	removed, err := tempdir.Sweep(os.TempDir())
	for _, dir := range removed {
		fmt.Fprintf(w, "mtlsbench: removed %s, left behind by an mtlsbench that was killed\n", dir)
	}
	// A temporary directory that is missing or unreadable holds nothing
	// to sweep; what could not be removed is worth a line.
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
		fmt.Fprintf(w, "mtlsbench: %v\n", err)
	}
}

// runCLI dispatches to a subcommand and maps its error to an exit code.
func runCLI(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(env.stdout, "mtlsbench", version())
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "mtlsbench: unknown command %q (commands: %s); see 'mtlsbench help'\n", args[0], strings.Join(commandNames(), ", "))
		return exitUsage
	}
	err := cmd.run(ctx, env, args[1:])
	if err == nil {
		return exitOK
	}
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	code := exitCode(err)
	var silent *silentError
	if !errors.As(err, &silent) {
		fmt.Fprintf(env.stderr, "mtlsbench %s: %v\n", args[0], err)
	}
	return code
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mtlsbench — measure what mutual TLS costs")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: mtlsbench <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, name := range commandNames() {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "  version    print the version")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'mtlsbench <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 run failed or regression found, 2 bad usage or input, 130 interrupted.")
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// signalContext returns a context cancelled by the first SIGINT or SIGTERM,
// which starts the graceful stop: load ends, the partial result is
// written, servers are stopped, temporary directories removed. A second
// signal, or a graceful stop still running gracefulStopLimit (3 s) after
// the first, exits at once with 130 — after killing the servers' process
// groups and removing the temporary directories (cleanup.Run, bounded by
// emergencyCleanupLimit), so nothing is left behind with a key in it.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(&interruptedError{sig: sig})
		case <-done:
			return
		}
		limit := time.NewTimer(gracefulStopLimit)
		defer limit.Stop()
		select {
		case <-ch:
			fmt.Fprintln(os.Stderr, "mtlsbench: second interrupt: stopping the servers, removing temporary files, exiting now")
		case <-limit.C:
			fmt.Fprintf(os.Stderr, "mtlsbench: still stopping %s after the interrupt: stopping the servers, removing temporary files, exiting now\n", gracefulStopLimit)
		case <-done:
			return
		}
		exitNow()
	}()
	var once bool
	return ctx, func() {
		if !once {
			once = true
			signal.Stop(ch)
			close(done)
			cancel(nil)
		}
	}
}

const (
	// gracefulStopLimit bounds the graceful stop after the first
	// interrupt. It normally takes well under a second; past this, what
	// it would still save (the interrupted case's partial result) is not
	// worth a run that does not stop.
	gracefulStopLimit = 3 * time.Second
	// emergencyCleanupLimit bounds cleanup.Run when exiting at once.
	emergencyCleanupLimit = time.Second
)

// exitNow undoes what must not outlive the process and exits with 130,
// while the graceful stop may still be running.
func exitNow() {
	finished := make(chan struct{})
	go func() {
		cleanup.Run()
		close(finished)
	}()
	t := time.NewTimer(emergencyCleanupLimit)
	select {
	case <-finished:
	case <-t.C:
	}
	os.Exit(exitInterrupted)
}

// interruptedError is the cause of a signal cancellation.
type interruptedError struct{ sig os.Signal }

func (e *interruptedError) Error() string { return "interrupted by " + e.sig.String() }

// usageError marks bad flags or input: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// silentError carries an exit code for a failure already reported to the
// user (e.g. a regression table), so runCLI prints nothing more.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var ie *interruptedError
	if errors.As(err, &ie) || errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	var se *silentError
	if errors.As(err, &se) {
		return se.code
	}
	if isInputError(err) {
		return exitUsage
	}
	return exitFailed
}

// newFlagSet returns a FlagSet that reports errors instead of exiting, with a
// usage line naming the subcommand.
func newFlagSet(env *cliEnv, name, args, summary string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: mtlsbench %s %s\n\n%s\n\nFlags:\n", name, args, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return &usageError{err}
	}
	return nil
}
