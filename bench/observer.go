package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/live"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
)

// observer samples the target at the edges of the measured window (its CPU
// from /proc and its own counts), draws the progress line, and tells the
// watchers (Options.Watchers) of each interval and progress tick. A target
// whose record is timestamped (targets.WindowCounter: nginx's and HAProxy's
// logs) is not asked at the edges: after the load, it is asked what it
// recorded for the connections it accepted inside the window, which keeps
// the log reading out of the measured window entirely.
type observer struct {
	ctx    context.Context
	target targets.Target
	window targets.WindowCounter // nil: snapshots at the edges
	pids   []int
	opts   Options
	name   string
	n      int
	total  int
	// progress is the run's (nil outside a run's case loop); watched is
	// the case as the watchers are told of it.
	progress *runProgress
	watched  live.Case

	mu          sync.Mutex // guards the fields below (the engine's controller writes, finish reads)
	cpuStart    time.Duration
	cpuEnd      time.Duration
	cpuErr      error
	countsStart *targets.Counts
	counts      *targets.Counts
	countsErr   error
	// countsTook is how long the two snapshots took: handshakes completing
	// meanwhile may fall on either side of the target's window edge.
	countsTook      time.Duration
	lastPlain       time.Time
	drew            bool
	wallStart, wall time.Time
	// intervals is how many intervals the engine has reported.
	intervals int
	// rotator, when the case rotates its certificate, starts its
	// schedule as the window opens.
	rotator *rotator
}

func newObserver(ctx context.Context, tgt targets.Target, opts Options, c *scenarios.Case, n, total int, pids []int) *observer {
	o := &observer{ctx: ctx, target: tgt, pids: pids, opts: opts, name: c.Name, n: n, total: total,
		progress: opts.progress, lastPlain: time.Now()}
	o.window, _ = tgt.(targets.WindowCounter)
	if o.progress != nil {
		o.watched = o.progress.watched(0, 0)
	}
	return o
}

func pidsOf(c *scenarios.Case, tgt targets.Target) []int {
	if isExternal(c) {
		return c.Target.PIDs
	}
	return tgt.PIDs()
}

func (o *observer) treeCPU() (time.Duration, error) {
	var sum time.Duration
	for _, pid := range o.pids {
		d, err := procstat.TreeCPU(pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// afterInterrupt is how long the observer still waits for a target once
// the run has been interrupted: the run must stop within 2 s, and a
// frozen target would otherwise hold it for the whole bound.
const afterInterrupt = 300 * time.Millisecond

// countsContext bounds a question to the target by limit, and by
// afterInterrupt from the moment the run is interrupted.
func (o *observer) countsContext(limit time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	stop := context.AfterFunc(o.ctx, func() { time.AfterFunc(afterInterrupt, cancel) })
	return ctx, func() { stop(); cancel() }
}

func (o *observer) readCounts() (*targets.Counts, error) {
	ctx, cancel := o.countsContext(5 * time.Second)
	defer cancel()
	start := time.Now()
	c, err := o.target.Counts(ctx)
	o.countsTook += time.Since(start)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (o *observer) WindowStart(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.wallStart = t
	if len(o.pids) > 0 {
		o.cpuStart, o.cpuErr = o.treeCPU()
	}
	if o.window == nil {
		o.countsStart, o.countsErr = o.readCounts()
	}
	o.rotator.start(time.Now()) // the window opens as this returns
}

func (o *observer) WindowEnd(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.wall = t
	if len(o.pids) > 0 && o.cpuErr == nil {
		o.cpuEnd, o.cpuErr = o.treeCPU()
	}
	if o.window == nil && o.countsErr == nil {
		o.counts, o.countsErr = o.readCounts()
	}
}

// windowCounts asks a WindowCounter target for the window's counts; call it
// after the load has stopped, before the target is closed.
func (o *observer) windowCounts() {
	if o.window == nil || o.wallStart.IsZero() || o.wall.IsZero() {
		return
	}
	// CountsBetween waits for the log to go quiet, at most 30 s.
	ctx, cancel := o.countsContext(40 * time.Second)
	defer cancel()
	c, err := o.window.CountsBetween(ctx, o.wallStart, o.wall)
	if err != nil {
		o.countsErr = err
		return
	}
	o.countsStart, o.counts = &targets.Counts{}, &c
}

// Interval tells the watchers about a completed interval.
func (o *observer) Interval(iv results.Interval) {
	o.mu.Lock()
	o.intervals++
	o.mu.Unlock()
	for _, w := range o.opts.Watchers {
		w.Interval(&o.watched, iv)
	}
}

// Progress tells the watchers, and draws the status line: redrawn in
// place on a terminal, fitted to its width; a plain line every 10 s
// otherwise (CI logs).
func (o *observer) Progress(p loadgen.Progress) {
	for _, w := range o.opts.Watchers {
		w.Progress(&o.watched, p)
	}
	out := o.opts.Progress
	if out == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.opts.Live {
		if time.Since(o.lastPlain) < plainEvery {
			return
		}
		o.lastPlain = time.Now()
		fmt.Fprintln(out, o.status(p).render(0))
		return
	}
	width := defaultWidth
	if o.opts.Width != nil {
		if w := o.opts.Width(); w > 0 {
			width = w
		}
	}
	fmt.Fprintf(out, "\r\x1b[K%s", o.status(p).render(width))
	o.drew = true
}

// status is what the status line says at p.
func (o *observer) status(p loadgen.Progress) statusLine {
	s := statusLine{
		n: o.n, total: o.total, name: o.name, phase: p.Phase, clock: progressTime(p),
		measured: o.intervals > 0, rate: p.Rate, p99Us: p.P99Us, ok: p.OK, errors: p.Errors, inFlight: p.InFlight,
	}
	if o.progress != nil {
		s.eta = o.progress.eta()
	}
	return s
}

// progressTime is the phase's clock: "3.2s/10s", or "3.2s" for a window
// that ends at a count. The elapsed time is written in the total's unit
// and padded to its width, so that the line keeps its length as it is
// redrawn (a field that comes and goes as the line is fitted would
// flicker).
func progressTime(p loadgen.Progress) string {
	if p.Total <= 0 {
		return shortDuration(p.Elapsed)
	}
	total := shortDuration(p.Total)
	var elapsed string
	switch {
	case p.Total < 10*time.Second:
		elapsed = fmt.Sprintf("%.1fs", p.Elapsed.Seconds())
	case p.Total < time.Minute || p.Elapsed < time.Minute:
		elapsed = fmt.Sprintf("%ds", int(p.Elapsed.Seconds()))
	default:
		elapsed = shortDuration(p.Elapsed.Truncate(time.Second))
	}
	return fmt.Sprintf("%*s/%s", utf8.RuneCountInString(total), elapsed, total)
}

// forStep makes the observer a capacity search step's: the watchers see
// the step and its rate.
func (o *observer) forStep(step int, rate float64) {
	if o.progress != nil {
		o.watched = o.progress.watched(step, rate)
	}
}

// tellEnd tells the watchers what the engine's result has that they have
// not seen: the intervals harvested after the window closed (the last,
// partial one) and the final counts, as a last Progress.
func (o *observer) tellEnd(res *loadgen.Result) {
	if len(o.opts.Watchers) == 0 {
		return
	}
	for _, iv := range res.Intervals[min(o.intervals, len(res.Intervals)):] {
		for _, w := range o.opts.Watchers {
			w.Interval(&o.watched, iv)
		}
	}
	o.intervals = len(res.Intervals)
	end := loadgen.Progress{Phase: live.PhaseEnd, Elapsed: res.Duration, OK: res.OK, Errors: res.Errors, ErrorsByClass: res.ErrorsByClass}
	for _, w := range o.opts.Watchers {
		w.Progress(&o.watched, end)
	}
}

// finish clears the live line.
func (o *observer) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.drew {
		fmt.Fprint(o.opts.Progress, "\r\x1b[K")
		o.drew = false
	}
}

// apply adds the target's CPU and counts to the case, and cross-checks.
func (o *observer) apply(out *results.Case, res *loadgen.Result, c *scenarios.Case) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tellEnd(res)
	o.windowCounts()
	if len(o.pids) > 0 {
		if o.cpuErr != nil {
			out.Warnings = append(out.Warnings, "target CPU not measured: "+o.cpuErr.Error())
		} else {
			cpu := o.cpuEnd - o.cpuStart
			out.CPU.TargetMeasured = true
			if res.OK > 0 {
				out.CPU.TargetUsPerHandshake = float64(cpu.Microseconds()) / float64(res.OK)
			}
			if wall := o.wall.Sub(o.wallStart); wall > 0 {
				out.CPU.TargetUtilization = cpu.Seconds() / wall.Seconds()
			}
		}
	}
	if o.countsErr != nil {
		if !errors.Is(o.countsErr, targets.ErrNoCounts) {
			out.Warnings = append(out.Warnings, "target counts not read: "+o.countsErr.Error())
		}
		return
	}
	if o.counts == nil || o.countsStart == nil {
		return
	}
	d := o.counts.Sub(*o.countsStart)
	tc := &results.TargetCounts{
		Source: targetSource(c), Handshakes: d.Handshakes, Resumed: d.Resumed, Failed: d.Failed,
		VerifyFailures: d.VerifyFailures, Versions: d.Versions, Ciphers: d.Ciphers,
		ClientVerify: d.ClientVerify,
		Requests:     d.Requests, HTTP2Requests: d.HTTP2Requests,
		EarlyData: d.EarlyData, EarlyDataBytes: d.EarlyDataBytes,
	}
	out.TargetCounts = tc
	if out.Status == results.StatusOK {
		inFlight := int64(c.Load.Concurrency)
		if res.Load.PeakInFlight > inFlight {
			inFlight = res.Load.PeakInFlight
		}
		// Handshakes completing while the snapshots were read may fall on
		// either side of the target's window edge; with a WindowCounter,
		// those started within a few milliseconds of an edge may be
		// accepted on the other side of it.
		edgeTime := o.countsTook
		if o.window != nil {
			edgeTime = 5 * time.Millisecond
		}
		edge := int64(math.Ceil(res.HandshakesPerS() * edgeTime.Seconds()))
		crosscheck(out, tc, inFlight+edge)
	}
}

func targetSource(c *scenarios.Case) string {
	switch c.Target.Kind {
	case "", string(targets.KindBuiltin):
		return "builtin target's counters"
	case string(targets.KindNginx):
		return "nginx access log"
	case string(targets.KindHAProxy):
		return "haproxy log"
	case string(targets.KindOpenSSL):
		return "openssl s_server statistics"
	}
	return c.Target.Kind
}

var _ loadgen.Observer = (*observer)(nil)
