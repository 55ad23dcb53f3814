package managed

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
)

func TestHAProxyIntegration(t *testing.T) {
	t.Parallel()
	integration(t, targets.KindHAProxy)
}

func TestHAProxyWindow(t *testing.T) {
	t.Parallel()
	windowIntegration(t, targets.KindHAProxy)
}

// TestHAProxyLogBehind counts with HAProxy's lines reaching the file well
// after their connections closed and longer than the log's quiet: a count
// that trusted closed connections and a quiet file would miss them. Not
// parallel: the hook is the package's.
func TestHAProxyLogBehind(t *testing.T) {
	requireServer(t, targets.KindHAProxy)
	capability, err := targets.Capabilities(targets.KindHAProxy)
	if err != nil {
		t.Fatal(err)
	}
	testHookCollectorWrite = func() { time.Sleep(3 * logQuiet) }
	t.Cleanup(func() { testHookCollectorWrite = nil })
	for _, mode := range []targets.Mode{targets.ModeHandshake, targets.ModeHTTP} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Mode = mode
			m := testStart(t, targets.KindHAProxy, cfg)
			c := newTestClient(t, m)
			before := snapshot(t, m)
			requests := 0
			if mode == targets.ModeHTTP {
				requests = 1
			}
			c.ok(c.connect(c.config(tls.VersionTLS13, nil, false), mode, requests, false))
			c.rejected(c.connect(c.config(tls.VersionTLS13, nil, true), mode, requests, false), capability)
			checkCounts(t, m, before, c.seen)
		})
	}
}
