package loadgen

import (
	"context"
	"crypto/tls"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// withSoftFDLimit runs f with this process's soft RLIMIT_NOFILE lowered to
// n (the hard limit unchanged), then restores it.
func withSoftFDLimit(t *testing.T, n uint64, f func()) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	if lim.Max < n {
		t.Skipf("hard RLIMIT_NOFILE %d is below %d", lim.Max, n)
	}
	low := lim
	low.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	defer func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
	}()
	f()
}

func TestFDLimitWarning(t *testing.T) {
	withSoftFDLimit(t, 1000, func() {
		c := Config{Concurrency: 1001}
		if msg := fdLimitWarning(&c); !strings.Contains(msg, "-c 1001 needs 1065 file descriptors") || !strings.Contains(msg, "RLIMIT_NOFILE") ||
			!strings.Contains(msg, "936 connections fit. Lower -c to 936 or less") || !strings.Contains(msg, "ulimit -n 1065") {
			t.Errorf("closed loop over the limit: %q", msg)
		}
		c = Config{Concurrency: 936}
		if msg := fdLimitWarning(&c); msg != "" {
			t.Errorf("936 connections: %q", msg)
		}
		// An open loop holds rate × hold connections, capped by MaxInFlight.
		c = Config{Schedule: Constant{Rate: 1000}, Hold: 2 * time.Second, MaxInFlight: 3000}
		if msg := fdLimitWarning(&c); !strings.Contains(msg, "open loop may hold about 2050 connections") || !strings.Contains(msg, "--max-in-flight to 936") {
			t.Errorf("open loop over the limit: %q", msg)
		}
		c.MaxInFlight = 10
		if msg := fdLimitWarning(&c); msg != "" {
			t.Errorf("open loop capped at 10: %q", msg)
		}
	})
}

// When nothing fits, the advice never reads "about 0 connections" or a
// negative number: it says the limit is too low for anything.
func TestFDLimitWarningWhenNothingFits(t *testing.T) {
	withSoftFDLimit(t, 40, func() {
		c := Config{Concurrency: 10}
		msg := fdLimitWarning(&c)
		if !strings.Contains(msg, "this process may open 40") || !strings.Contains(msg, "no more than it needs besides its connections. Raise the soft limit to 74 (ulimit -n 74)") ||
			strings.Contains(msg, " 0 connections") || regexp.MustCompile(`(^|\s)-\d`).MatchString(msg) {
			t.Errorf("limit 40: %q", msg)
		}
	})
}

// An open loop's estimate never wraps: a huge rate is capped by
// MaxInFlight, not turned into a negative count that fits.
func TestConnectionsNeededNeverWraps(t *testing.T) {
	for _, rate := range []float64{1e12, 1e300} {
		c := Config{Schedule: Constant{Rate: rate}, Hold: time.Hour, MaxInFlight: 5000}
		if n := connectionsNeeded(&c); n != 5000 {
			t.Errorf("rate %g: %d connections needed, want the cap 5000", rate, n)
		}
	}
}

// A closed loop that cannot have all its connections open within the
// file-descriptor limit is refused before any load, unless asked for; a
// shard is judged by its share.
func TestClosedLoopOverTheFDLimitIsRefused(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	withSoftFDLimit(t, 300, func() {
		cfg := Config{Addr: srv.addr(), TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
			Concurrency: 400, Duration: time.Second}
		_, err := Run(context.Background(), cfg)
		if !IsConfigError(err) || !strings.Contains(err.Error(), "-c 400 needs 464 file descriptors") || !strings.Contains(err.Error(), "--over-fd-limit") {
			t.Errorf("closed loop of 400 with a limit of 300: %v, want a ConfigError naming -c and --over-fd-limit", err)
		}
		if n := srv.handshakes.Load() + srv.failed.Load(); n != 0 {
			t.Errorf("the refused run made %d connections", n)
		}
		cfg.OverFDLimit = true
		if warning, err := CheckFDLimit(cfg); err != nil || !strings.Contains(warning, "-c 400") {
			t.Errorf("asked for: warning %q, error %v", warning, err)
		}
		cfg.OverFDLimit = false
		cfg.Shard = Shard{Index: 1, Count: 2}
		if _, err := CheckFDLimit(cfg); err != nil {
			t.Errorf("a shard of 200 of 400: %v", err)
		}
		cfg.Concurrency = 1000
		if _, err := CheckFDLimit(cfg); err == nil || !strings.Contains(err.Error(), "this shard's share of -c, 500 connections") {
			t.Errorf("a shard of 500 of 1000: %v", err)
		}
		cfg.Concurrency, cfg.Schedule = 0, Constant{Rate: 1e6}
		if warning, err := CheckFDLimit(cfg); err != nil || !strings.Contains(warning, "open loop") {
			t.Errorf("an open loop over the limit is warned about, not refused: warning %q, error %v", warning, err)
		}
	})
}
