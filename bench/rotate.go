package bench

import (
	"context"
	"crypto/x509"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
)

// rotator rotates a case's server certificate at its offsets into the
// measured window (target.rotate_at). The new identities are issued
// before any load, so the rotation instant measures the target's swap and
// not this process making keys. It runs on a goroutine of its own, started
// as the window opens (observer.WindowStart); the engine sees a rotation
// only through loadgen.ServerLeaf, which its handshakes read with one
// atomic load.
type rotator struct {
	target targets.Rotator
	at     []time.Duration
	ids    []pki.Identity
	first  pki.Identity
	leaf   *loadgen.ServerLeaf

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns; nil until started

	mu   sync.Mutex // guards done's creation and log
	log  []rotationEvent
	base time.Time // when the schedule began (the window's start)
}

// rotationEvent is one rotation as it happened.
type rotationEvent struct {
	began, served time.Time // served is zero when it failed
	err           error
}

// newRotator issues the case's rotated identities; nil when the case
// rotates nothing.
func (r *runner) newRotator(ctx context.Context, c *scenarios.Case, m *material, tgt targets.Target) (*rotator, error) {
	if len(c.Target.RotateAt) == 0 {
		return nil, nil
	}
	rt, ok := tgt.(targets.Rotator)
	if !ok || m.bundle == nil {
		return nil, &targets.UnsupportedError{Kind: targets.Kind(targetParam(c)), What: "a certificate rotation (--rotate-at)", Reason: "it cannot replace its certificate while it serves"}
	}
	rot := &rotator{target: rt, first: m.server, leaf: loadgen.NewServerLeaf(m.server.Leaf())}
	for i, d := range c.Target.RotateAt {
		var id pki.Identity
		var err error
		if c.Target.Rotate == scenarios.RotateCA {
			// The overlap: the client trusts the new CA from the start,
			// as a CA rotation hands it out before the server presents
			// it (m.roots is the pool the engine is given).
			var root *x509.Certificate
			root, id, err = m.bundle.RotatedCA(i + 1)
			if err == nil {
				m.roots.AddCert(root)
				m.rootCerts = append(m.rootCerts, root)
			}
		} else {
			id, err = m.bundle.RotatedServer()
		}
		if err != nil {
			return nil, err
		}
		rot.at = append(rot.at, d.D())
		rot.ids = append(rot.ids, id)
	}
	rot.ctx, rot.cancel = context.WithCancel(ctx)
	return rot, nil
}

// start begins the schedule at base, the window's start.
func (rot *rotator) start(base time.Time) {
	if rot == nil {
		return
	}
	rot.mu.Lock()
	defer rot.mu.Unlock()
	if rot.done != nil {
		return
	}
	rot.base = base
	rot.done = make(chan struct{})
	go rot.run(base)
}

// run rotates at each offset from base, one after another; a failed
// rotation ends the schedule (the target's state is then unknown).
func (rot *rotator) run(base time.Time) {
	defer close(rot.done)
	t := time.NewTimer(time.Until(base.Add(rot.at[0])))
	defer t.Stop()
	for i, at := range rot.at {
		t.Reset(time.Until(base.Add(at)))
		select {
		case <-rot.ctx.Done():
			return
		case <-t.C:
		}
		ev := rotationEvent{began: time.Now()}
		rot.leaf.Rotating(rot.ids[i].Leaf())
		err := rot.target.Rotate(rot.ctx, rot.ids[i])
		if err == nil {
			ev.served = time.Now()
			rot.leaf.Rotated()
		}
		ev.err = err
		rot.mu.Lock()
		rot.log = append(rot.log, ev)
		rot.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// stop ends the schedule (a rotation in progress is cancelled) and waits
// for its goroutine.
func (rot *rotator) stop() {
	if rot == nil {
		return
	}
	rot.cancel()
	rot.mu.Lock()
	done := rot.done
	rot.mu.Unlock()
	if done != nil {
		<-done
	}
}

// apply writes the rotations into the case, with what the handshakes
// around each did, and fails the case when one failed or never began.
func (rot *rotator) apply(out *results.Case, res *loadgen.Result) {
	if rot == nil {
		return
	}
	rot.mu.Lock()
	log := append([]rotationEvent(nil), rot.log...)
	rot.mu.Unlock()
	old := rot.first
	var problems []string
	for i, at := range rot.at {
		if i >= len(log) {
			if out.Status != results.StatusInterrupted && (len(log) == 0 || log[len(log)-1].err == nil) {
				problems = append(problems, fmt.Sprintf("rotation %d at %s did not begin before the window closed", i+1, at))
			}
			break
		}
		ev := log[i]
		rec := results.Rotation{
			AtS:       ev.began.Sub(res.Start).Seconds(),
			OldSerial: fmt.Sprintf("%x", old.Leaf().SerialNumber),
			NewSerial: fmt.Sprintf("%x", rot.ids[i].Leaf().SerialNumber),
		}
		late := ev.began.After(res.Start.Add(res.Duration))
		switch {
		case late:
			// The schedule's goroutine ran late (a starved machine):
			// the rotation happened after the window, measuring nothing.
			problems = append(problems, fmt.Sprintf("rotation %d at %s began only %.3f s into the window, after it closed (%.3f s): the generator was starved", i+1, at, rec.AtS, res.Duration.Seconds()))
		case ev.err != nil:
			rec.Error = ev.err.Error()
			problems = append(problems, fmt.Sprintf("rotation %d at %s failed: %v", i+1, at, ev.err))
		}
		if ev.err == nil {
			rec.DoneS = ev.served.Sub(res.Start).Seconds()
		}
		if c := rot.leaf.Counts(i + 1); c != nil {
			rec.FullNew, rec.ResumedAcross, rec.RefusedAcross = c.FullNew.Load(), c.ResumedAcross.Load(), c.RefusedAcross.Load()
		}
		around(&rec, res.Intervals)
		out.Rotations = append(out.Rotations, rec)
		if ev.err == nil && !late && res.Duration.Seconds()-rec.DoneS > 0.1 && rec.FullNew == 0 && res.OK > 0 && out.Status == results.StatusOK && fullHandshakesExpected(out) {
			problems = append(problems, fmt.Sprintf("rotation %d at %s: no full handshake after it presented the new certificate (serial %s)", i+1, at, rec.NewSerial))
		}
		old = rot.ids[i]
	}
	if len(problems) > 0 && (out.Status == results.StatusOK || out.Status == results.StatusCrosscheckFailed) {
		out.Status = results.StatusFailed
		out.Failure = strings.Join(problems, "; ")
	}
}

// fullHandshakesExpected says whether the case makes full handshakes
// after its first ones (every resumption policy but "always resume").
func fullHandshakesExpected(out *results.Case) bool {
	return out.Params.Resume != "tickets" && out.Params.Resume != "1"
}

// around fills a rotation's counts from the interval series: the interval
// containing it and the next against the one before (see
// results.Rotation).
func around(rec *results.Rotation, ivs []results.Interval) {
	idx := -1
	for i, iv := range ivs {
		if rec.AtS >= iv.OffsetS && rec.AtS < iv.OffsetS+iv.DurationS {
			idx = i
			break
		}
	}
	if idx < 0 {
		if len(ivs) == 0 || rec.AtS < ivs[0].OffsetS {
			return
		}
		idx = len(ivs) - 1
	}
	rec.Interval = idx
	if idx > 0 {
		rec.ErrorsBefore = ivs[idx-1].Errors
		rec.BeforeP99Us = ivs[idx-1].P99Us
	}
	for _, iv := range ivs[idx:min(idx+2, len(ivs))] {
		rec.ErrorsAround += iv.Errors
		rec.OKAround += int64(iv.HandshakesPerS*iv.DurationS + 0.5)
		if rec.BeforeP99Us > 0 && iv.HDR != "" {
			if h, err := results.DecodeHDR(iv.HDR); err == nil {
				for _, bar := range h.Distribution() {
					if bar.From > rec.BeforeP99Us {
						rec.SlowedAround += bar.Count
					}
				}
			}
		}
	}
}

// rotationCrosscheck compares, in a case that rotates its certificate,
// the handshakes the target counted as failed with those that failed on
// the client after reaching it: every error class but the connect ones,
// the generator's limit, and those the target completed (param_mismatch,
// resume_miss, http_status, which the handshake cross-check counts). A
// reload that drops handshakes must show on both sides, in one number.
func rotationCrosscheck(out *results.Case, tc *results.TargetCounts, edgeSlack int64) []string {
	client := out.Counts.Errors
	for _, cls := range []string{"connect_refused", "connect_timeout", "generator_limit", "param_mismatch", "resume_miss", "http_status"} {
		client -= out.Errors[cls]
	}
	if math.Abs(float64(tc.Failed-client)) > 0.01*float64(client)+float64(edgeSlack) {
		return []string{fmt.Sprintf("the target counted %d failed handshakes in a case that rotates its certificate, the client %d", tc.Failed, client)}
	}
	return nil
}
