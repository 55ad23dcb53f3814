// Command mtlsbench measures what mutual TLS costs: it drives concurrent
// full and resumed mTLS handshakes against a target and records latency,
// throughput, bytes and CPU per handshake on both sides.
//
// This package is a thin CLI over spf13/cobra: one file per subcommand, each
// a constructor of its cobra.Command whose flags (pflag) parse into an
// options struct and whose RunE calls the libraries. help.go groups the
// flags in the help, completion.go completes their values and writes the
// man pages. Only this package handles signals and turns errors into exit
// codes (errors.go).
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
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtlsbench/mtlsbench/internal/cleanup"
	"github.com/mtlsbench/mtlsbench/internal/tempdir"
	"github.com/mtlsbench/mtlsbench/loadgen"
)

// Exit codes: 0 ok; 1 a run failed its own checks or a regression was
// found; 2 bad usage or input; 130 interrupted.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// cliEnv is what a subcommand may touch besides its arguments, so tests can
// run subcommands in-process.
type cliEnv struct {
	stdout, stderr io.Writer
	// stderrIsTerminal enables live progress.
	stderrIsTerminal bool
}

// commands are the constructors of the subcommands; each subcommand file
// adds its own from init. A command tree is built anew for every runCLI
// (flags parse into the options struct a constructor allocates), so
// nothing of one invocation survives into the next.
var commands []func(env *cliEnv) *cobra.Command

// register adds a subcommand's constructor.
func register(newCmd func(env *cliEnv) *cobra.Command) {
	commands = append(commands, newCmd)
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

// runCLI runs the command line args (without the program name) and maps
// its outcome to an exit code. Every error is printed here, once, as one
// line prefixed by the command ("mtlsbench pki gen: ..."; see errorLine).
func runCLI(ctx context.Context, env *cliEnv, args []string) int {
	root := newRootCmd(env)
	if args == nil {
		args = []string{} // cobra reads os.Args for nil
	}
	root.SetArgs(args)
	if isCompletionRequest(args) {
		registerCompletions(root)
	}
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	var silent *silentError
	if !errors.As(err, &silent) {
		fmt.Fprintln(env.stderr, errorLine(cmd, err))
	}
	return code
}

const rootLong = `mtlsbench measures what mutual TLS costs: it drives concurrent full and
resumed mTLS handshakes against a target (its own built-in server, nginx,
HAProxy, openssl s_server or any server you run) and records latency,
throughput, bytes and CPU per handshake on both sides.

Exit codes: 0 ok, 1 a run failed its checks or a regression was found,
2 bad usage or input (before any load), 130 interrupted.`

const rootExamples = `  mtlsbench run                          the 'quick' scenario against the built-in target
  mtlsbench run -f key-types -d 5s       a library scenario, 5 s per case
  mtlsbench scenarios list               the built-in scenarios
  mtlsbench report results/x.json -o report.html
  mtlsbench compare base.json head.json  exit 1 on a regression
  mtlsbench completion bash > /etc/bash_completion.d/mtlsbench`

// newRootCmd builds the command tree: the root and every registered
// subcommand, writing to env's streams.
func newRootCmd(env *cliEnv) *cobra.Command {
	root := &cobra.Command{
		Use:     "mtlsbench",
		Short:   "measure what mutual TLS costs",
		Long:    rootLong,
		Example: rootExamples,
		Version: version(),
		// No arguments: the help, and exit 2 (nothing was asked for).
		RunE: func(c *cobra.Command, args []string) error {
			_ = c.Help()
			return &silentError{code: exitUsage}
		},
		Args:          unknownCommand,
		SilenceErrors: true, // runCLI prints them, once
		SilenceUsage:  true, // an error is one line, not the help
	}
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetVersionTemplate("mtlsbench {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	root.SetUsageFunc(usage)
	root.SetHelpCommand(newHelpCmd(root))
	root.DisableAutoGenTag = true // man pages the same from one build to the next
	for _, newCmd := range commands {
		root.AddCommand(newCmd(env))
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  noArgs("version takes no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			fmt.Fprintln(env.stdout, "mtlsbench", version())
			fmt.Fprintln(env.stdout, "go client:", loadgen.StackGo.Capabilities().Library)
			if err := loadgen.StackOpenSSL.Available(); err != nil {
				fmt.Fprintln(env.stdout, "openssl client: not in this build (it needs cgo and libssl's headers: apt-get install libssl-dev, then make build)")
			} else {
				fmt.Fprintln(env.stdout, "openssl client:", loadgen.OpenSSLVersion())
			}
			return nil
		},
	})
	root.AddCommand(newManCmd(root))
	root.InitDefaultCompletionCmd()
	if completion, _, err := root.Find([]string{"completion"}); err == nil && completion != root {
		completion.Short = "print the shell completion script: bash, zsh, fish or powershell"
		completion.Example = "  source <(mtlsbench completion bash)\n  mtlsbench completion zsh > \"${fpath[1]}/_mtlsbench\"\n  mtlsbench completion fish > ~/.config/fish/completions/mtlsbench.fish"
		completion.Args, completion.RunE = cobra.ArbitraryArgs, groupRunE
	}
	return root
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

// usageError marks bad flags or input: exit 2. When help is set (a flag
// that does not parse, arguments a command does not take), the printed
// line ends by citing the command's help: "; see 'mtlsbench help run'".
type usageError struct {
	err  error
	help *cobra.Command
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
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
