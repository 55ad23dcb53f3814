package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// A shard of an open loop starts its stripe of the global schedule at
// the global instants, counted from the shared start instant, and the
// window opens then.
func TestShardRunsItsStripeFromTheSharedInstant(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	startAt := time.Now().Add(300 * time.Millisecond)
	res := run(t, Config{
		Addr: srv.addr(), TLS: caseParams(tls.VersionTLS13, tls.X25519), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Schedule: Constant{Rate: 300, Length: time.Second}, Shard: Shard{Index: 1, Count: 3}, StartAt: startAt,
	})
	if d := res.StartInstant.Sub(startAt).Abs(); d > time.Millisecond {
		t.Errorf("run began at %v, asked for %v", res.StartInstant, startAt)
	}
	if d := res.Start.Sub(startAt); d < 0 || d > 50*time.Millisecond {
		t.Errorf("window opened %v after the shared instant", d)
	}
	// 300/s over 3 shards for 1 s: this shard makes starts 1, 4, 7, … of
	// 300, at 3.33 ms + k·10 ms.
	if res.Started < 95 || res.Started > 100 || res.Load.TargetRate != 100 {
		t.Errorf("started %d at a target of %v/s; want 100 at 100/s", res.Started, res.Load.TargetRate)
	}
	if len(res.Starts) < 90 {
		t.Fatalf("%d start times kept", len(res.Starts))
	}
	for k, d := range res.Starts[:10] {
		want := time.Duration(3*k+1) * time.Second / 300
		// Late by scheduling, never early.
		if d < want-time.Millisecond || d > want+20*time.Millisecond {
			t.Errorf("start %d at %v, due at %v", k, d, want)
		}
	}
}

func TestLateStartIsRefusedNotShifted(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	_, err := Run(context.Background(), Config{
		Addr: "127.0.0.1:1", TLS: caseParams(tls.VersionTLS13, tls.X25519), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 1, Duration: time.Second, StartAt: time.Now().Add(-time.Second),
	})
	var late *LateStartError
	if !errors.As(err, &late) || late.Late < time.Second {
		t.Errorf("a run a second late: %v, want a LateStartError", err)
	}
}

// A closed-loop shard runs its share of the run's connections, with its
// share of the identities, and refuses a share of none.
func TestClosedLoopShardShare(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	base := Config{Addr: "127.0.0.1:1", Identities: b.ClientCertificates(), Concurrency: 7, Schedule: nil}
	c, note := base.shardShare()
	if c.Concurrency != 7 || note != "" {
		t.Errorf("unsharded share: %d connections, %q", c.Concurrency, note)
	}
	base.Shard = Shard{Index: 2, Count: 3}
	c, note = base.shardShare()
	if c.Concurrency != 2 || len(c.Identities) != 1 || note == "" {
		t.Errorf("shard 2/3 of 7 with 2 identities: %d connections, %d identities, note %q; want 2, 1 and a note on sharing", c.Concurrency, len(c.Identities), note)
	}
	base.Concurrency, base.ServerName = 2, "localhost"
	if err := base.withDefaults().validate(); err == nil || !IsConfigError(err) {
		t.Errorf("2 connections over 3 shards: %v, want a ConfigError", err)
	}
}
