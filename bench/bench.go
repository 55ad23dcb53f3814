// Package bench orchestrates a scenario run: for each case and repeat it
// prepares the PKI, starts the target, runs the engine, samples the
// target's CPU and its own counts at the edges of the measured window,
// cross-checks the two sides, and assembles the result. It owns progress
// reporting and partial results on interrupt; it knows nothing of TLS wire
// details, which are the engine's.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mtlsbench/mtlsbench/live"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// Options configure a Run. Zero values have defaults, noted per field.
type Options struct {
	// Scenario is recorded in the result as run.
	Scenario results.Scenario
	// Cases to run, in order; Repeat times each (zero means 1).
	Cases  []scenarios.Case
	Repeat int
	// ChildCommand starts the built-in target as a child process. Zero
	// means this executable with "serve --child".
	ChildCommand []string
	// Progress receives the progress of the run. Live (a terminal): a
	// status line redrawn in place about four times a second, fitted to
	// Width, and a line as each case ends. Not Live (a CI log): a line as
	// each case starts and ends, and a status line every 10 s. Nil means
	// no progress.
	Progress io.Writer
	Live     bool
	// Width reports the terminal's width in columns, asked at each redraw
	// of the live status line, which is fitted to one column less so that
	// it never wraps. Nil, or a value below 1, means 80.
	Width func() int
	// Watchers are told about each case as it starts, measures and ends
	// (live metrics, a stream), from the run's goroutine and the engine's
	// controller, never from a worker. Nil means none.
	Watchers []live.Watcher
	// Log receives notes and warnings as they happen. Nil means none.
	Log io.Writer
	// OnCase, if set, is called after each case with its result (e.g. to
	// write a partial file).
	OnCase func(run *results.Run)
	// Sharding makes the run one shard of several and puts its cases on a
	// shared timeline. Zero: a run of its own. Run only; Capacity refuses
	// it (each search chooses its own rates).
	Sharding Sharding
	// OverFDLimit runs a case whose closed loop needs more connections at
	// once than this process's file-descriptor limit allows (see
	// loadgen.Config.OverFDLimit). Zero: Run refuses it before any load
	// with an *InputError. Run only.
	OverFDLimit bool

	// progress is the run's progress, set by eachCase and shared by its
	// cases' observers (which get a copy of Options).
	progress *runProgress
}

// InputError is a scenario that cannot be run as asked (a TLS 1.3 suite on
// a target that cannot pin one, a group the target lacks, an unreadable
// key file): refused before any load. Callers map it to exit code 2.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Run runs every case and returns the result. It returns the result with
// Interrupted set (and a nil error) when ctx is cancelled mid-run; an error
// only when nothing could run (an *InputError for a scenario refused before
// any load). Failed cases are in the result with their status.
func Run(ctx context.Context, opts Options) (*results.Run, error) {
	if opts.Repeat <= 0 {
		opts.Repeat = 1
	}
	// Everything that can be refused is refused before the first case runs.
	if err := checkSharding(&opts); err != nil {
		return nil, err
	}
	r, err := prepare(ctx, &opts)
	if err != nil {
		return nil, err
	}
	for i := range opts.Cases {
		if err := r.checkFDLimit(&opts.Cases[i]); err != nil {
			return nil, err
		}
	}
	run := newRun(&opts)
	if err := r.startTimeline(ctx, run); err != nil {
		return nil, err
	}
	defer r.stopTimeline(run)
	if err := r.eachCase(ctx, run, opts.Repeat, r.runCase); err != nil {
		return nil, err
	}
	return run, nil
}

// caseFunc runs one case (repeat rep, the n-th of total) and returns its
// result, or an error when it could not run.
type caseFunc func(ctx context.Context, c *scenarios.Case, rep, n, total int) (*results.Case, error)

// eachCase is the case loop Run and Capacity share. For every repeat and
// every case, in order, it calls one and appends the case's result to run:
// a case that could not run is recorded as failed (or interrupted) with
// the reason, and the loop goes on; an *InputError ends it and is
// returned, since nothing of the run should stand. It stops, marking run
// Interrupted, when ctx is cancelled or a case was interrupted, calls
// OnCase after each case, and sets run.End.
func (r *runner) eachCase(ctx context.Context, run *results.Run, repeat int, one caseFunc) error {
	cases := r.opts.Cases
	total := len(cases) * repeat
	progress := newRunProgress(&r.opts, repeat, r.search)
	r.opts.progress = progress
	defer r.warnings.summarize(r.logf)
	n := 0
	for rep := range repeat {
		for i := range cases {
			n++
			if ctx.Err() != nil {
				run.Interrupted = true
				break
			}
			progress.caseStart(&cases[i], rep, n, total)
			c, err := one(ctx, &cases[i], rep, n, total)
			var fatal *fatalError
			if err != nil {
				var ie *InputError
				if errors.As(err, &ie) {
					progress.abandon(failedCase(&cases[i], rep, err))
					return err
				}
				c = failedCase(&cases[i], rep, err)
			}
			progress.caseEnd(c)
			run.Cases = append(run.Cases, *c)
			if errors.As(err, &fatal) {
				// No later case can keep to the shared timeline.
				if r.opts.OnCase != nil {
					r.opts.OnCase(run)
				}
				r.logf("mtlsbench: %v: the run ends here", err)
				run.End = time.Now()
				return nil
			}
			if c.Status == results.StatusInterrupted {
				run.Interrupted = true
			}
			if r.opts.OnCase != nil {
				r.opts.OnCase(run)
			}
			if run.Interrupted {
				break
			}
		}
		if run.Interrupted {
			break
		}
	}
	run.End = time.Now()
	return nil
}

// Version is the tool version recorded in results; cmd sets it.
var Version = "devel"

// SpecJSON serialises a scenario spec for results.Scenario.Spec.
func SpecJSON(spec any) json.RawMessage {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil
	}
	return b
}

func (r *runner) logf(format string, a ...any) {
	if r.opts.Log != nil {
		fmt.Fprintf(r.opts.Log, format+"\n", a...)
	}
}

type runner struct {
	opts     Options
	timeline *timeline // nil: each case starts when the previous one is done
	pki      *pkiCache
	// warnings are those logged, each shown once per run with the first
	// case it came with, and at the end with every case.
	warnings warnings
	// search: the cases are capacity searches (their length is not known
	// ahead).
	search bool
}

// warn logs a case's warning the first time it comes, and notes the case
// for the summary at the end of the run.
func (r *runner) warn(caseName, text string) {
	if r.warnings.add(caseName, text) {
		r.logf("mtlsbench: %s: %s", caseName, text)
	}
}
