package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
)

// The shard index and count come from --shard, or from --shards and the
// scheduler's variable; sources that disagree, or an index past the
// count, are usage errors.
func TestShardingFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want loadgen.Shard
		err  string
	}{
		{"unsharded", nil, nil, loadgen.Shard{}, ""},
		{"--shard", []string{"--shard", "2/3", "--run-id", "r"}, nil, loadgen.Shard{Index: 2, Count: 3}, ""},
		{"indexed job", []string{"--shards", "4", "--run-id", "r"}, map[string]string{"JOB_COMPLETION_INDEX": "3"}, loadgen.Shard{Index: 3, Count: 4}, ""},
		{"slurm", []string{"--shards", "2", "--run-id", "r"}, map[string]string{"SLURM_PROCID": "1"}, loadgen.Shard{Index: 1, Count: 2}, ""},
		{"both agree", []string{"--shards", "2", "--run-id", "r"}, map[string]string{"SLURM_PROCID": "1", "JOB_COMPLETION_INDEX": "1"}, loadgen.Shard{Index: 1, Count: 2}, ""},
		{"sources disagree", []string{"--shards", "3", "--run-id", "r"}, map[string]string{"SLURM_PROCID": "1", "JOB_COMPLETION_INDEX": "2"}, loadgen.Shard{}, "disagree"},
		{"flag and env disagree", []string{"--shard", "0/3", "--shards", "3", "--run-id", "r"}, map[string]string{"JOB_COMPLETION_INDEX": "2"}, loadgen.Shard{}, "disagree"},
		{"index past count", []string{"--shards", "3", "--run-id", "r"}, map[string]string{"JOB_COMPLETION_INDEX": "3"}, loadgen.Shard{}, "the run has 3 shards"},
		{"--shard past count", []string{"--shard", "3/3", "--run-id", "r"}, nil, loadgen.Shard{}, "the run has 3 shards"},
		{"no index", []string{"--shards", "3", "--run-id", "r"}, nil, loadgen.Shard{}, "no index"},
		{"bad --shard", []string{"--shard", "1-3"}, nil, loadgen.Shard{}, "want I/N"},
		{"counts disagree", []string{"--shard", "1/3", "--shards", "4"}, nil, loadgen.Shard{}, "disagree on the number"},
		{"sharded without a run id", []string{"--shard", "1/3"}, nil, loadgen.Shard{}, "--run-id"},
		{"rendezvous alone", []string{"--rendezvous", "h:1"}, nil, loadgen.Shard{}, "for a sharded run"},
		{"bad rendezvous", []string{"--shard", "0/2", "--run-id", "r", "--rendezvous", "nohost"}, nil, loadgen.Shard{}, "HOST:PORT"},
		{"bad start-at", []string{"--start-at", "tomorrow"}, nil, loadgen.Shard{}, "RFC 3339"},
		{"bad run id", []string{"--run-id", "a b"}, nil, loadgen.Shard{}, "without spaces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o runOptions
			fs := runFlags(&cliEnv{stdout: io.Discard, stderr: io.Discard}, &o)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			s, err := sharding(fs, &o.shard, "quick", func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || exitCode(err) != exitUsage {
					t.Errorf("err %v (exit %d), want a usage error containing %q", err, exitCode(err), tc.err)
				}
				return
			}
			if err != nil || s.Shard != tc.want {
				t.Errorf("shard %+v, %v; want %+v", s.Shard, err, tc.want)
			}
		})
	}
}

// The run ID: given, derived from the scenario and --start-at (the same
// on every shard), or for a run of one, from its start time.
func TestRunID(t *testing.T) {
	parse := func(args ...string) string {
		var o runOptions
		fs := runFlags(&cliEnv{stdout: io.Discard, stderr: io.Discard}, &o)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		s, err := sharding(fs, &o.shard, "quick", func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		return s.RunID
	}
	if id := parse("--run-id", "night-7"); id != "night-7" {
		t.Errorf("given: %q", id)
	}
	if id := parse("--shard", "1/2", "--start-at", "2026-12-02T17:00:00.5+01:00"); id != "quick-20261202T160000.500Z" {
		t.Errorf("from --start-at: %q", id)
	}
	if id := parse(); !strings.HasPrefix(id, "quick-"+time.Now().UTC().Format("20060102")) {
		t.Errorf("a run of one: %q", id)
	}
}

// Bad shard input exits 2 before any load, naming the flag; a shard of a
// built-in target (each shard would start its own server) too.
func TestShardRefusalsExitBeforeLoad(t *testing.T) {
	code, _, errOut := runCommand(t, "run", "--shard", "5/3", "--run-id", "x", "-d", "1s")
	if code != exitUsage || !strings.Contains(errOut, "--shard") {
		t.Errorf("--shard 5/3: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCommand(t, "run", "--shard", "0/2", "--run-id", "x", "-d", "1s", "-q", "-o", t.TempDir()+"/r.json")
	if code != exitUsage || !strings.Contains(errOut, "same server") {
		t.Errorf("sharded built-in target: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCommand(t, "run", "--start-at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "-n", "100", "-q", "-o", t.TempDir()+"/r.json")
	if code != exitUsage || !strings.Contains(errOut, "fixed timeline") {
		t.Errorf("--start-at with a count: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCommand(t, "run", "-o", "-", "--format", "json")
	if code != exitUsage || !strings.Contains(errOut, "standard output carries the result") {
		t.Errorf("-o - --format json: exit %d: %s", code, errOut)
	}
}

// A shard not ready at its case's start on a fixed timeline fails the
// case with class late_start (exit 1) instead of starting it late; no
// handshake is attempted.
func TestLateShardFailsTheCase(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCommand(t, "pki", "gen", "--out", dir+"/pki", "--clients", "2"); code != 0 {
		t.Fatal(errOut)
	}
	out := dir + "/r.json"
	// A live target: the run checks it is reachable before any load.
	addr, _, _ := startServeCommand(t, "--pki", dir+"/pki")
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	code, _, errOut := runCommand(t, "run", "--target", addr, "--pki", dir+"/pki", "--server-name", "localhost",
		"--tls", "1.3", "--resume", "none", "--shard", "1/2", "--start-at", past, "-d", "1s", "--warmup", "0s", "-q", "-o", out)
	if code != exitFailed || !strings.Contains(errOut, "late_start") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	run, err := results.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	c := run.Cases[0]
	if c.Status != results.StatusFailed || c.Errors["late_start"] != 1 || c.Counts.Attempted != 0 || run.Shard == nil || run.Shard.Index != 1 {
		t.Errorf("case %s %v attempted %d, shard %+v", c.Status, c.Errors, c.Counts.Attempted, run.Shard)
	}
}

// -o - writes the result to standard output as one line of JSON, last,
// and nothing else there (a pod's log carries it to 'k8s collect').
func TestResultToStdout(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCommand(t, "pki", "gen", "--out", dir+"/pki"); code != 0 {
		t.Fatal(errOut)
	}
	addr, _, _ := startServeCommand(t, "--pki", dir+"/pki")
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	_, out, errOut := runCommand(t, "run", "--target", addr, "--pki", dir+"/pki", "--server-name", "localhost",
		"--tls", "1.3", "--resume", "none", "--start-at", past, "-d", "1s", "-o", "-")
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, `{"schema":"mtlsbench/result/v1"`) {
		t.Fatalf("stdout is not one result line:\n%.300s\nstderr: %s", out, errOut)
	}
	run, err := results.Read(strings.NewReader(out), "stdout")
	if err != nil || len(run.Cases) != 1 {
		t.Fatalf("%v, %d cases", err, len(run.Cases))
	}
	if !strings.Contains(errOut, "tls1.3-full") {
		t.Errorf("the table should go to stderr: %s", errOut)
	}
}
