package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
	"github.com/mtlsbench/mtlsbench/live"
)

// liveOptions are the flags of what a run shows while it runs, for
// machines: live Prometheus metrics and an NDJSON stream (package live).
// run and capacity take them.
type liveOptions struct {
	metricsAddr string
	stream      string
}

func addLiveFlags(fs *pflag.FlagSet, o *liveOptions) {
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve live metrics (Prometheus/OpenMetrics text) at http://ADDR/metrics while the run lasts, e.g. 127.0.0.1:9464 (:0 picks a free port; the address is printed)")
	fs.StringVar(&o.stream, "stream", "", "write one JSON record per line as the run goes (each case's start, every interval, each case's end and verdict) to this file; - writes it to standard output")
	setGroup(fs, "output", "metrics-addr", "stream")
}

// liveOutputs are the live outputs a command opened: the watchers to give
// bench, the terminal's width, the environment to print the rest through
// and what to close when the run is over.
type liveOutputs struct {
	// env is the command's environment, or with --stream - a copy whose
	// standard output is standard error: the stream owns standard output.
	env      *cliEnv
	watchers []live.Watcher
	width    func() int
	stream   *live.Stream
	server   *live.Server
}

// open checks and opens the live outputs before any load: a bad address
// or stream file is a usage error (exit 2). out is the result file ("-":
// standard output) and format what the command prints, for the checks
// that --stream - shares with -o -. The caller closes what it returns.
func (o *liveOptions) open(env *cliEnv, out, format string) (*liveOutputs, error) {
	lo := &liveOutputs{env: env}
	if env.stderrIsTerminal {
		lo.width = terminalWidth(os.Stderr)
	}
	switch o.stream {
	case "":
	case "-":
		if out == "-" {
			return nil, usagef("--stream - and -o - both write to standard output: give one of them a file")
		}
		if format != "table" {
			return nil, usagef("--format %s with --stream -: standard output carries the stream (the table goes to standard error)", format)
		}
		lo.stream = live.NewStream(env.stdout)
		lo.env = &cliEnv{stdout: env.stderr, stderr: env.stderr, stderrIsTerminal: env.stderrIsTerminal}
	default:
		if err := checkOutputs(output{"-o", out}, output{"--stream", o.stream}); err != nil {
			return nil, err
		}
		s, err := live.CreateStream(o.stream)
		if err != nil {
			if pe, ok := errors.AsType[*outfile.PathError](err); ok {
				return nil, &usageError{err: &outputError{flag: "--stream", err: pe}}
			}
			return nil, &usageError{err: fmt.Errorf("--stream %s: %w", o.stream, err)}
		}
		lo.stream = s
	}
	if lo.stream != nil {
		lo.watchers = append(lo.watchers, lo.stream)
	}
	if o.metricsAddr != "" {
		m := live.NewMetrics()
		srv, err := live.Listen(o.metricsAddr, m)
		if err != nil {
			lo.close()
			return nil, &usageError{err: fmt.Errorf("--metrics-addr: %w", err)}
		}
		lo.server = srv
		lo.watchers = append(lo.watchers, m)
		fmt.Fprintf(env.stderr, "mtlsbench: live metrics at http://%s/metrics\n", srv.Addr())
	}
	return lo, nil
}

// close stops the metrics server and ends the stream, saying on standard
// error what went wrong writing it (the run's own result stands).
func (lo *liveOutputs) close() {
	if lo.server != nil {
		_ = lo.server.Close()
		lo.server = nil
	}
	if lo.stream != nil {
		if err := lo.stream.Close(); err != nil {
			fmt.Fprintf(lo.env.stderr, "mtlsbench: --stream: %v\n", err)
		}
		lo.stream = nil
	}
}
