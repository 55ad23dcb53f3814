package loadgen

import (
	"sync/atomic"
	"time"
)

// preciseSlack is how much of an open-loop wait is slept on a timerfd
// instead of a Go timer.
//
// Go's netpoller sleeps in whole milliseconds (runtime/netpoll_epoll.go
// rounds a wait under 1 ms up to 1 ms and truncates longer ones), so a
// timer alone starts handshakes up to a millisecond late, and a 1000/s
// schedule would carry ~0.5 ms of lag at its median. The worker therefore
// sleeps on its Go timer until preciseSlack before the due time, then
// waits the rest on a timerfd read through the netpoller: the kernel's
// hrtimer makes the fd readable within tens of microseconds, and the
// waiting goroutine holds neither a thread nor a P.
//
// (An earlier version slept the rest in nanosleep(2). A goroutine in a
// system call keeps its P until sysmon takes it away, which takes up to
// 10 ms when sysmon has backed off; with GOMAXPROCS=1 — a generator
// pinned to one CPU — the workers' sleeps then held up the goroutines
// reading the server's answers, and at 800/s one run in three fell into
// a state where the generator, half idle, delayed every handshake by
// tens of milliseconds.)
const preciseSlack = 1500 * time.Microsecond

// maxPreciseTimers bounds the timerfds an engine opens. Only workers due
// within preciseSlack hold one, so at 2000/s about four do; a worker that
// finds none free waits on its Go timer instead.
const maxPreciseTimers = 32

// preciseTimers is an engine's pool of timerfds, opened on demand. Slots
// are claimed with a compare-and-swap, so the hot path takes no lock; only
// a slot's claimant opens its timer.
type preciseTimers struct {
	inUse  [maxPreciseTimers]atomic.Bool
	timers [maxPreciseTimers]*preciseTimer // slot i: written only by its claimant
	broken atomic.Bool                     // timerfd unavailable, or closed
}

// get claims a free slot, starting the search at hint, and returns it
// with its timer; ok is false when none is free or timers are unavailable.
func (p *preciseTimers) get(hint int) (slot int, t *preciseTimer, ok bool) {
	if p.broken.Load() {
		return 0, nil, false
	}
	for k := range maxPreciseTimers {
		i := (hint + k) % maxPreciseTimers
		if !p.inUse[i].CompareAndSwap(false, true) {
			continue
		}
		if p.timers[i] == nil {
			t, err := newPreciseTimer()
			if err != nil {
				p.broken.Store(true)
				p.inUse[i].Store(false)
				return 0, nil, false
			}
			p.timers[i] = t
		}
		return i, p.timers[i], true
	}
	return 0, nil, false
}

func (p *preciseTimers) put(slot int) { p.inUse[slot].Store(false) }

// close closes every timer; call it once no worker waits.
func (p *preciseTimers) close() {
	p.broken.Store(true)
	for i, t := range p.timers {
		if t != nil {
			t.f.Close()
			p.timers[i] = nil
		}
	}
}

// sleepUntil waits until due (wait is time.Until(due)), or until the run
// stops; it reports whether due was reached.
func (w *worker) sleepUntil(due time.Time, wait time.Duration) bool {
	if wait > preciseSlack+time.Millisecond {
		if !w.sleep(wait - preciseSlack) {
			return false
		}
	}
	select {
	case <-w.eng.stopCh:
		return false
	default:
	}
	d := time.Until(due)
	if d <= 0 {
		return true
	}
	slot, t, ok := w.eng.timers.get(w.id)
	if !ok {
		return w.sleep(d)
	}
	err := t.wait(d)
	w.eng.timers.put(slot)
	if err != nil {
		// Should not happen; fall back to the Go timer.
		if d := time.Until(due); d > 0 {
			return w.sleep(d)
		}
	}
	return true
}
