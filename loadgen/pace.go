package loadgen

import (
	"time"

	"golang.org/x/sys/unix"
)

// preciseSlack is how much of an open-loop wait is slept with nanosleep
// instead of a Go timer.
//
// Go's netpoller sleeps in whole milliseconds (runtime/netpoll_epoll.go
// rounds a wait under 1 ms up to 1 ms and truncates longer ones), so a
// timer alone starts handshakes up to a millisecond late, and a 1000/s
// schedule would carry ~0.5 ms of lag at its median. The worker therefore
// sleeps on its timer (interruptible, no thread held) until preciseSlack
// before the due time, then sleeps the rest in nanosleep(2), which the
// kernel's hrtimers end within tens of microseconds. Only workers due in
// the next preciseSlack hold a thread, so at 2000/s about four do.
const preciseSlack = 1500 * time.Microsecond

// sleepUntil waits until due (wait is time.Until(due)), or until the run
// stops; it reports whether due was reached.
func (w *worker) sleepUntil(due time.Time, wait time.Duration) bool {
	if wait > preciseSlack+time.Millisecond {
		if !w.sleep(wait - preciseSlack) {
			return false
		}
	}
	for {
		d := time.Until(due)
		if d <= 0 {
			return true
		}
		select {
		case <-w.eng.stopCh:
			return false
		default:
		}
		ts := unix.NsecToTimespec(int64(d))
		if err := unix.Nanosleep(&ts, nil); err != nil && err != unix.EINTR {
			// Should not happen; fall back to the timer.
			return w.sleep(d)
		}
	}
}
