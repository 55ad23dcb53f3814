package loadgen

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// preciseTimer is a timerfd read through the netpoller.
type preciseTimer struct {
	fd  int
	f   *os.File
	buf [8]byte
}

func newPreciseTimer() (*preciseTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// A non-blocking fd makes a pollable os.File: reads park the
	// goroutine in the netpoller.
	return &preciseTimer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// wait blocks until d has passed.
func (t *preciseTimer) wait(d time.Duration) error {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		return err
	}
	_, err := t.f.Read(t.buf[:])
	return err
}
