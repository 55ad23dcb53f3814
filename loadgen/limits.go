package loadgen

import (
	"fmt"
	"math"
	"syscall"
	"time"
)

// fdReserve is what the process needs besides the connections: standard
// streams, the poller, the result file, a child target's pipes, a profile.
const fdReserve = 64

// connectionsNeeded estimates how many connections a run may hold open at
// once: the workers of a closed loop; in an open loop, the peak rate times
// how long each connection lives at least (its hold, plus a handshake),
// capped by MaxInFlight.
func connectionsNeeded(c *Config) int {
	if c.Schedule == nil {
		return c.Concurrency
	}
	peak := 0.0
	if d := c.Schedule.Duration(); d > 0 {
		for i := range 101 {
			peak = math.Max(peak, c.Schedule.RateAt(d*time.Duration(i)/100))
		}
	} else {
		peak = c.Schedule.RateAt(0)
	}
	life := c.Hold + 50*time.Millisecond
	return min(c.MaxInFlight, int(math.Ceil(peak*life.Seconds())))
}

// fdLimitWarning says, before the run, when the connections it needs do
// not fit in the file-descriptor limit. (Go raises the soft limit to the
// hard one when the program starts; what is left is the hard limit.)
// Connections beyond it would fail with EMFILE, counted as
// generator_limit.
func fdLimitWarning(c *Config) string {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == math.MaxUint64 {
		return ""
	}
	need := connectionsNeeded(c)
	if uint64(need+fdReserve) <= lim.Cur {
		return ""
	}
	what := fmt.Sprintf("concurrency %d", need)
	if c.Schedule != nil {
		what = fmt.Sprintf("the open loop may hold about %d connections (peak rate × (hold + a handshake), at most --max-in-flight)", need)
	}
	return fmt.Sprintf("%s needs about %d file descriptors, but this process may open %d (RLIMIT_NOFILE, soft limit already raised to the hard limit %d): "+
		"connections beyond it fail as generator_limit (EMFILE). Raise the hard limit (as root: ulimit -Hn %d; systemd: LimitNOFILE=; containers: --ulimit nofile=%d) or lower the load to about %d connections",
		what, need+fdReserve, lim.Cur, lim.Max, need+fdReserve, need+fdReserve, max(0, int(lim.Cur)-fdReserve))
}
