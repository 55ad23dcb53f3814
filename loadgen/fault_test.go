package loadgen

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A closed loop against a target that refuses every connect backs off
// instead of retrying at once (which made 60,000 refused connects a
// second), and counts the window as unreachable.
func TestClosedLoopBacksOffWhileRefused(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	const workers = 50
	res := run(t, Config{Addr: refusedAddr(t), TLS: caseParams(0), Roots: b.RootPool(), ServerName: "localhost",
		Identities: b.ClientCertificates(), Concurrency: workers, Duration: time.Second})
	if res.OK != 0 || res.ErrorsByClass["connect_refused"] != res.Attempted || res.Attempted == 0 {
		t.Fatalf("ok=%d attempted=%d errors=%v: want every attempt refused", res.OK, res.Attempted, res.ErrorsByClass)
	}
	// Backoff from 10 ms doubling to 1 s allows about 8 attempts per
	// worker in a second; retrying at once allowed thousands.
	if max := int64(workers * 15); res.Attempted > max {
		t.Errorf("%d connects in 1 s from %d workers (> %d): the workers did not back off", res.Attempted, workers, max)
	}
	if res.Unreachable < res.Duration*8/10 || res.Outages != 1 {
		t.Errorf("unreachable %v in %d outages over a %v window: want about the whole window, one outage", res.Unreachable, res.Outages, res.Duration)
	}
	if len(res.Warnings) == 0 {
		t.Error("no warning says the target was unreachable")
	}
}

// A target that goes away mid-run: its handshakes before are counted, the
// refused connects after are counted in their class, and the time it was
// gone is measured.
func TestTargetGoneMidRun(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	go func() {
		time.Sleep(600 * time.Millisecond)
		srv.close()
	}()
	res := run(t, Config{Addr: srv.addr(), TLS: caseParams(0), Roots: b.RootPool(), ServerName: "localhost",
		Identities: b.ClientCertificates(), Concurrency: 4, Duration: 1500 * time.Millisecond})
	if res.OK == 0 || res.ErrorsByClass["connect_refused"] == 0 {
		t.Fatalf("ok=%d errors=%v: want handshakes, then refused connects", res.OK, res.ErrorsByClass)
	}
	if res.Unreachable < 500*time.Millisecond || res.Unreachable > res.Duration {
		t.Errorf("unreachable %v of a %v window; the target was gone for about the last 0.9 s", res.Unreachable, res.Duration)
	}
}

// --max-in-flight is a hard cap: workers growing at once never exceed it
// (the check and the add were apart, and 1,000 reached 1,032).
func TestMaxInFlightIsAHardCap(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	c := Config{Addr: refusedAddr(t), TLS: caseParams(0), Roots: b.RootPool(), ServerName: "localhost",
		Identities: b.ClientCertificates(), Schedule: Constant{Rate: 1000, Length: time.Second}, MaxInFlight: 10}.withDefaults()
	target, err := resolveTarget(c.Addr, c.SourceAddrs)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		e := newEngine(c, target)
		e.stopping.Store(true) // grown workers return at once
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() { <-start; e.grow() })
		}
		close(start)
		wg.Wait()
		e.wg.Wait()
		if n := len(e.workers); n != 10 {
			t.Fatalf("%d workers after 200 concurrent grows with --max-in-flight 10", n)
		}
		if hits := e.limitHits.Load(); hits != 190 {
			t.Fatalf("%d limit hits, want 190", hits)
		}
	}
}
