package loadgen

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"net"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/loadgen/ossl"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Phases recorded per successful connection, by name in Result.Latency.
type phase int

const (
	phaseConnect phase = iota
	phaseHandshake
	phaseFirstByte
	phaseVerify
	phaseSign
	phaseRequests
	phaseTotal
	phaseTotalUncorrected
	phaseScheduleLag
	numPhases
)

var phaseNames = [numPhases]string{
	"connect", "handshake", "first_byte", "verify", "sign", "requests",
	"total", "total_uncorrected", "schedule_lag",
}

// intervalSlots is the ring of interval recorders per lane: the slot being
// written, the one just finished (harvested a grace period after its end),
// and a spare, so a harvest never races a write.
const intervalSlots = 3

type intervalSlot struct {
	latency             *recorder
	ok, errors, resumed atomic.Int64
}

// lane is a set of recorders shared by the workers whose id maps to it.
type lane struct {
	phase     [numPhases]*recorder
	intervals [intervalSlots]intervalSlot
	segments  []*recorder
}

// engine is one run's shared state. Fields set before the workers start
// are read-only afterwards.
type engine struct {
	cfg Config
	tls *tls.Config // the client stack's configuration, which workers clone
	// ossl is the openssl client's SSL_CTX (nil with the go client), and
	// earlyData the bytes it sends as early data.
	ossl      *ossl.Ctx
	earlyData []byte
	// osslShared is the openssl client's first session stored, which a
	// worker without one adopts (osslWorker.adopt); nil until then.
	osslShared atomic.Pointer[ossl.Session]
	expect     expectation // what every handshake must negotiate
	host       string
	open       bool
	sched      Schedule // open loop, with the warm-up prefix; due times from t0
	// totalWorkers is the whole run's closed-loop concurrency (cfg's is
	// this shard's share); shareNote warns of identities shared by shards.
	totalWorkers int
	shareNote    string
	// starts are the offsets from t0 of the first open-loop starts, for
	// checking how shards interleave.
	starts     [StartSample]atomic.Int64
	schedStart time.Time
	segments   int
	target     *dialTarget

	t0 time.Time
	// The window's edges, as offsets from t0. plannedWs is when the warm-up
	// ends; the window opens (wsOff) just after the observer has sampled
	// the target there, and closes (weOff) just before it samples again, so
	// the target's counts and the client's cover the same handshakes.
	plannedWs time.Duration
	wsOff     atomic.Int64 // MaxInt64 until the window opens
	weOff     atomic.Int64 // MaxInt64 until it closes
	stopping  atomic.Bool
	stopCh    chan struct{}

	lanes []*lane
	// sharedSession is the first session a worker stored; workers
	// without one resume it (see worker.planResume).
	sharedSession atomic.Pointer[sharedSession]

	// harvestHist is the controller's reused interval histogram.
	harvestHist *hdrhistogram.Histogram

	// timers are the open loop's precise timers (see pace.go).
	timers preciseTimers

	mu      sync.Mutex // guards workers (an open loop adds workers)
	workers []*worker
	wg      sync.WaitGroup

	// reach is when connects failed: the target unreachable.
	reach reachability
	// holder keeps held connections (see hold.go); nil without Hold.
	holder *holder

	// Open loop.
	seq       atomic.Uint64
	idle      atomic.Int64
	limitHits atomic.Int64

	// Count mode.
	countDone    atomic.Int64
	countReached chan struct{}
	countOnce    sync.Once
}

// Run drives load as cfg says and returns the measured figures. It returns
// early, with Result.Interrupted set, when ctx is cancelled: new starts
// stop, connections in flight are cut off at once, and the window ends
// at the cancellation. A *ConfigError means cfg cannot run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if _, err := CheckFDLimit(c); err != nil {
		return nil, err
	}
	c, releaseSigners, err := c.withClientSigner()
	if err != nil {
		return nil, err
	}
	defer releaseSigners()
	target, err := resolveTarget(c.Addr, c.SourceAddrs)
	if err != nil {
		return nil, err
	}
	e := newEngine(c, target)
	if err := e.openOpenSSL(); err != nil {
		return nil, err
	}
	var res *Result
	defer func() { e.closeOpenSSL(res) }()
	if !c.StartAt.IsZero() {
		// The shared instant as a monotonic time, read once: due times
		// count from it exactly, however late the wake-up.
		late := -time.Until(c.StartAt)
		if late > LateStart {
			return nil, &LateStartError{StartAt: c.StartAt, Late: late}
		}
		e.t0 = time.Now().Add(-late)
		if !sleepCtx(ctx, time.Until(e.t0)) {
			return &Result{Interrupted: true, Start: time.Now()}, nil
		}
	}
	res, err = e.run(ctx)
	return res, err
}

// LateStart is how late after Config.StartAt a run may still begin: the
// time for a wake-up, not for a setup.
const LateStart = 50 * time.Millisecond

// LateStartError is a run asked to begin at an instant already past:
// another shard began then, and this one, not ready, must not begin
// later and shift the run's timeline. Its class is "late_start".
type LateStartError struct {
	StartAt time.Time
	Late    time.Duration
}

func (e *LateStartError) Error() string {
	return fmt.Sprintf("loadgen: late_start: ready %s after the run's start at %s (the other shards began on time; give the timeline more room between cases, or start the shards earlier)",
		e.Late.Round(time.Millisecond), e.StartAt.UTC().Format(time.RFC3339Nano))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// shardShare is c with this shard's share of the run's connections, cap
// and identities (see Shard), and a warning when shards must share
// identities.
func (c Config) shardShare() (Config, string) {
	if !c.Shard.Sharded() {
		return c, ""
	}
	c.Concurrency = c.Shard.Split(c.Concurrency)
	c.MaxInFlight = c.Shard.Split(c.MaxInFlight)
	ids, shared := Identities(c.Shard, c.Identities)
	c.Identities = ids
	if c.Revoked != nil {
		c.Revoked, _ = Identities(c.Shard, c.Revoked)
	}
	if shared {
		return c, fmt.Sprintf("%d client identities for %d shards: shards share them (generate at least %d for distinct ones)", len(ids), c.Shard.Count, c.Shard.Count)
	}
	return c, ""
}

func newEngine(c Config, target *dialTarget) *engine {
	total := c.Concurrency
	c, shareNote := c.shardShare()
	e := &engine{cfg: c, target: target, stopCh: make(chan struct{}), countReached: make(chan struct{}), totalWorkers: total, shareNote: shareNote}
	e.tls = goConfig(&c)
	if c.HTTP2 {
		e.tls.NextProtos = []string{"h2"}
	}
	e.expect = expect(c.TLS)
	if c.HTTP2 {
		e.expect.alpn = "h2"
	}
	e.host = c.ServerName
	if e.host == "" {
		e.host, _, _ = net.SplitHostPort(c.Addr)
	}
	if c.Hold > 0 {
		e.holder = newHolder(e, connectionsNeeded(&c))
	}
	e.plannedWs = c.Warmup
	e.wsOff.Store(math.MaxInt64)
	e.weOff.Store(math.MaxInt64)
	if c.Schedule != nil {
		e.open = true
		e.sched = arrivals(c)
		_, e.segments = c.Schedule.Segment(0)
	}
	nlanes := max(1, runtime.GOMAXPROCS(0))
	for range nlanes {
		l := &lane{}
		for p := range numPhases {
			switch phase(p) {
			case phaseRequests:
				if c.Requests == 0 {
					continue
				}
			case phaseTotalUncorrected, phaseScheduleLag:
				if !e.open {
					continue
				}
			}
			l.phase[p] = newRecorder()
		}
		for i := range l.intervals {
			l.intervals[i].latency = newRecorder()
		}
		if e.segments > 1 {
			for range e.segments {
				l.segments = append(l.segments, newRecorder())
			}
		}
		e.lanes = append(e.lanes, l)
	}
	return e
}

// arrivals is the open loop's schedule of this generator's starts: the
// run's schedule after a warm-up at its initial rate, spaced as asked and
// striped to this shard. Due times are from the start of the warm-up.
func arrivals(c Config) Schedule {
	s := warmed(c.Schedule, c.Warmup)
	switch {
	case c.Arrivals == ArrivalsPoisson:
		return NewPoisson(s, c.Seed, c.Shard)
	case c.Shard.Sharded():
		return Striped{Base: s, Shard: c.Shard}
	}
	return s
}

// warmed prefixes s with a warm-up at s's initial rate.
func warmed(s Schedule, warmup time.Duration) Schedule {
	return warmedSchedule{main: s, warmup: warmup, warm: Constant{Rate: s.RateAt(0), Length: warmup}}
}

type warmedSchedule struct {
	main   Schedule
	warm   Constant
	warmup time.Duration
}

func (w warmedSchedule) warmStarts() uint64 {
	if w.warmup <= 0 || w.warm.Rate <= 0 {
		return 0
	}
	return uint64(math.Ceil(w.warm.Rate*w.warmup.Seconds() - 1e-9))
}

func (w warmedSchedule) At(n uint64) (time.Duration, bool) {
	nw := w.warmStarts()
	if n < nw {
		return w.warm.At(n)
	}
	d, ok := w.main.At(n - nw)
	return w.warmup + d, ok
}
func (w warmedSchedule) Pace(elapsed time.Duration, started uint64) (time.Duration, bool) {
	return pace(w, elapsed, started)
}
func (w warmedSchedule) RateAt(t time.Duration) float64 {
	if t < w.warmup {
		return w.warm.Rate
	}
	return w.main.RateAt(t - w.warmup)
}
func (w warmedSchedule) Duration() time.Duration {
	if w.main.Duration() == 0 {
		return 0
	}
	return w.warmup + w.main.Duration()
}
func (w warmedSchedule) Segment(t time.Duration) (int, int) { return w.main.Segment(t - w.warmup) }

// inWindow reports whether a completion at t falls in the window.
func (e *engine) inWindow(t time.Time) bool {
	off := t.Sub(e.t0)
	return int64(off) >= e.wsOff.Load() && int64(off) < e.weOff.Load()
}

// counts is called once per completion in the window. In count mode it
// numbers completions, ends the window at the Count-th and refuses any
// beyond it.
func (e *engine) counts() bool {
	if e.cfg.Count == 0 {
		return true
	}
	n := e.countDone.Add(1)
	if n == e.cfg.Count {
		e.countOnce.Do(func() { close(e.countReached) })
	}
	return n <= e.cfg.Count
}

func (e *engine) intervalIndex(t time.Time) int {
	k := int((t.Sub(e.t0) - time.Duration(e.wsOff.Load())) / e.cfg.Interval)
	return max(k, 0)
}

func (e *engine) addWorker() *worker {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := newWorker(e, len(e.workers))
	e.workers = append(e.workers, w)
	return w
}

// grow adds an open-loop worker when every worker is busy and a start is
// late; at MaxInFlight it counts the hit instead. The check and the add
// are one step under the lock: late workers grow concurrently, and
// checking apart from adding let --max-in-flight 1000 reach 1,032.
func (e *engine) grow() {
	e.mu.Lock()
	if len(e.workers) >= e.cfg.MaxInFlight {
		e.mu.Unlock()
		e.limitHits.Add(1)
		return
	}
	w := newWorker(e, len(e.workers))
	e.workers = append(e.workers, w)
	e.mu.Unlock()
	e.wg.Go(w.runOpen)
}

// eachWorker calls f for every worker, under the lock (f must be quick).
// No copy of the list: with 10,000 workers, copying it for every progress
// tick was most of what the controller allocated.
func (e *engine) eachWorker(f func(w *worker)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, w := range e.workers {
		f(w)
	}
}

// runClosed is a closed-loop worker: one connection after another. After
// a connection that could not be opened (refused, unreachable, out of
// file descriptors or ports) it backs off before the next (see backoff):
// retrying at once made a gone target cost 60,000 refused connects a
// second, and fd exhaustion 100,000 EMFILE a second, starving every other
// process on the machine.
func (w *worker) runClosed(delay time.Duration) {
	if delay > 0 && !w.sleep(delay) {
		return
	}
	var b backoff
	for !w.eng.stopping.Load() {
		switch w.connection(time.Time{}) {
		case outcomeHeld:
			return // the holder runs this loop again
		case outcomeUnopened:
			if !w.sleep(b.next()) {
				return
			}
			continue
		}
		b.reset()
	}
}

// lateThreshold is how late an open-loop start must be before the engine
// concludes that no worker was free and adds one.
const lateThreshold = time.Millisecond

// runOpen is an open-loop worker: it claims the next start, waits until it
// is due and runs it. Idle workers each hold one claimed future start.
func (w *worker) runOpen() {
	e := w.eng
	for !e.stopping.Load() {
		n := e.seq.Add(1) - 1
		due, ok := e.sched.At(n)
		if !ok {
			return
		}
		intended := e.t0.Add(due)
		e.idle.Add(1)
		wait := time.Until(intended)
		if wait > 0 && !w.sleepUntil(intended, wait) {
			e.idle.Add(-1)
			return
		}
		if e.idle.Add(-1) == 0 && wait < -lateThreshold {
			e.grow()
		}
		if n < StartSample {
			e.starts[n].Store(int64(time.Since(e.t0)))
		}
		if w.connection(intended) == outcomeHeld {
			return // held: the holder runs this loop again
		}
	}
}

func (e *engine) run(ctx context.Context) (*Result, error) {
	res := &Result{Warmup: e.cfg.Warmup}
	for _, msg := range []string{fdLimitWarning(&e.cfg), e.shareNote} {
		if msg == "" {
			continue
		}
		res.Warnings = append(res.Warnings, msg)
		if w, ok := e.cfg.Observer.(Warner); ok {
			w.Warn(msg)
		}
	}
	if e.t0.IsZero() {
		e.t0 = time.Now()
	}
	res.StartInstant = e.t0
	e.schedStart = e.t0.Add(e.cfg.Warmup)

	// The controller's state. The window opens when the warm-up ends; with
	// no warm-up, before any worker starts, so that a burst of connections
	// at start (-c 10000 --hold) is counted from its first handshake.
	const progressEvery = 250 * time.Millisecond
	grace := min(e.cfg.Interval/4, 100*time.Millisecond)
	var (
		inWindow   bool
		ws         time.Duration // actual window start
		cpuStart   time.Duration
		nextHarv   = time.Duration(math.MaxInt64)
		harvested  int
		nextTick   time.Duration
		windowEnd  time.Duration
		intervals  []results.Interval
		interrupt  bool
		lastRate   float64
		lastP99    int64
		peakFlight int64
	)
	openWindow := func() {
		inWindow = true
		// The window opens at one instant for the engine and the
		// observer: a target whose record is timed (nginx's, HAProxy's,
		// node's logs) counts from exactly where the client does. (The
		// observer's instant used to be taken before its own sampling
		// and the engine's after it: under load, a few milliseconds of
		// handshakes the target counted and the client did not, and a
		// cross-check failed on them.)
		start := time.Now()
		ws = start.Sub(e.t0)
		e.wsOff.Store(int64(ws))
		if e.cfg.Observer != nil {
			e.cfg.Observer.WindowStart(start)
		}
		cpuStart = procstat.Self()
		res.Start = start
		nextHarv = ws + e.cfg.Interval + grace
		if e.cfg.Duration > 0 {
			windowEnd = ws + e.cfg.Duration
		}
	}
	if e.plannedWs <= 0 {
		openWindow()
	}
	if e.holder != nil {
		defer limitGC(connectionsNeeded(&e.cfg))()
		e.wg.Go(e.holder.run)
	}

	if e.open {
		initial := min(e.cfg.MaxInFlight, max(4, int(e.sched.RateAt(0)/50)))
		for range initial {
			w := e.addWorker()
			e.wg.Go(w.runOpen)
		}
	} else {
		n := e.cfg.Concurrency
		for i := range n {
			w := e.addWorker()
			var delay time.Duration
			if e.cfg.RampUp > 0 {
				// The one-machine ramp: global worker g starts at g/total.
				delay = e.cfg.RampUp * time.Duration(e.cfg.Shard.Global(i)) / time.Duration(e.totalWorkers)
			}
			e.wg.Go(func() { w.runClosed(delay) })
		}
	}

	// The controller: one timer, woken for the window edges, interval
	// harvests and progress ticks.
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		now := time.Since(e.t0)
		if !inWindow && now >= e.plannedWs {
			openWindow()
			now = ws
		}
		if inWindow && now >= nextHarv {
			iv := e.harvest(harvested, e.cfg.Interval)
			intervals = append(intervals, iv)
			lastRate, lastP99 = iv.HandshakesPerS, iv.P99Us
			harvested++
			nextHarv += e.cfg.Interval
			if e.cfg.Observer != nil {
				e.cfg.Observer.Interval(iv)
			}
		}
		if now >= nextTick {
			flight := e.inFlight()
			peakFlight = max(peakFlight, flight)
			if e.cfg.Observer != nil {
				e.cfg.Observer.Progress(e.progress(now, ws, inWindow, windowEnd, flight, lastRate, lastP99))
			}
			nextTick = now + progressEvery
		}
		if inWindow && windowEnd > 0 && now >= windowEnd {
			break
		}
		next := min(nextTick, nextHarv)
		if !inWindow {
			next = min(next, e.plannedWs)
		}
		if windowEnd > 0 {
			next = min(next, windowEnd)
		}
		timer.Reset(max(next-now, 0))
		select {
		case <-timer.C:
			continue
		case <-e.countReached:
		case <-ctx.Done():
			interrupt = true
		}
		break
	}

	// End of the window: close it, stop starting, then let the observer
	// sample the target (which can then only add the handshakes already
	// in flight), then drain.
	end := time.Now()
	endOff := end.Sub(e.t0)
	if !inWindow {
		// Interrupted during warm-up: an empty window.
		cpuStart = procstat.Self()
		res.Start = end
		ws = endOff
		e.wsOff.Store(int64(ws))
	}
	e.weOff.Store(int64(endOff))
	res.Unreachable, res.Outages = e.endOutages(endOff)
	e.stopping.Store(true)
	close(e.stopCh)
	cpuEnd := procstat.Self()
	if e.cfg.Observer != nil {
		e.cfg.Observer.WindowEnd(end)
	}
	// Connections in flight get up to 2 s to finish. After an interrupt
	// none: the window ended at the cancellation, so nothing they do now
	// counts, and a run must stop within 2 s of the signal even with
	// thousands of handshakes queued at a busy or frozen target.
	patience := 2 * time.Second
	if interrupt {
		patience = 0
	}
	e.drain(patience)
	e.timers.close()

	res.Interrupted = interrupt
	res.Duration = endOff - ws
	// Intervals not yet harvested, the last one partial.
	for ws+time.Duration(harvested)*e.cfg.Interval < endOff {
		from := ws + time.Duration(harvested)*e.cfg.Interval
		iv := e.harvest(harvested, min(e.cfg.Interval, endOff-from))
		if iv.DurationS > 0.001 {
			intervals = append(intervals, iv)
		}
		harvested++
	}
	res.Intervals = intervals
	e.collect(res, cpuEnd-cpuStart, peakFlight)
	return res, nil
}

// drain waits for workers to finish their connections, then cuts the
// stragglers off by expiring their deadlines.
func (e *engine) drain(patience time.Duration) {
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	t := time.NewTimer(patience)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	for {
		e.eachWorker(func(w *worker) {
			if c := w.current.Load(); c != nil {
				_ = c.SetDeadline(time.Now())
			}
		})
		select {
		case <-done:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (e *engine) inFlight() int64 {
	var n int64
	e.eachWorker(func(w *worker) { n += int64(w.active.Load()) })
	return n
}

func (e *engine) progress(now, ws time.Duration, inWindow bool, windowEnd time.Duration, flight int64, rate float64, p99 int64) Progress {
	p := Progress{Phase: "warmup", Elapsed: now, Total: e.plannedWs, InFlight: flight, Rate: rate, P99Us: p99}
	if inWindow {
		p.Phase = "measure"
		p.Elapsed = now - ws
		p.Total = 0
		if windowEnd > 0 {
			p.Total = windowEnd - ws
		}
		var byClass [numClasses]int64
		e.eachWorker(func(w *worker) {
			p.OK += w.ok.Load()
			failed := w.failed.Load()
			p.Errors += failed
			if failed == 0 {
				return
			}
			for c := range w.errs {
				byClass[c] += w.errs[c].Load()
			}
		})
		for c, n := range byClass {
			if n > 0 {
				if p.ErrorsByClass == nil {
					p.ErrorsByClass = map[string]int64{}
				}
				p.ErrorsByClass[Class(c).String()] = n
			}
		}
	}
	return p
}

// harvest reads and clears interval k's slots across lanes.
func (e *engine) harvest(k int, length time.Duration) results.Interval {
	// One histogram, reused: a harvest every interval allocates nothing
	// unless the interval has figures to encode (so held connections do
	// not grow the heap).
	if e.harvestHist == nil {
		e.harvestHist = results.NewHistogram()
	}
	h := e.harvestHist
	h.Reset()
	var ok, errs, resumed int64
	for _, l := range e.lanes {
		s := &l.intervals[k%intervalSlots]
		s.latency.addTo(h)
		ok += s.ok.Swap(0)
		errs += s.errors.Swap(0)
		resumed += s.resumed.Swap(0)
		s.latency.reset()
	}
	iv := results.Interval{
		OffsetS:   (time.Duration(k) * e.cfg.Interval).Seconds(),
		DurationS: length.Seconds(),
		Errors:    errs,
		Resumed:   resumed,
		InFlight:  e.inFlight(),
	}
	if length > 0 {
		iv.HandshakesPerS = float64(ok) / length.Seconds()
	}
	if h.TotalCount() > 0 {
		iv.P50Us = h.ValueAtQuantile(50)
		iv.P99Us = h.ValueAtQuantile(99)
		iv.HDR = results.EncodeHDR(h)
	}
	return iv
}

// collect merges the workers' and lanes' figures into res.
func (e *engine) collect(res *Result, cpu time.Duration, peakFlight int64) {
	cfg := &e.cfg
	res.Latency = map[string]*hdrhistogram.Histogram{}
	for p := range numPhases {
		h := results.NewHistogram()
		for _, l := range e.lanes {
			if l.phase[p] != nil {
				h.Merge(l.phase[p].snapshot())
				res.Clamped += l.phase[p].clamped.Load()
			}
		}
		if h.TotalCount() > 0 {
			res.Latency[phaseNames[p]] = h
		}
	}
	res.ErrorsByClass = map[string]int64{}
	res.Examples = map[string]string{}
	neg := map[negotiatedCount]int64{}
	e.mu.Lock()
	workers := e.workers
	e.mu.Unlock()
	for _, w := range workers {
		res.OK += w.ok.Load()
		res.Started += w.started
		res.Resumed += w.resumed
		res.HRR += w.hrr
		res.Primed += w.primed
		res.Requests += w.requests
		res.handshakeSent += w.hsSent
		res.handshakeRecv += w.hsRecv
		res.TotalSent += w.totalSent
		res.TotalReceived += w.totalRecv
		for c := range w.errs {
			n := w.errs[c].Load()
			if n == 0 {
				continue
			}
			name := Class(c).String()
			res.ErrorsByClass[name] += n
			res.Errors += n
			if _, ok := res.Examples[name]; !ok {
				res.Examples[name] = w.examples[c]
			}
		}
		for _, n := range w.negotiated {
			key := n
			key.count = 0
			neg[key] += n.count
		}
	}
	res.Attempted = res.OK + res.Errors
	if h := e.holder; h != nil {
		res.HoldChecked, res.HoldLost = h.checked, h.lost
		if msg := h.holdWarning(); msg != "" {
			res.Warnings = append(res.Warnings, msg)
		}
	}
	// Never nil: a case with no TLS handshake (plain TCP, or every one
	// failed) negotiated nothing, written [] and not null.
	res.Negotiated = make([]results.Negotiated, 0, len(neg))
	for k, n := range neg {
		res.Negotiated = append(res.Negotiated, results.Negotiated{
			TLSVersion: tlsparams.VersionString(k.version), CipherSuite: tlsparams.SuiteName(k.suite),
			Group: tlsparams.GroupName(k.group), Resumed: k.resumed, ServerKeyType: string(k.serverKey), Count: n,
		})
	}
	sort.Slice(res.Negotiated, func(i, j int) bool {
		a, b := res.Negotiated[i], res.Negotiated[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return fmt.Sprint(a) < fmt.Sprint(b)
	})
	if res.OK > 0 {
		res.HandshakeSentMean = float64(res.handshakeSent) / float64(res.OK)
		res.HandshakeReceivedMean = float64(res.handshakeRecv) / float64(res.OK)
	}
	res.ClientCPU = cpu
	res.ClientCores = ClientCores()
	if res.Duration > 0 && res.ClientCores > 0 {
		res.ClientUtilization = cpu.Seconds() / (res.Duration.Seconds() * res.ClientCores)
	}
	res.GeneratorBound = res.ClientUtilization > GeneratorBoundUtilization
	if res.GeneratorBound {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"the generator used %.0f%% of its %g cores: figures describe the generator as much as the target (give it more cores, pin the target elsewhere, or lower the load)",
			100*res.ClientUtilization, res.ClientCores))
	}
	res.Acceptance = results.AcceptanceConfirmed
	if cfg.Confirm == ConfirmOff && (cfg.TLS.Version == 0 || cfg.TLS.Version >= tlsparams.TLS13) && cfg.Requests == 0 {
		res.Acceptance = results.AcceptanceUnconfirmed
	}
	res.ServerVerified = !cfg.InsecureSkipVerify
	if !cfg.TLS.Auth.TLS() {
		// Plain TCP: no server to verify, no acceptance to confirm.
		res.Acceptance, res.ServerVerified = results.AcceptanceNone, false
	}
	res.Load = results.LoadReport{Model: "closed", PeakInFlight: peakFlight, Linger0: cfg.Linger0, SourceAddrs: max(1, len(e.target.sources))}
	if e.open {
		res.Load.Model = "open"
		// This generator's share of the run's rate.
		res.Load.TargetRate = cfg.Schedule.RateAt(cfg.Schedule.Duration()) / float64(cfg.Shard.count())
		if res.Duration > 0 {
			// Starts made in the window, per second.
			res.Load.AchievedRate = float64(res.Started) / res.Duration.Seconds()
		}
		res.Load.MaxInFlight = cfg.MaxInFlight
		for i := range min(e.seq.Load(), StartSample) {
			if d := e.starts[i].Load(); d > 0 || i == 0 {
				res.Starts = append(res.Starts, time.Duration(d))
			}
		}
		res.Load.InFlightLimitHits = e.limitHits.Load()
		if n := e.limitHits.Load(); n > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"%d starts found all %d connections in flight and waited: latency from the intended start includes that wait (raise --max-in-flight if the target can take more)", n, cfg.MaxInFlight))
		}
		if e.segments > 1 {
			res.Segments = e.collectSegments(res)
		}
	}
	if res.Unreachable > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"the target was unreachable for %.1f s of the %.1f s window (%d outage(s): connects failed until one succeeded); workers backed off meanwhile",
			res.Unreachable.Seconds(), res.Duration.Seconds(), res.Outages))
	}
	if res.Primed > 0 && cfg.Warmup == 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"%d priming handshakes (to obtain sessions to resume) ran inside the window; add --warmup to keep them out", res.Primed))
	}
	if res.Clamped > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d latencies above one hour were recorded as one hour", res.Clamped))
	}
}

func (e *engine) collectSegments(res *Result) []results.Segment {
	steps, ok := e.cfg.Schedule.(Steps)
	if !ok {
		return nil
	}
	var out []results.Segment
	for i := range e.segments {
		h := results.NewHistogram()
		for _, l := range e.lanes {
			h.Merge(l.segments[i].snapshot())
		}
		seg := results.Segment{
			Rate:      steps.Rates[i],
			OffsetS:   (time.Duration(i) * steps.StepLength).Seconds(),
			DurationS: steps.StepLength.Seconds(),
			Latency:   results.Summarize(h),
		}
		seg.HandshakesPerS = float64(h.TotalCount()) / steps.StepLength.Seconds()
		out = append(out, seg)
	}
	return out
}

// ClientCores is how many cores this generator may use: GOMAXPROCS, or
// the cgroup's CPU limit when lower (a container limited to 1.5 CPUs runs
// GOMAXPROCS 2, and is saturated at 1.5).
func ClientCores() float64 {
	cores := float64(runtime.GOMAXPROCS(0))
	if limit, ok := procstat.CPULimit(); ok && limit < cores {
		cores = limit
	}
	return cores
}

// GeneratorBoundUtilization is the share of its cores above which the
// generator is considered saturated.
const GeneratorBoundUtilization = 0.85
