package managed

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
)

func TestOpenSSLIntegration(t *testing.T) {
	t.Parallel()
	integration(t, targets.KindOpenSSL)
}

// TestOpenSSLCountsUnderLoad checks that s_server's Counts, which the
// harness takes at the window's edges while load runs, answers promptly:
// its statistics connection queues behind the load's (s_server serves one
// connection at a time), but not for long.
func TestOpenSSLCountsUnderLoad(t *testing.T) {
	t.Parallel()
	requireServer(t, targets.KindOpenSSL)
	m := testStart(t, targets.KindOpenSSL, testConfig(t))
	if _, ok := m.(targets.WindowCounter); ok {
		t.Fatalf("s_server (%T) is a WindowCounter, but its statistics have no times", m)
	}
	c := newTestClient(t, m)
	before := snapshot(t, m)
	load := startLoad(c, targets.ModeHandshake, 8)
	time.Sleep(200 * time.Millisecond)
	var took []time.Duration
	var last targets.Counts
	for range 8 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		got, err := m.Counts(ctx)
		took = append(took, time.Since(start))
		cancel()
		if err != nil {
			close(load.stop)
			t.Fatalf("Counts under load: %v", err)
		}
		if got.Handshakes < last.Handshakes {
			t.Errorf("handshakes went down from %d to %d", last.Handshakes, got.Handshakes)
		}
		last = got
		time.Sleep(100 * time.Millisecond)
	}
	conns := load.finish(t)
	slices.Sort(took)
	t.Logf("openssl: %d connections; Counts under load took %s (median), %s (max)", len(conns), took[len(took)/2], took[len(took)-1])
	if took[len(took)/2] > 500*time.Millisecond || took[len(took)-1] > 2*time.Second {
		t.Errorf("Counts under load took %s (median), %s (max); want well under a second", took[len(took)/2], took[len(took)-1])
	}
	var client targets.Counts
	for _, ct := range conns {
		client.Handshakes++
		if ct.resumed {
			client.Resumed++
		}
	}
	checkCounts(t, m, before, client)
}
