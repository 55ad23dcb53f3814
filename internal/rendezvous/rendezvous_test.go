package rendezvous

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// shards joins n shards of run id on a loopback listener, shard 0 first
// in the background (it waits for the others).
func shards(t *testing.T, n int, id string) []*Session {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	out := make([]*Session, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cfg := Config{Addr: ln.Addr().String(), RunID: id, Index: i, Count: n, JoinTimeout: 10 * time.Second, Pings: 8}
			if i == 0 {
				cfg.Listener = ln
			}
			out[i], errs[i] = Join(ctx, cfg)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
	}
	t.Cleanup(func() {
		for _, s := range out {
			s.Close()
		}
	})
	return out
}

// Every shard gets the same instant for every case, after the slowest is
// ready; on one host the clocks agree to well within the error bound.
func TestBarrierAnnouncesOneInstant(t *testing.T) {
	ss := shards(t, 4, "run-a")
	for i, s := range ss[1:] {
		c := s.Clock()
		if c.Samples != 8 || c.ErrorUs <= 0 || c.OffsetUs > c.ErrorUs+1000 || c.OffsetUs < -c.ErrorUs-1000 {
			t.Errorf("shard %d clock %+v: one host's clocks should agree within the bound", i+1, c)
		}
	}
	ctx := context.Background()
	for k := range 3 {
		got := make([]time.Time, len(ss))
		var wg sync.WaitGroup
		readyAt := make([]time.Time, len(ss))
		for i, s := range ss {
			wg.Go(func() {
				time.Sleep(time.Duration(i*20) * time.Millisecond) // shard 3 is the slowest
				readyAt[i] = time.Now()
				at, err := s.Start(ctx, k, time.Time{})
				if err != nil {
					t.Errorf("case %d shard %d: %v", k, i, err)
				}
				got[i] = at
			})
		}
		wg.Wait()
		for i := range got {
			if d := got[i].Sub(got[0]).Abs(); d > 2*time.Millisecond {
				t.Errorf("case %d: shard %d starts %v from shard 0", k, i, d)
			}
			if !got[i].After(readyAt[3]) {
				t.Errorf("case %d: start %v before the slowest shard was ready", k, got[i])
			}
		}
	}
}

// With a fixed timeline, shard 0 announces the planned instant without
// waiting for a shard that is not ready.
func TestPlannedInstantDoesNotWait(t *testing.T) {
	ss := shards(t, 3, "run-b")
	planned := time.Now().Add(400 * time.Millisecond)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i, s := range ss[:2] { // shard 2 never says it is ready
		wg.Go(func() {
			at, err := s.Start(ctx, 0, planned)
			if err != nil {
				t.Errorf("shard %d: %v", i, err)
			}
			if d := at.Sub(planned).Abs(); d > 2*time.Millisecond {
				t.Errorf("shard %d: start %v, planned %v", i, at, planned)
			}
		})
	}
	wg.Wait()
	if time.Now().After(planned.Add(300 * time.Millisecond)) {
		t.Error("the barrier waited for the shard that was not ready")
	}
}

func TestRefusals(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx := context.Background()
	lead := make(chan error, 1)
	var s0 *Session
	go func() {
		var err error
		s0, err = Join(ctx, Config{Addr: addr, Listener: ln, RunID: "r", Index: 0, Count: 2, JoinTimeout: 5 * time.Second})
		lead <- err
	}()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{RunID: "other", Index: 1, Count: 2}, `run "other", but shard 0 runs "r"`},
		{Config{RunID: "r", Index: 1, Count: 3}, "3 shards, but shard 0 has 2"},
	} {
		tc.cfg.Addr, tc.cfg.JoinTimeout = addr, 5*time.Second
		if _, err := Join(ctx, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want refusal %q", tc.cfg, err, tc.want)
		}
	}
	s1, err := Join(ctx, Config{Addr: addr, RunID: "r", Index: 1, Count: 2, JoinTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-lead; err != nil {
		t.Fatal(err)
	}
	defer s0.Close()
	// A shard that leaves fails shard 0's next barrier, naming it.
	s1.Close()
	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s0.Start(bctx, 0, time.Time{}); err == nil || !strings.Contains(err.Error(), "shard 1 left") {
		t.Errorf("barrier after shard 1 left: %v", err)
	}
	if _, err := Join(ctx, Config{Addr: addr, Index: 2, Count: 2}); err == nil {
		t.Error("index 2 of 2 accepted")
	}
}

// Shard 0 gone: the others' barrier fails instead of waiting for ever; a
// shard that finds nobody listening gives up at its join timeout.
func TestCoordinatorGone(t *testing.T) {
	ss := shards(t, 2, "run-c")
	ss[0].Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := ss[1].Start(ctx, 0, time.Time{}); err == nil || !strings.Contains(err.Error(), "shard 0 is gone") {
		t.Errorf("barrier without shard 0: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	if _, err := Join(context.Background(), Config{Addr: addr, RunID: "x", Index: 1, Count: 2, JoinTimeout: 600 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("join with nobody listening: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Error("join outlived its timeout")
	}
}
