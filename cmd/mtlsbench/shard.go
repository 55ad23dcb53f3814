package main

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/bench"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// shardOptions are run's flags for a run spread over several generators.
type shardOptions struct {
	shard      string
	shards     int
	runID      string
	startAt    string
	caseGap    time.Duration
	rendezvous string
	joinWait   time.Duration
}

// shardIndexEnv are the variables a scheduler sets to a process's index
// among its peers, read by --shards: a Kubernetes Indexed Job's and
// Slurm's.
var shardIndexEnv = []string{"JOB_COMPLETION_INDEX", "SLURM_PROCID"}

func addShardFlags(fs *pflag.FlagSet, o *shardOptions) {
	fs.StringVar(&o.shard, "shard", "", "this process is shard I of N (I from 0), e.g. 2/3; -r and -c stay the whole run's")
	fs.IntVar(&o.shards, "shards", 0, "the run has N shards; this one's index comes from $JOB_COMPLETION_INDEX (Kubernetes) or $SLURM_PROCID")
	fs.StringVar(&o.runID, "run-id", "", "name of the run, the same on every shard (default: the scenario and --start-at, or the start time)")
	fs.StringVar(&o.startAt, "start-at", "", "start the first case at this instant (RFC 3339, e.g. 2026-12-02T17:00:00.5Z) and every case on a fixed timeline")
	fs.DurationVar(&o.caseGap, "case-gap", 0, "on a fixed timeline, the gap after each case (default "+scenarios.DefaultCaseGap.String()+")")
	fs.StringVar(&o.rendezvous, "rendezvous", "", "HOST:PORT of shard 0: shard 0 listens on PORT, the others dial it; a start barrier before every case")
	fs.DurationVar(&o.joinWait, "rendezvous-timeout", 0, "how long to wait at the rendezvous for every shard (default 10m)")
	setGroup(fs, "shard", "shard", "shards", "run-id", "start-at", "case-gap", "rendezvous", "rendezvous-timeout")
}

// sharding maps the flags (and the scheduler's index variables) onto
// bench.Sharding. Every bad value is a usage error, before any load.
func sharding(fs *pflag.FlagSet, o *shardOptions, scenario string, getenv func(string) string) (bench.Sharding, error) {
	var s bench.Sharding
	sources := map[string]int{} // where the index came from
	count := 0
	if fs.Changed("shard") {
		i, n, ok := strings.Cut(o.shard, "/")
		idx, err1 := strconv.Atoi(i)
		cnt, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || cnt < 1 || idx < 0 {
			return s, usagef("--shard %q: want I/N with I from 0, e.g. --shard 0/3", o.shard)
		}
		sources["--shard"] = idx
		count = cnt
	}
	if fs.Changed("shards") {
		if o.shards < 1 || o.shards > loadgen.MaxShards {
			return s, usagef("--shards %d: want the number of shards, 1 to %d", o.shards, loadgen.MaxShards)
		}
		if count != 0 && count != o.shards {
			return s, usagef("--shard %s and --shards %d disagree on the number of shards", o.shard, o.shards)
		}
		count = o.shards
		for _, name := range shardIndexEnv {
			v := getenv(name)
			if v == "" {
				continue
			}
			idx, err := strconv.Atoi(v)
			if err != nil || idx < 0 {
				return s, usagef("$%s=%q is not a shard index (a whole number from 0)", name, v)
			}
			sources["$"+name] = idx
		}
		if len(sources) == 0 {
			return s, usagef("--shards %d: no index for this shard: set $JOB_COMPLETION_INDEX or $SLURM_PROCID, or give --shard I/%d", o.shards, o.shards)
		}
	}
	if count == 0 {
		for _, f := range []string{"rendezvous", "rendezvous-timeout"} {
			if fs.Changed(f) {
				return s, usagef("--%s is for a sharded run: give --shard I/N or --shards N", f)
			}
		}
	}
	index, first := -1, ""
	for src, idx := range sources {
		if index >= 0 && idx != index {
			return s, usagef("the shard index comes from two sources that disagree: %s says %d, %s says %d", first, index, src, idx)
		}
		index, first = idx, src
	}
	if count > 0 {
		if index >= count {
			return s, usagef("%s gives shard index %d, but the run has %d shards (indices 0 to %d)", first, index, count, count-1)
		}
		s.Shard = loadgen.Shard{Index: index, Count: count}
	}
	if o.startAt != "" {
		t, err := time.Parse(time.RFC3339Nano, o.startAt)
		if err != nil {
			return s, usagef("--start-at %q: want an RFC 3339 instant such as 2026-12-02T17:00:00Z or 2026-12-02T18:00:00.250+01:00", o.startAt)
		}
		s.StartAt = t
	}
	if fs.Changed("case-gap") {
		if o.caseGap <= 0 || o.caseGap > time.Hour {
			return s, usagef("--case-gap %s: want a positive duration, at most 1h", o.caseGap)
		}
		s.CaseGap = o.caseGap
	}
	if o.rendezvous != "" {
		if _, port, err := net.SplitHostPort(o.rendezvous); err != nil || port == "" {
			return s, usagef("--rendezvous %q: want HOST:PORT of shard 0, e.g. mtlsbench-0.mtlsbench:7946", o.rendezvous)
		}
		s.Rendezvous = o.rendezvous
	}
	if fs.Changed("rendezvous-timeout") {
		if o.joinWait <= 0 {
			return s, usagef("--rendezvous-timeout %s: want a positive duration", o.joinWait)
		}
		s.JoinTimeout = o.joinWait
	}
	s.RunID = o.runID
	if s.RunID == "" {
		switch {
		case !s.StartAt.IsZero():
			s.RunID = scenario + "-" + s.StartAt.UTC().Format("20060102T150405.000Z")
		case s.Shard.Sharded():
			return s, usagef("a sharded run needs a name every shard shares: give --run-id ID (or --start-at, from which one is derived)")
		default:
			s.RunID = scenario + "-" + time.Now().UTC().Format("20060102T150405Z")
		}
	}
	if strings.ContainsAny(s.RunID, " \t\n/") || len(s.RunID) > 128 {
		return s, usagef("--run-id %q: want a name without spaces or slashes, at most 128 characters", clipFlag(s.RunID))
	}
	return s, nil
}

func clipFlag(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
