package loadgen

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Backoff bounds for a closed-loop worker whose connect failed: the first
// wait is about backoffMin, each further failure doubles it up to
// backoffMax, and a connection that opens resets it. With 2,000 workers
// and the target gone, that is at most about 2,000 connects a second
// instead of tens of thousands, while a target that comes back is found
// within a second.
const (
	backoffMin = 10 * time.Millisecond
	backoffMax = time.Second
)

// backoff is one worker's capped exponential backoff with jitter. Its zero
// value is ready: no failure yet.
type backoff struct{ cur time.Duration }

// next returns the wait after one more failure: uniform in [d/2, d] where
// d doubles from backoffMin to backoffMax, so workers that failed together
// do not retry together.
func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = backoffMin
	case b.cur < backoffMax:
		b.cur = min(2*b.cur, backoffMax)
	}
	return b.cur/2 + rand.N(b.cur/2+1)
}

func (b *backoff) reset() { b.cur = 0 }

// reachability tracks when the target could not be reached: from the
// first failed connect after a successful one (or the start) to the next
// successful connect, as offsets from t0. Only the part inside the window
// is counted.
type reachability struct {
	// since is the offset of the first failed connect of the current
	// outage, plus one (0: reachable).
	since atomic.Int64
	// total is the length of the closed outages inside the window.
	total atomic.Int64
	// outages counts the outages that overlapped the window.
	outages atomic.Int64
}

// unreachable notes a failed connect at off.
func (e *engine) unreachable(off time.Duration) {
	e.reach.since.CompareAndSwap(0, int64(off)+1)
}

// reachable notes a successful connect at off: it ends an outage. One
// atomic load when there is none.
func (e *engine) reachable(off time.Duration) {
	if e.reach.since.Load() == 0 {
		return
	}
	if since := e.reach.since.Swap(0); since != 0 {
		e.closeOutage(time.Duration(since-1), off)
	}
}

// closeOutage counts the part of [from, to) inside the window.
func (e *engine) closeOutage(from, to time.Duration) {
	ws, we := time.Duration(e.wsOff.Load()), time.Duration(e.weOff.Load())
	from, to = max(from, ws), min(to, we)
	if to > from {
		e.reach.total.Add(int64(to - from))
		e.reach.outages.Add(1)
	}
}

// endOutages closes an outage still open when the window closed (at
// off), and returns the time the target was unreachable in the window and
// the number of outages.
func (e *engine) endOutages(off time.Duration) (time.Duration, int64) {
	if since := e.reach.since.Swap(0); since != 0 {
		e.closeOutage(time.Duration(since-1), off)
	}
	return time.Duration(e.reach.total.Load()), e.reach.outages.Load()
}
