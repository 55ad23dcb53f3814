package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// rotationCases is the rotation library scenario, shortened: a 1.2 s
// window of 200 ms intervals with the rotation at 0.6 s, 200
// handshakes/s.
func rotationCases(t *testing.T, edit func(*scenarios.Spec)) []scenarios.Case {
	return expand(t, "rotation", 1200*time.Millisecond, func(s *scenarios.Spec) {
		s.Load.Interval = scenarios.Duration(200 * time.Millisecond)
		s.Target.RotateAt = []scenarios.Duration{scenarios.Duration(600 * time.Millisecond)}
		if edit != nil {
			edit(s)
		}
	})
}

// checkRotated checks a rotated case as the "done" asks: the
// rotation at its instant, served, no handshake failed around it (a
// graceful rotation), the client saw the new certificate (without
// resumption) or resumed sessions across it (with tickets), and the
// target's own record of failed handshakes agrees (zero).
func checkRotated(t *testing.T, c results.Case) {
	t.Helper()
	if c.Status != results.StatusOK {
		t.Fatalf("%s: %s: %s %v", c.Name, c.Status, c.Failure, c.ErrorExamples)
	}
	if c.Params.RotateAt != "600ms" || !strings.Contains(c.Key, "rotate_at=600ms") || c.Params.Rotate == "" {
		t.Errorf("%s: params rotate_at %q, key %q", c.Name, c.Params.RotateAt, c.Key)
	}
	if len(c.Rotations) != 1 {
		t.Fatalf("%s: rotations %+v", c.Name, c.Rotations)
	}
	r := c.Rotations[0]
	// At its instant: early by as long as the engine takes between
	// telling the observer the window opens and taking its start (under
	// the race detector a few ms), later by as much as the machine
	// starves the schedule's goroutine (other tests may run alongside).
	if r.Error != "" || r.AtS < 0.59 || r.AtS > 1.1 || r.DoneS < r.AtS || r.DoneS > r.AtS+1 {
		t.Errorf("%s: rotation %+v, want at 0.6 s, served after it", c.Name, r)
	}
	if r.OldSerial == "" || r.OldSerial == r.NewSerial {
		t.Errorf("%s: serials %q → %q", c.Name, r.OldSerial, r.NewSerial)
	}
	if r.ErrorsAround != 0 || c.Counts.Errors != 0 || r.OKAround == 0 {
		t.Errorf("%s: errors around %d (case %v), ok around %d", c.Name, r.ErrorsAround, c.Errors, r.OKAround)
	}
	if r.Interval < 1 || r.BeforeP99Us == 0 {
		t.Errorf("%s: interval %d, p99 before %d", c.Name, r.Interval, r.BeforeP99Us)
	}
	if c.Params.Resume == "none" && r.FullNew == 0 {
		t.Errorf("%s: no full handshake presented the new certificate", c.Name)
	}
	if c.Params.Resume == "tickets" && r.ResumedAcross+r.RefusedAcross == 0 {
		t.Errorf("%s: no session issued before the rotation was offered after it (%d resumed)", c.Name, c.Counts.Resumed)
	}
	if tc := c.TargetCounts; tc == nil || tc.Failed != 0 || tc.Handshakes == 0 {
		t.Errorf("%s: target counts %+v", c.Name, tc)
	}
	t.Logf("%s: %+v", c.Name, r)
}

// The built-in target rotates under load, in a child process (through
// its protocol) and in this process, without a failed handshake.
func TestRotationBuiltin(t *testing.T) {
	for _, inProcess := range []bool{false, true} {
		name := "child"
		if inProcess {
			name = "in-process"
		}
		t.Run(name, func(t *testing.T) {
			cases := rotationCases(t, func(s *scenarios.Spec) { s.Target.InProcess = inProcess })
			if len(cases) != 2 {
				t.Fatalf("%d cases, want 2 (resume none and tickets)", len(cases))
			}
			run := runCases(t, context.Background(), cases)
			for _, c := range run.Cases {
				checkRotated(t, c)
				// Go's server keeps its session ticket keys: every
				// session survives the swap.
				if r := c.Rotations[0]; c.Params.Resume == "tickets" && (r.ResumedAcross == 0 || r.RefusedAcross != 0) {
					t.Errorf("%s: %d sessions resumed across the rotation, %d refused", c.Name, r.ResumedAcross, r.RefusedAcross)
				}
			}
		})
	}
}

// A CA rotation: a new CA issues the new certificate, the client trusts
// both throughout, and nothing fails.
func TestRotationCA(t *testing.T) {
	cases := rotationCases(t, func(s *scenarios.Spec) { s.Target.Rotate = scenarios.RotateCA })
	run := runCases(t, context.Background(), cases)
	for _, c := range run.Cases {
		checkRotated(t, c)
		if c.Params.Rotate != "ca" || !strings.HasSuffix(c.Key, ",rotate=ca") {
			t.Errorf("%s: params rotate %q, key %s", c.Name, c.Params.Rotate, c.Key)
		}
	}
}

// nginx rotates with a graceful reload (SIGHUP), HAProxy through its
// runtime API: no failed handshake, on the client's side or in the
// server's own log.
func TestRotationManaged(t *testing.T) {
	for _, kind := range []string{scenarios.KindNginx, scenarios.KindHAProxy} {
		t.Run(kind, func(t *testing.T) {
			requireServer(t, kind)
			cases := rotationCases(t, func(s *scenarios.Spec) { s.Target.Kind = kind })
			run := runCases(t, context.Background(), cases)
			for _, c := range run.Cases {
				checkRotated(t, c)
			}
		})
	}
}

// Targets that cannot rotate are refused before any load, naming why.
func TestRotationRefused(t *testing.T) {
	for _, tc := range []struct{ kind, want string }{
		{scenarios.KindOpenSSL, "s_server reads its certificate once"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			requireServer(t, tc.kind)
			cases := rotationCases(t, func(s *scenarios.Spec) { s.Target.Kind = tc.kind })
			start := time.Now()
			_, err := Run(context.Background(), Options{Cases: cases, ChildCommand: childCommand()})
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--rotate-at") {
				t.Fatalf("error %v, want an InputError saying %q", err, tc.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("refusal took %v: load ran before it?", time.Since(start))
			}
		})
	}
}

// The cross-check of a rotated case compares failed handshakes: the
// target's record against the client's, beyond the edge's slack.
func TestRotationCrosscheck(t *testing.T) {
	out := &results.Case{Status: results.StatusOK, Params: results.Params{RotateAt: "2s", Auth: "mutual"},
		Counts: results.Counts{OK: 1000, Errors: 3}, Errors: map[string]int64{"io": 3}}
	tc := &results.TargetCounts{Source: "test", Handshakes: 1000, Failed: 40}
	crosscheck(out, tc, 2)
	if out.Status != results.StatusCrosscheckFailed || !strings.Contains(out.Failure, "40 failed handshakes") {
		t.Fatalf("status %s, failure %q", out.Status, out.Failure)
	}
	out = &results.Case{Status: results.StatusOK, Params: out.Params, Counts: out.Counts, Errors: out.Errors}
	tc.Failed = 3
	crosscheck(out, tc, 2)
	if out.Status != results.StatusOK {
		t.Fatalf("matching failures: %s %s", out.Status, out.Failure)
	}
}

// A capacity search refuses a rotation before any load: its steps are
// windows of their own.
func TestRotationRefusedByCapacity(t *testing.T) {
	cases := rotationCases(t, nil)
	_, err := Capacity(context.Background(), CapacityOptions{Options: Options{Cases: cases, ChildCommand: childCommand()}, Search: testSearch(t)})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "not a capacity search") {
		t.Fatalf("error %v, want an InputError refusing the rotation", err)
	}
}
