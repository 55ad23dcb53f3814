package main

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/results"
)

// writeResult writes a small result of one case with repeats samples to
// dir/name: handshake latencies log-normal around 2 ms plus shiftUs.
func writeResult(t *testing.T, dir, name, scenario string, repeats int, seed uint64, shiftUs int64) string {
	t.Helper()
	return writeRun(t, dir, name, newResult(t, name, scenario, repeats, seed, shiftUs))
}

// writeRun writes run to dir/name.
func writeRun(t *testing.T, dir, name string, run *results.Run) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := results.WriteFile(path, run); err != nil {
		t.Fatal(err)
	}
	return path
}

// newResult is writeResult's result, on host name.
func newResult(t *testing.T, name, scenario string, repeats int, seed uint64, shiftUs int64) *results.Run {
	t.Helper()
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	run := &results.Run{
		Schema: results.Schema, Tool: results.Tool{Name: "mtlsbench", Version: "test"},
		Start: start, End: start.Add(time.Duration(repeats) * time.Second),
		Environment: results.Environment{Hostname: name, OS: "linux", Arch: "amd64", Cores: 2, GOMAXPROCS: 2},
		Scenario:    results.Scenario{Name: scenario},
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	for r := range repeats {
		h := results.NewHistogram()
		const n = 2000
		for range n {
			v := int64(2000*math.Exp(0.2*rng.NormFloat64())) + shiftUs
			if err := h.RecordValue(v); err != nil {
				t.Fatal(err)
			}
		}
		sum := results.Summarize(h)
		run.Cases = append(run.Cases, results.Case{
			Name: "tls1.3-full-ecdsa-p256-x25519", Key: "tls=1.3,resume=none,key=ecdsa-p256,group=x25519", Repeat: r,
			Params:     results.Params{TLSVersion: "1.3", Group: "x25519", KeyType: "ecdsa-p256", ClientKeyType: "ecdsa-p256", Resume: "none", Concurrency: 4, Target: "builtin"},
			Status:     results.StatusOK,
			Acceptance: results.AcceptanceConfirmed, ServerVerified: true,
			Start: start.Add(time.Duration(r) * time.Second), DurationS: 1,
			Counts:         results.Counts{Attempted: n, OK: n},
			Errors:         map[string]int64{},
			HandshakesPerS: n * (1 + 0.05*rng.NormFloat64()),
			Latency:        results.Latency{Handshake: &sum},
			CPU:            results.CPU{ClientUsPerHandshake: 300 * (1 + 0.05*rng.NormFloat64()), ClientCores: 2},
		})
	}
	return run
}

// shardResult is newResult as shard index of count of run "gate-1".
func shardResult(t *testing.T, name string, index, count int, seed uint64) *results.Run {
	t.Helper()
	run := newResult(t, name, "gate", 1, seed, 0)
	run.RunID = "gate-1"
	run.Shard = &results.Shard{Index: index, Count: count}
	return run
}

func runCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runCLI(context.Background(), &cliEnv{stdout: &out, stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

func TestCompareCommandExitCodes(t *testing.T) {
	dir := t.TempDir()
	base := writeResult(t, dir, "base.json", "gate", 5, 1, 0)
	same := writeResult(t, dir, "same.json", "gate", 5, 2, 0)
	slow := writeResult(t, dir, "slow.json", "gate", 5, 3, 2000)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema":"mtlsbench/result/v0"}`), 0o644)

	code, out, _ := runCommand(t, "compare", base, same)
	if code != 0 || !strings.Contains(out, "No regression") {
		t.Errorf("same setup: exit %d, want 0\n%s", code, out)
	}
	code, out, _ = runCommand(t, "compare", base, slow)
	if code != 1 || !strings.Contains(out, "REGRESSION") || !strings.Contains(out, "p99") {
		t.Errorf("2 ms slower: exit %d, want 1 with p99 flagged\n%s", code, out)
	}
	// Raising the thresholds past the slowdown passes it.
	code, out, _ = runCommand(t, "compare", base, slow, "--threshold", "p50=+300%,p99=+300%,p99.9=off")
	if code != 0 {
		t.Errorf("with loose thresholds: exit %d, want 0\n%s", code, out)
	}
	code, _, errOut := runCommand(t, "compare", base, bad)
	if code != 2 || !strings.Contains(errOut, "mtlsbench/result/v0") {
		t.Errorf("unknown schema: exit %d, want 2; stderr %q", code, errOut)
	}
	code, _, errOut = runCommand(t, "compare", base, filepath.Join(dir, "missing.json"))
	if code != 2 {
		t.Errorf("missing file: exit %d, want 2; stderr %q", code, errOut)
	}
	code, _, errOut = runCommand(t, "compare", base, same, "--threshold", "p99=-10%")
	if code != 2 || !strings.Contains(errOut, "write +10%") {
		t.Errorf("wrong-way threshold: exit %d, want 2; stderr %q", code, errOut)
	}
	md := filepath.Join(dir, "comment.md")
	code, out, _ = runCommand(t, "compare", base, slow, "-o", md)
	written, err := os.ReadFile(md)
	if code != 1 || err != nil || !strings.HasPrefix(string(written), "### mtlsbench compare: ❌") || !strings.Contains(out, "REGRESSION") {
		t.Errorf("-o comment.md: exit %d, err %v, file %q, stdout %q", code, err, written, out)
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	in := writeResult(t, dir, "r.json", "gate", 1, 1, 0)
	code, out, errOut := runCommand(t, "report", in)
	if code != 0 || !strings.Contains(out, "tls1.3-full-ecdsa-p256-x25519") {
		t.Fatalf("report table: exit %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct{ file, prefix string }{
		{"r.html", "<!doctype html>"},
		{"r.png", "\x89PNG"},
		{"r.csv", "name,key,repeat"},
		{"r.md", "### "},
		{"r.hlog", "#[mtlsbench"},
	} {
		path := filepath.Join(dir, tc.file)
		if code, _, errOut := runCommand(t, "report", in, "-o", path); code != 0 {
			t.Errorf("report -o %s: exit %d: %s", tc.file, code, errOut)
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil || !strings.HasPrefix(string(data), tc.prefix) {
			t.Errorf("%s starts %q, want %q (%v)", tc.file, firstBytes(data), tc.prefix, err)
		}
	}
	if code, _, errOut := runCommand(t, "report", in, "--format", "png"); code != 2 || !strings.Contains(errOut, "-o FILE.png") {
		t.Errorf("png to stdout: exit %d, want 2: %s", code, errOut)
	}
	if code, _, errOut := runCommand(t, "report", in, "--format", "pdf"); code != 2 || !strings.Contains(errOut, "accepted") {
		t.Errorf("unknown format: exit %d, want 2: %s", code, errOut)
	}
	if code, _, errOut := runCommand(t, "report", in, "--group-by", "colour"); code != 2 || !strings.Contains(errOut, "tls_version") {
		t.Errorf("bad --group-by: exit %d, want 2: %s", code, errOut)
	}
}

func firstBytes(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return string(b)
}

func TestMergeCommand(t *testing.T) {
	dir := t.TempDir()
	a := writeRun(t, dir, "a.json", shardResult(t, "a.json", 0, 2, 1))
	second := shardResult(t, "b.json", 1, 2, 2)
	second.Shard.Clock = &results.ClockSync{OffsetUs: 120, ErrorUs: 50, Samples: 8}
	b := writeRun(t, dir, "b.json", second)
	out := filepath.Join(dir, "all.json")
	code, _, errOut := runCommand(t, "merge", a, b, "-o", out)
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"mtlsbench merge: gate-1: 2 shards, 1 case, start skew up to 0.12 ms → " + out, // b began 120 µs later on a's clock
		"shard 1: clock +0.12 ms ± 0.05 ms",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("merge said %q, want %q in it", errOut, want)
		}
	}
	merged, err := results.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Shards) != 2 || merged.Cases[0].Counts.OK != 4000 || merged.Shards[1].Source != b {
		t.Errorf("merged: %d shards, %d ok, shard 1 from %q; want 2, 4000, %q", len(merged.Shards), merged.Cases[0].Counts.OK, merged.Shards[1].Source, b)
	}

	other := writeResult(t, dir, "c.json", "keytypes", 1, 3, 0)
	twice := writeRun(t, dir, "zero.json", shardResult(t, "zero.json", 0, 2, 3))
	mismatch := shardResult(t, "rsa.json", 1, 2, 4)
	mismatch.Cases[0].Params.ClientKeyType = "rsa2048"
	rsa := writeRun(t, dir, "rsa.json", mismatch)
	for _, tc := range []struct {
		name  string
		files []string
		want  []string
	}{
		{"different scenarios", []string{a, other}, []string{`scenario "keytypes"`}},
		{"not a shard", []string{a, writeResult(t, dir, "d.json", "gate", 1, 4, 0)}, []string{"d.json ran without --shard/--shards"}},
		{"a shard twice", []string{a, twice}, []string{a + " and " + twice + " are both shard 0"}},
		{"different params", []string{a, rsa}, []string{`params.client_key_type is "ecdsa-p256" in ` + a + ` but "rsa2048" in ` + rsa}},
	} {
		code, _, errOut := runCommand(t, append([]string{"merge", "-o", filepath.Join(dir, "x.json")}, tc.files...)...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2: %s", tc.name, code, errOut)
		}
		for _, want := range tc.want {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: %q lacks %q", tc.name, errOut, want)
			}
		}
	}
}
