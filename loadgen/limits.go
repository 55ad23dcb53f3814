package loadgen

import (
	"fmt"
	"math"
	"strings"
	"syscall"
	"time"
)

// fdReserve is what the process needs besides the connections: standard
// streams, the poller, the result file, a child target's pipes, a profile,
// an open loop's timerfds.
const fdReserve = 64

// connectionsNeeded estimates how many connections a run may hold open at
// once: the workers of a closed loop; in an open loop, the peak rate times
// how long each connection lives at least (its hold, plus a handshake),
// capped by MaxInFlight. c has its defaults applied.
func connectionsNeeded(c *Config) int {
	if c.Schedule == nil {
		return max(c.Concurrency, 0)
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
	n := math.Ceil(peak * life.Seconds())
	// In float, capped before converting: a rate of 1e300 must not wrap.
	if !(n < float64(c.MaxInFlight)) {
		return max(c.MaxInFlight, 0)
	}
	return max(int(n), 0)
}

// fdLimit is how many file descriptors this process may open: the soft
// RLIMIT_NOFILE, which Go raises to the hard limit when the program
// starts (so both are usually the same), and the hard limit. ok is false
// when there is no finite limit.
func fdLimit() (soft, hard uint64, ok bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == math.MaxUint64 || lim.Cur > math.MaxInt32 {
		return 0, 0, false
	}
	return lim.Cur, lim.Max, true
}

// CheckFDLimit says, before any load, whether the connections cfg needs
// at once fit in this process's file-descriptor limit (in a sharded run,
// this shard's share). A closed loop whose workers cannot all have their
// connection open at once is refused with a *ConfigError, unless
// cfg.OverFDLimit; the warning (empty when they fit) says so then, and
// when an open loop's estimated peak (rate × (hold + a handshake), at
// most MaxInFlight) may not fit. Run makes the same check; callers that
// prepare several runs call it first so that nothing runs.
func CheckFDLimit(cfg Config) (warning string, err error) {
	c, _ := cfg.withDefaults().shardShare()
	if c.Schedule == nil && !c.OverFDLimit {
		if msg := fdLimitMessage(&c, true); msg != "" {
			return "", &ConfigError{Msg: msg}
		}
		return "", nil
	}
	return fdLimitWarning(&c), nil
}

// fdLimitWarning says when the connections a run needs (c has its
// defaults and its shard's share applied) do not fit in the
// file-descriptor limit, naming the figures and the ways out; it is empty
// when they fit. Connections beyond the limit fail with EMFILE, counted as
// generator_limit.
func fdLimitWarning(c *Config) string { return fdLimitMessage(c, false) }

// fdLimitMessage is fdLimitWarning, or with refusal the message refusing
// the run, which adds the way to run it anyway.
func fdLimitMessage(c *Config, refusal bool) string {
	soft, hard, ok := fdLimit()
	if !ok {
		return ""
	}
	need := connectionsNeeded(c)
	total := uint64(need) + fdReserve
	if total <= soft {
		return ""
	}
	what := fmt.Sprintf("-c %d needs %d file descriptors (one per connection, %d for the rest)", need, total, fdReserve)
	switch {
	case c.Schedule != nil:
		what = fmt.Sprintf("the open loop may hold about %d connections at once (peak rate × (hold + a handshake), at most --max-in-flight), which need about %d file descriptors", need, total)
	case c.Shard.Sharded():
		what = fmt.Sprintf("this shard's share of -c, %d connections, needs %d file descriptors (one per connection, %d for the rest)", need, total, fdReserve)
	}
	limit := fmt.Sprintf("this process may open %d (RLIMIT_NOFILE; the hard limit is %d)", soft, hard)
	raise := fmt.Sprintf("raise the hard limit (as root: ulimit -Hn %d; systemd: LimitNOFILE=%d; a container: --ulimit nofile=%d)", total, total, total)
	if total <= hard {
		// Go raises the soft limit to the hard one when it starts; a soft
		// limit below it was lowered since (or Go could not raise it).
		raise = fmt.Sprintf("raise the soft limit to %d (ulimit -n %d)", total, total)
	}
	var ways []string
	if soft <= fdReserve {
		what += fmt.Sprintf(", but %s, no more than it needs besides its connections", limit)
	} else {
		fit := soft - fdReserve
		what += fmt.Sprintf(", but %s: %d connections fit", limit, fit)
		if c.Schedule != nil {
			ways = append(ways, fmt.Sprintf("lower --max-in-flight to %d or less (or the rate, or the hold)", fit))
		} else {
			ways = append(ways, fmt.Sprintf("lower -c to %d or less", fit))
		}
	}
	ways = append(ways, raise)
	if soft > fdReserve {
		ways = append(ways, "spread the load over more generators (run --shards N)")
	}
	if refusal {
		ways = append(ways, "add --over-fd-limit to run it anyway (the connections beyond the limit then fail as generator_limit)")
	}
	if len(ways) > 1 {
		ways[len(ways)-1] = "or " + ways[len(ways)-1]
	}
	return what + ". " + upperFirst(strings.Join(ways, ", "))
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
