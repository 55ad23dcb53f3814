package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/results"
)

// run --slo is a pass/fail gate on one run, as k6's thresholds are: a
// verdict per case in the result, exit 1 naming the broken term.
func TestRunSLO(t *testing.T) {
	dir := t.TempDir()
	one := []string{"run", "-q", "-d", "1s", "--tls", "1.3", "--resume", "none", "--in-process"}

	broken := filepath.Join(dir, "broken.json")
	code, _, errOut := runCommand(t, append(one, "--slo", "p99<1us,errors<1%", "-o", broken)...)
	if code != exitFailed || !strings.Contains(errOut, "broke the SLO") || !strings.Contains(errOut, "(SLO p99<1µs)") {
		t.Fatalf("p99<1us: exit %d, want 1 naming the broken term; stderr:\n%s", code, errOut)
	}
	run, err := results.ReadFile(broken)
	if err != nil {
		t.Fatal(err)
	}
	v := run.Cases[0].SLO
	if v == nil || v.Met || len(v.Broken) != 1 || !strings.HasPrefix(v.Broken[0], "p99 ") || run.Cases[0].Status != results.StatusOK {
		t.Errorf("verdict %+v, status %s: want p99 broken (alone: errors<1%% held) and the case ok", v, run.Cases[0].Status)
	}

	met := filepath.Join(dir, "met.json")
	if code, _, errOut := runCommand(t, append(one, "--slo", "p99<10s", "-o", met)...); code != exitOK {
		t.Fatalf("p99<10s: exit %d, want 0; stderr:\n%s", code, errOut)
	}
	if run, err := results.ReadFile(met); err != nil || run.Cases[0].SLO == nil || !run.Cases[0].SLO.Met {
		t.Errorf("p99<10s: verdict %+v (%v), want met", run.Cases[0].SLO, err)
	}
}

// An SLO that cannot be judged is refused before any load, naming --slo.
func TestRunSLORefused(t *testing.T) {
	for _, tc := range []struct{ slo, want string }{
		{"p99<<3", `--slo p99<<3`},
		{"achieved>90%", "achieved needs an open loop"},
		{"latency<5ms", "--slo latency<5ms"},
	} {
		code, _, errOut := runCommand(t, "run", "-q", "-d", "1s", "--slo", tc.slo, "-o", filepath.Join(t.TempDir(), "r.json"))
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("--slo %s: exit %d, stderr %q; want 2 containing %q", tc.slo, code, errOut, tc.want)
		}
	}
}
