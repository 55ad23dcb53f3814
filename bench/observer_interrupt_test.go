package bench

import (
	"context"
	"testing"
	"time"
)

// Once the run is interrupted, the observer waits for the target's counts
// only afterInterrupt more, also when the interrupt comes during the wait:
// a frozen target must not hold an interrupted run (the log reader would
// wait 40 s).
func TestObserverStopsWaitingAfterInterrupt(t *testing.T) {
	run, interrupt := context.WithCancel(context.Background())
	o := &observer{ctx: run}
	ctx, done := o.countsContext(time.Minute)
	defer done()
	select {
	case <-ctx.Done():
		t.Fatal("the wait ended without an interrupt")
	case <-time.After(100 * time.Millisecond):
	}
	interrupt()
	start := time.Now()
	select {
	case <-ctx.Done():
		if took := time.Since(start); took < afterInterrupt/2 {
			t.Errorf("the wait ended %v after the interrupt, want about %v", took, afterInterrupt)
		}
	case <-time.After(afterInterrupt + time.Second):
		t.Fatalf("the wait still runs %v after the interrupt", afterInterrupt+time.Second)
	}
	// Asked after the interrupt: bounded the same.
	ctx2, done2 := o.countsContext(time.Minute)
	defer done2()
	select {
	case <-ctx2.Done():
	case <-time.After(afterInterrupt + time.Second):
		t.Fatal("a wait begun after the interrupt is not bounded")
	}
}
