package bench

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/rendezvous"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// Sharding makes a run one shard of a run spread over several
// generators, and puts its cases on a timeline the shards share. The
// zero value is a run of its own, each case starting when the previous
// one is done.
type Sharding struct {
	// Shard is this generator's index and the shards' count; the load
	// flags keep their meaning for the whole run (see loadgen.Shard).
	Shard loadgen.Shard
	// RunID names the run; every shard's result carries it, and merge
	// refuses shards of different runs. Required when sharded.
	RunID string
	// StartAt places case k at StartAt plus the earlier cases' lengths
	// and gaps (scenarios.Timeline). A shard not ready at a case's start
	// fails that case with class late_start instead of shifting it.
	StartAt time.Time
	// CaseGap is the gap after each case on that timeline. Zero means
	// scenarios.DefaultCaseGap.
	CaseGap time.Duration
	// Rendezvous is shard 0's HOST:PORT: a barrier before every case, at
	// which shard 0 announces the case's start instant (the timeline's,
	// with StartAt), and over which each shard measures its clock offset.
	Rendezvous string
	// JoinTimeout bounds the wait for the other shards at the rendezvous.
	// Zero means 10 minutes.
	JoinTimeout time.Duration
}

// timeline is a run's shared timeline while it runs.
type timeline struct {
	cfg     Sharding
	planned []time.Duration // case n's offset from StartAt, with StartAt
	session *rendezvous.Session
}

// fatalError ends a run after the case it failed: a shard that lost the
// rendezvous cannot place another case on the shared timeline.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// checkSharding refuses, before any load, a sharded run that cannot
// mean what it says.
func checkSharding(opts *Options) error {
	s := &opts.Sharding
	if s.CaseGap == 0 {
		s.CaseGap = scenarios.DefaultCaseGap
	}
	if err := s.Shard.Validate(); err != nil {
		return &InputError{Err: err}
	}
	if !s.Shard.Sharded() {
		if s.Rendezvous != "" {
			return &InputError{Err: errors.New("bench: a rendezvous is for a run of several shards: give --shard I/N or --shards N")}
		}
		return nil
	}
	if s.RunID == "" {
		return &InputError{Err: errors.New("bench: a sharded run needs a run ID (--run-id), the same on every shard")}
	}
	for i := range opts.Cases {
		if c := &opts.Cases[i]; !isExternal(c) {
			return &InputError{Err: fmt.Errorf("bench: case %s: every shard of a run must load the same server, but a %s target is started by each generator (N shards would load N servers): give --target HOST:PORT of the server to load", c.Name, c.Target.Kind)}
		}
	}
	return nil
}

// startTimeline computes the planned instants and joins the rendezvous.
func (r *runner) startTimeline(ctx context.Context, run *results.Run) error {
	s := r.opts.Sharding
	tl := &timeline{cfg: s}
	if !s.StartAt.IsZero() {
		offsets, _, err := scenarios.Timeline(r.opts.Cases, r.opts.Repeat, s.CaseGap)
		if err != nil {
			return &InputError{Err: fmt.Errorf("bench: --start-at: %w", err)}
		}
		tl.planned = offsets
	}
	if s.Shard.Sharded() {
		run.RunID = s.RunID
		run.Shard = &results.Shard{Index: s.Shard.Index, Count: s.Shard.Count, Hostname: run.Environment.Hostname, Start: run.Start, Environment: run.Environment}
	}
	if s.Shard.Sharded() && s.Rendezvous == "" && s.StartAt.IsZero() {
		r.logf("mtlsbench: shard %s: neither --rendezvous nor --start-at: each case starts when this shard is ready, so the shards' windows will not line up (merge reports the skew)", s.Shard)
	}
	if s.Rendezvous != "" {
		r.logf("mtlsbench: shard %s: waiting at the rendezvous %s for the other shards", s.Shard, s.Rendezvous)
		sess, err := rendezvous.Join(ctx, rendezvous.Config{
			Addr: s.Rendezvous, RunID: s.RunID, Index: s.Shard.Index, Count: s.Shard.Count, JoinTimeout: s.JoinTimeout,
		})
		var refused *rendezvous.RefusedError
		if errors.As(err, &refused) {
			return &InputError{Err: err}
		}
		if err != nil {
			return err
		}
		tl.session = sess
		clock := sess.Clock()
		if s.Shard.Index != 0 {
			run.Shard.Clock = &clock
			r.logf("mtlsbench: shard %s: joined; clock %+.3f ms ± %.3f ms from shard 0", s.Shard, clock.OffsetUs/1e3, clock.ErrorUs/1e3)
		} else {
			r.logf("mtlsbench: shard 0: all %d shards joined", s.Shard.Count)
		}
	}
	r.timeline = tl
	return nil
}

func (r *runner) stopTimeline(run *results.Run) {
	if r.timeline != nil && r.timeline.session != nil {
		r.timeline.session.Close()
	}
	if run.Shard != nil {
		run.Shard.End = time.Now()
	}
}

// startOf is when case n (0-based, in run order) is to start, in this
// generator's clock (zero: at once), and the same instant in the
// reference clock (shard 0's), which the result records.
func (r *runner) startOf(ctx context.Context, n int) (local, reference time.Time, err error) {
	tl := r.timeline
	if tl == nil {
		return time.Time{}, time.Time{}, nil
	}
	var planned time.Time
	if tl.planned != nil {
		planned = tl.cfg.StartAt.Add(tl.planned[n])
	}
	if tl.session == nil {
		return planned, planned, nil
	}
	local, err = tl.session.Start(ctx, n, planned)
	if err != nil {
		if ctx.Err() != nil {
			return time.Time{}, time.Time{}, err
		}
		return time.Time{}, time.Time{}, &fatalError{err}
	}
	return local, local.Add(time.Duration(tl.session.Clock().OffsetUs * 1e3)), nil
}

// seed is the Poisson arrivals' seed: the same for every shard of a run
// (each draws its own stream from it and its index), and a new one for
// each case and repeat.
func (r *runner) seed(n int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", r.opts.Sharding.RunID, n)
	if r.opts.Sharding.RunID == "" {
		fmt.Fprintf(h, "/%d", time.Now().UnixNano())
	}
	return h.Sum64()
}

// shardCase records a shard's part of a case: its planned instant and
// its first starts.
func shardCase(out *results.Case, res *loadgen.Result, reference time.Time, sharded bool) {
	if !sharded {
		return
	}
	cs := &results.CaseShard{Planned: reference}
	if reference.IsZero() {
		cs.Planned = res.StartInstant
	}
	for _, d := range res.Starts {
		cs.StartsUs = append(cs.StartsUs, d.Microseconds())
	}
	out.Shard = cs
}
