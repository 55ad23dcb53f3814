package scenarios

import (
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Gate sizes, from compare (docs/compare.md): a p99 is judged only from
// 1,000 handshakes per sample, and the U test can reach alpha 0.05 only
// from 4 samples a side (5 recommended).
const (
	gateMinHandshakesForP99 = 1000
	gateMinRepeats          = 5
)

// TestGateScenario: the CI gate README's example runs (`run -f gate`)
// loads, expands to its three cases with the keys compare matches on, and
// is sized for compare and for a CI job: every sample judges p99, five
// repeats, one connection at a time, against the built-in target, and
// well under a minute of windows.
func TestGateScenario(t *testing.T) {
	spec, err := Load("gate")
	if err != nil {
		t.Fatal(err)
	}
	cases, skipped, err := Expand(*spec)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("expand: %v, skipped %v", err, skipped)
	}
	if spec.Repeat < gateMinRepeats {
		t.Errorf("repeat %d: compare's U test wants %d a side", spec.Repeat, gateMinRepeats)
	}
	want := []struct {
		name    string
		version tlsparams.Version
		resume  tlsparams.Resume
		key     pki.KeyType
	}{
		{"tls1.3-full-ecdsa-p256-x25519", tlsparams.TLS13, tlsparams.ResumeNone, pki.ECDSAP256},
		{"tls1.3-resumed-ecdsa-p256-x25519", tlsparams.TLS13, tlsparams.ResumeTickets, pki.ECDSAP256},
		{"tls1.2-full-rsa2048-x25519", tlsparams.TLS12, tlsparams.ResumeNone, pki.RSA2048},
	}
	if len(cases) != len(want) {
		t.Fatalf("%d cases, want %d: %v", len(cases), len(want), cases)
	}
	var handshakes int64
	for i, c := range cases {
		w := want[i]
		if c.Name != w.name || c.Version != w.version || c.Resume != w.resume || c.ServerKey != w.key || c.ClientKey != w.key {
			t.Errorf("case %d: %s (%s), want %s", i, c.Name, c.Key, w.name)
		}
		if c.Target.Kind != KindBuiltin {
			t.Errorf("%s: target %s, want the built-in one (CI needs nothing installed)", c.Name, c.Target.Kind)
		}
		if c.Load.Count < gateMinHandshakesForP99 || c.Load.Duration != 0 || c.Load.Rate != 0 {
			t.Errorf("%s: load %+v: want a closed loop of at least %d handshakes, so compare judges p99", c.Name, c.Load, gateMinHandshakesForP99)
		}
		if c.Load.Concurrency != 1 {
			t.Errorf("%s: concurrency %d, want 1 (no queueing in the latency)", c.Name, c.Load.Concurrency)
		}
		if c.Load.Warmup.D() > time.Second {
			t.Errorf("%s: warm-up %v", c.Name, c.Load.Warmup)
		}
		handshakes += c.Load.Count * int64(spec.Repeat)
	}
	// The slowest case, TLS 1.2 with RSA-2048 on both sides, does some 300
	// handshakes/s one at a time on a busy 2-core VM: keep the whole run's
	// handshakes where it stays well under a minute.
	if handshakes > 20000 {
		t.Errorf("%d handshakes in all: too many for a CI gate of well under a minute", handshakes)
	}
}
