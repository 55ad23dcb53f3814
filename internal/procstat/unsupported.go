package procstat

import (
	"errors"
	"runtime"
)

// ErrUnsupported is returned (wrapped) where there is no Linux /proc to
// read: another process's CPU time and memory, the machine's CPU times,
// a listening address's open TCP connections. Self (getrusage) works
// everywhere.
var ErrUnsupported = errors.New("procstat: /proc accounting is not available on " + runtime.GOOS + " (Linux only)")

// haveProc says whether this system has Linux's /proc.
const haveProc = runtime.GOOS == "linux" || runtime.GOOS == "android"
