//go:build !linux

package loadgen

import (
	"errors"
	"os"
	"runtime"
	"time"
)

// preciseTimer would be a timerfd, which only Linux has. Without it every
// open-loop wait is a Go timer, which may start a handshake up to a
// millisecond late; the lateness is measured and reported as start lag,
// not hidden.
type preciseTimer struct{ f *os.File }

var errNoTimerfd = errors.New("loadgen: timerfd is not available on " + runtime.GOOS + ": open-loop sends are paced by Go timers (up to 1 ms late; see start lag)")

func newPreciseTimer() (*preciseTimer, error) { return nil, errNoTimerfd }

func (t *preciseTimer) wait(d time.Duration) error { return errNoTimerfd }
