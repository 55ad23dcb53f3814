package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
)

// flightObserver keeps the last progress line's connections in flight.
type flightObserver struct{ inFlight atomic.Int64 }

func (*flightObserver) WindowStart(time.Time)     {}
func (*flightObserver) WindowEnd(time.Time)       {}
func (*flightObserver) Interval(results.Interval) {}
func (o *flightObserver) Progress(p Progress)     { o.inFlight.Store(p.InFlight) }

// workerGoroutines counts the goroutines running a worker's code.
func workerGoroutines() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("loadgen.(*worker).")) {
			n++
		}
	}
	return n
}

// waitFor polls cond every 20 ms until it holds or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// holdRun runs cfg against srv until check has looked at the held
// connections, then interrupts it.
func holdRun(t *testing.T, cfg Config, check func()) *Result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		check()
	}()
	res, err := Run(ctx, cfg)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A held connection keeps no goroutine: 200 connections held at once by
// 200 closed-loop workers leave no worker goroutine running, and every
// one is counted, in flight, and checked when the run stops.
func TestHeldConnectionsKeepNoGoroutine(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	const n = 200
	var workers, open int
	obs := &flightObserver{}
	res := holdRun(t, Config{Addr: srv.addr(), TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: n, Duration: time.Minute, Hold: time.Hour, Timeout: 30 * time.Second, Observer: obs}, func() {
		if !waitFor(60*time.Second, func() bool { return srv.handshakes.Load() == n }) {
			t.Errorf("the server saw %d handshakes, want %d", srv.handshakes.Load(), n)
			return
		}
		waitFor(10*time.Second, func() bool { return workerGoroutines() == 0 })
		workers = workerGoroutines()
		// Held connections are in flight (the progress line's figure).
		waitFor(5*time.Second, func() bool { return obs.inFlight.Load() == n })
		srv.mu.Lock()
		open = len(srv.conns)
		srv.mu.Unlock()
	})
	if workers != 0 {
		t.Errorf("%d worker goroutines while %d connections are held, want none", workers, n)
	}
	if open != n {
		t.Errorf("the server holds %d connections, want %d", open, n)
	}
	if res.OK != n || res.Errors != 0 {
		t.Fatalf("ok %d, errors %d (%v), want %d ok", res.OK, res.Errors, res.Examples, n)
	}
	if res.HoldChecked != n || res.HoldLost != 0 || res.Load.PeakInFlight != n {
		t.Errorf("held checked %d, lost %d, peak in flight %d: want %d, 0, %d", res.HoldChecked, res.HoldLost, res.Load.PeakInFlight, n, n)
	}
}

// A held connection the target closes is found gone when its hold ends
// (here, when the run stops), counted, and named in a warning.
func TestHeldConnectionLossIsCounted(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{drop: func(n int64) bool { return n%2 == 0 }, dropAfter: 50 * time.Millisecond})
	const n = 40
	res := holdRun(t, Config{Addr: srv.addr(), TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: n, Duration: time.Minute, Hold: time.Hour, Timeout: 30 * time.Second}, func() {
		if !waitFor(60*time.Second, func() bool { return srv.dropped.Load() == n/2 }) {
			t.Errorf("the server dropped %d connections, want %d", srv.dropped.Load(), n/2)
		}
	})
	if res.OK != n || res.HoldChecked != n || res.HoldLost != n/2 {
		t.Fatalf("ok %d, held checked %d, lost %d: want %d, %d, %d (errors %v)", res.OK, res.HoldChecked, res.HoldLost, n, n, n/2, res.Examples)
	}
	found := false
	for _, w := range res.Warnings {
		found = found || (strings.Contains(w, "20 of 40 held connections") && strings.Contains(w, "closed the connection while it was held"))
	}
	if !found {
		t.Errorf("no warning naming the 20 lost connections: %q", res.Warnings)
	}
}

// When a hold ends the worker goes on with its next connection: a closed
// loop of 4 holding each connection 20 ms makes the 30 counted, never more
// than 4 at once, and checks every one.
func TestHoldEndsAndTheLoopGoesOn(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	res := run(t, Config{Addr: srv.addr(), TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 4, Count: 30, Hold: 20 * time.Millisecond, Timeout: 30 * time.Second})
	if res.OK != 30 || res.Errors != 0 {
		t.Fatalf("ok %d, errors %d (%v), want 30 ok", res.OK, res.Errors, res.Examples)
	}
	if res.HoldChecked != 30 || res.HoldLost != 0 || res.Load.PeakInFlight > 4 {
		t.Errorf("held checked %d, lost %d, peak in flight %d: want 30, 0, at most 4", res.HoldChecked, res.HoldLost, res.Load.PeakInFlight)
	}
	// An open loop's held connections end and are checked the same way.
	res = run(t, Config{Addr: srv.addr(), TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Schedule: Constant{Rate: 100}, Duration: 500 * time.Millisecond, Hold: 100 * time.Millisecond, Timeout: 30 * time.Second})
	if res.OK == 0 || res.Errors != 0 || res.HoldChecked != res.OK || res.HoldLost != 0 {
		t.Errorf("open loop: ok %d, errors %v, held checked %d, lost %d", res.OK, res.Examples, res.HoldChecked, res.HoldLost)
	}
}

// A worker exists for every connection held at once: it stays within the
// 896-byte size class (the next is 1,024).
func TestWorkerFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(worker{}); n > 896 {
		t.Errorf("a worker is %d bytes, over the 896-byte size class: move what is not needed per connection out of it", n)
	}
}

// A run holding many connections lowers the collector's target while it
// runs, and restores it; a small one leaves it alone.
func TestLimitGCRestores(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: limitGC leaves it alone")
	}
	gcPercent := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	before := gcPercent()
	restore := limitGC(holdGCFrom - 1)
	if p := gcPercent(); p != before {
		t.Errorf("%d connections: GOGC %d, want %d untouched", holdGCFrom-1, p, before)
	}
	restore()
	restore = limitGC(holdGCFrom)
	inner := limitGC(holdGCFrom) // a second run at the same time
	if p := gcPercent(); p != holdGCPercent {
		t.Errorf("%d connections: GOGC %d, want %d", holdGCFrom, p, holdGCPercent)
	}
	inner()
	if p := gcPercent(); p != holdGCPercent {
		t.Errorf("after the inner run: GOGC %d, want %d while the other runs", p, holdGCPercent)
	}
	restore()
	if p := gcPercent(); p != before {
		t.Errorf("after both: GOGC %d, want %d restored", p, before)
	}
}
