package main

import (
	"strings"
	"testing"
	"time"
)

// Every numeric flag has a range, enforced before any load or long work,
// with the flag's name in the error: these values were accepted and then
// never ended, grew memory without bound, or silently meant "the default".
func TestNumericFlagsOutOfRange(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-c", "10000000"}, "--concurrency 10000000: concurrency 10000000 is out of range"},
		{[]string{"run", "-r", "1e12"}, "--rate 1e+12: rate 1e+12 is out of range"},
		{[]string{"run", "--rate", "-5"}, "--rate -5: rate -5 is negative"},
		{[]string{"run", "--interval", "1us"}, "--interval 1µs: interval 1µs is out of range"},
		{[]string{"run", "-d", "0s"}, "--duration 0s: must be at least 100ms"},
		{[]string{"run", "-c", "0"}, "--concurrency 0: must be at least 1"},
		{[]string{"run", "-n", "0"}, "--count 0: must be at least 1"},
		{[]string{"run", "--timeout", "0s"}, "--timeout 0s: must be at least"},
		{[]string{"run", "-r", "100", "--max-in-flight", "0"}, "--max-in-flight 0: must be at least 1"},
		{[]string{"run", "-d", "1h", "--interval", "10ms"}, "--interval 10ms: interval 10ms cuts the 1h0m0s window into 360000 intervals"},
		{[]string{"run", "--hold", "100h"}, "--hold 100h0m0s: hold 100h0m0s is out of range"},
		{[]string{"run", "--error-budget", "150%"}, "--error-budget 150%: error_budget \"150%\" is more than 100%"},
		{[]string{"capacity", "--max-steps", "100000"}, "--max-steps 100000: max_steps must be 2 to 200"},
		{[]string{"capacity", "--step-warmup", "100h"}, "--step-warmup 100h0m0s: step_warmup 100h0m0s is out of range"},
		{[]string{"pki", "gen", "--clients", "100000000", "--out", t.TempDir() + "/p"}, "--clients 100000000: out of range"},
		{[]string{"pki", "gen", "--validity", "1000000h", "--out", t.TempDir() + "/p"}, "--validity 1000000h0m0s: out of range"},
		{[]string{"serve", "--handshake-delay", "100h"}, "--handshake-delay 100h0m0s: out of range"},
		{[]string{"report", "--width", "0", "x.json"}, "--width 0: out of range"},
		{[]string{"run", "--shards", "100000", "--run-id", "x"}, "--shards 100000: want the number of shards, 1 to 10000"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			start := time.Now()
			code, _, errOut := runCommand(t, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d: %s\nwant exit 2 and %q", code, errOut, tc.want)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v: refused only after starting work", took)
			}
		})
	}
}
