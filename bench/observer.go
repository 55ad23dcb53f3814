package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
)

// observer samples the target at the edges of the measured window (its CPU
// from /proc and its own counts) and draws the progress line. A target
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
}

func newObserver(ctx context.Context, tgt targets.Target, opts Options, c *scenarios.Case, n, total int, pids []int) *observer {
	o := &observer{ctx: ctx, target: tgt, pids: pids, opts: opts, name: c.Name, n: n, total: total}
	o.window, _ = tgt.(targets.WindowCounter)
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

func (o *observer) Interval(results.Interval) {}

// Progress draws the status line: redrawn in place on a terminal, a plain
// line every 10 s otherwise (CI logs).
func (o *observer) Progress(p loadgen.Progress) {
	w := o.opts.Progress
	if w == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.opts.Live {
		if time.Since(o.lastPlain) < 10*time.Second {
			return
		}
		o.lastPlain = time.Now()
	}
	line := fmt.Sprintf("[%d/%d] %s  %s %s", o.n, o.total, o.name, p.Phase, progressTime(p))
	if p.Phase == "measure" {
		line += fmt.Sprintf("  %.0f hs/s  p99 %s  ok %d  errors %d  in flight %d", p.Rate, us(p.P99Us), p.OK, p.Errors, p.InFlight)
	}
	if o.opts.Live {
		fmt.Fprintf(w, "\r\x1b[K%s", line)
		o.drew = true
	} else {
		fmt.Fprintln(w, line)
	}
}

func progressTime(p loadgen.Progress) string {
	if p.Total > 0 {
		return fmt.Sprintf("%.1fs/%.1fs", p.Elapsed.Seconds(), p.Total.Seconds())
	}
	return fmt.Sprintf("%.1fs", p.Elapsed.Seconds())
}

func us(v int64) string {
	switch {
	case v >= 10_000_000:
		return fmt.Sprintf("%.0fs", float64(v)/1e6)
	case v >= 10_000:
		return fmt.Sprintf("%.1fms", float64(v)/1e3)
	case v >= 1_000:
		return fmt.Sprintf("%.2fms", float64(v)/1e3)
	}
	return fmt.Sprintf("%dµs", v)
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
