// Package live owns what a run shows machines while it runs: the Watcher
// hook that bench calls as each case starts, measures and ends; a
// Prometheus/OpenMetrics exposition of the run (Metrics, served over HTTP
// by Server); and an NDJSON stream of one record per interval and case
// (Stream). It reads the result model and the engine's Progress; it runs
// no load and renders no report.
package live

import (
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
)

// Case is what a watcher is told of the case being run.
type Case struct {
	Name string
	Key  string
	// Repeat is the repeat this run of the case is (from 0).
	Repeat int
	// N and Total: this is the N-th case run of Total in the run (from 1,
	// repeats counted).
	N, Total int
	// Params are the case's parameters as the result records them.
	Params results.Params
	// Step is a capacity search's step (from 1) and StepRate its rate in
	// handshakes per second; both zero in a run and in CaseStart and
	// CaseEnd, which are about the whole case.
	Step     int
	StepRate float64
}

// PhaseEnd is the Phase of the last Progress of a case (or a capacity
// step): its counts are the engine's final ones for it.
const PhaseEnd = "end"

// Watcher is told about a run as it happens. CaseStart and CaseEnd are
// called from the run's goroutine; Interval and Progress from the
// engine's controller goroutine (never from a worker), one case at a
// time. Calls must return quickly: a watcher that does I/O queues it.
type Watcher interface {
	// CaseStart: the case is about to be set up (PKI, target) and run.
	CaseStart(c *Case)
	// Interval: one interval of the case's measured window, as the result
	// will record it, the last one (partial) included.
	Interval(c *Case, iv results.Interval)
	// Progress: about four times a second, with the window's counts so
	// far; the last one of a case or step has Phase PhaseEnd and the
	// engine's final counts.
	Progress(c *Case, p loadgen.Progress)
	// CaseEnd: the case's result, its verdict in Status and Failure,
	// whether it ran or could not start.
	CaseEnd(c *Case, out *results.Case)
}
