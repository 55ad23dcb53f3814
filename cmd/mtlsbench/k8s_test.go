package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// pkiDir writes a 'pki gen' directory of two clients into t.TempDir().
func pkiDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	b, err := pki.Generate(pki.Options{Clients: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(dir, pki.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestK8sRenderToFile(t *testing.T) {
	dir := pkiDir(t)
	out := filepath.Join(t.TempDir(), "run.yaml")
	code, stdout, stderr := runCommand(t, "k8s", "render", "--shards", "3", "--image", "mtlsbench:dev", "--pki", dir,
		"--target", "10.0.0.5:8443", "--tls", "1.2", "--tls", "1.3", "-r", "500", "--linger0", "--namespace", "perf", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q: the manifest went to -o", stdout)
	}
	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v: the manifest holds client keys, want 0600", info.Mode().Perm())
	}
	data, _ := os.ReadFile(out)
	manifest := string(data)
	quick, _ := scenarios.Show("quick")
	for _, want := range []string{
		"kind: Secret", "kind: ConfigMap", "kind: Service", "kind: Job", "namespace: perf",
		"  completions: 3\n", "  parallelism: 3\n",
		"- --shards\n        - \"3\"\n",
		"- --rendezvous\n        - mtlsbench-0.mtlsbench:7946\n",
		// The run flags given, in their order, as --flag=value.
		"- --target=10.0.0.5:8443\n        - --tls=1.2,1.3\n        - --rate=500\n        - --linger0=true\n",
		// quick: 4 cases of 500ms warm-up + 2s + 5s, plus 10 minutes.
		"activeDeadlineSeconds: 630 ",
		// The library scenario's own YAML, comments and all.
		strings.SplitN(string(quick), "\n", 2)[0],
	} {
		if !strings.Contains(manifest, want) {
			t.Errorf("the manifest lacks %q", want)
		}
	}
	if strings.Contains(manifest, "--namespace") && !strings.Contains(manifest, "k8s collect mtlsbench --namespace perf") {
		t.Errorf("--namespace went to the pods' args")
	}
	if !regexp.MustCompile(`mtlsbench/run-id: quick-\d{8}T\d{6}\n`).MatchString(manifest) {
		t.Errorf("no default run id quick-<UTC time> in the manifest")
	}
	for _, private := range []string{pki.RootKeyFile, pki.ServerKeyFile} {
		if strings.Contains(manifest, private) {
			t.Errorf("the manifest names %s", private)
		}
	}
	if !strings.Contains(stderr, "3 shards of quick (4 cases)") || !strings.Contains(stderr, "kubectl apply -f "+out) {
		t.Errorf("stderr %q", stderr)
	}
}

// A scenario file's bytes go to the ConfigMap as they are; a count-bounded
// one needs --deadline.
func TestK8sRenderScenarioFile(t *testing.T) {
	dir := pkiDir(t)
	tmp := t.TempDir()
	file := filepath.Join(tmp, "mine.yaml")
	// The target is left to --target: a file naming an external target
	// needs cert and key files, which the pods do not have (they have
	// --pki).
	yaml := "# my scenario\nname: mine\nload:\n  count: 1000\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCommand(t, "k8s", "render", "-f", file, "--shards", "2", "--image", "i", "--pki", dir, "--target", "10.0.0.5:8443")
	if code != 2 || !strings.Contains(stderr, "--deadline") {
		t.Errorf("count-bounded without --deadline: exit %d, want 2 asking for --deadline\n%s", code, stderr)
	}
	code, stdout, stderr := runCommand(t, "k8s", "render", "-f", file, "--shards", "2", "--image", "i", "--pki", dir, "--target", "10.0.0.5:8443", "--deadline", "1h", "--run-id", "r1")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"    # my scenario\n    name: mine\n", "activeDeadlineSeconds: 3600 ", "- r1\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the manifest lacks %q", want)
		}
	}
	// Without a name: line the pods would call it "scenario".
	noName := filepath.Join(tmp, "noname.yaml")
	os.WriteFile(noName, []byte(yaml[strings.Index(yaml, "load:"):]), 0o644)
	code, _, stderr = runCommand(t, "k8s", "render", "-f", noName, "--shards", "2", "--image", "i", "--pki", dir, "--target", "10.0.0.5:8443", "--deadline", "1h")
	if code != 2 || !strings.Contains(stderr, "add 'name: noname'") {
		t.Errorf("no name: exit %d, want 2 asking for a name\n%s", code, stderr)
	}
}

// What a pod of many cannot do, or what is missing, fails at render time
// with exit 2, before anything is written.
func TestK8sRenderRefusals(t *testing.T) {
	dir := pkiDir(t)
	base := []string{"k8s", "render", "--shards", "2", "--image", "i", "--pki", dir, "--target", "10.0.0.5:8443"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cpuprofile", "x.prof"}, "--cpuprofile"},
		{[]string{"--hdr-log", "x.hlog"}, "--hdr-log"},
		{[]string{"--target-pid", "1"}, "--target-pid"},
		{[]string{"--target-cpus", "1"}, "--target-cpus"},
		{[]string{"--client-cpus", "0"}, "--client-cpus"},
		{[]string{"--in-process"}, "--in-process"},
		{[]string{"--ca", "x.pem"}, "--ca"},
		{[]string{"--format", "json"}, "--format"},
		{[]string{"--rendezvous", "h:1"}, "rendezvous"}, // unknown here, refused on main
		{[]string{"--tls", "1.4"}, "1.4"},
		{[]string{"-f", "no-such-scenario"}, "no built-in scenario"},
		{[]string{"--target", "builtin"}, "each pod would start for itself"},
		{[]string{"--target", "127.0.0.1:8443"}, "loopback"},
		{[]string{"--shards", "0"}, "--shards 0"},
		{[]string{"--pki", filepath.Join(dir, "nope")}, "PKI"},
		{[]string{"--name", "Not_A_Name"}, "Not_A_Name"},
		{[]string{"--memory", "lots"}, "lots"},
		{[]string{"--deadline", "-1s"}, "--deadline"},
		{[]string{"stray"}, "unexpected argument"},
	} {
		out := filepath.Join(t.TempDir(), "m.yaml")
		args := append(append(append([]string{}, base...), tc.args...), "-o", out)
		code, stdout, stderr := runCommand(t, args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 with %q\n%s", tc.args, code, tc.want, stderr)
		}
		if _, err := os.Stat(out); err == nil || stdout != "" {
			t.Errorf("%v: wrote a manifest despite the refusal", tc.args)
		}
	}
	for _, missing := range []string{"--shards", "--image", "--pki"} {
		var args []string
		for i := 2; i < len(base); i += 2 {
			if base[i] != missing {
				args = append(args, base[i], base[i+1])
			}
		}
		code, _, stderr := runCommand(t, append([]string{"k8s", "render"}, args...)...)
		if code != 2 || !strings.Contains(stderr, missing) {
			t.Errorf("without %s: exit %d, want 2 naming it\n%s", missing, code, stderr)
		}
	}
	if code, _, _ := runCommand(t, "k8s"); code != 2 {
		t.Errorf("k8s alone: exit %d, want 2", code)
	}
	if code, _, _ := runCommand(t, "k8s", "deploy"); code != 2 {
		t.Errorf("k8s deploy: exit %d, want 2", code)
	}
}

// fakeKubectl is a kubectl script answering from files named after its
// arguments (see k8s/collect_test.go, whose fake this is a copy of).
const fakeKubectl = `#!/bin/sh
dir=$(dirname "$0")
key=$(printf '%s' "$*" | tr -c 'A-Za-z0-9._-' '_')
if [ -f "$dir/$key.out" ]; then cat "$dir/$key.out"; exit 0; fi
if [ -f "$dir/$key.err" ]; then cat "$dir/$key.err" >&2; exit 1; fi
echo "fake kubectl: no answer for: $*" >&2
exit 3
`

func fakeAnswer(t *testing.T, dir, args, suffix, content string) {
	t.Helper()
	key := regexp.MustCompile(`[^A-Za-z0-9._-]`).ReplaceAllString(args, "_")
	if err := os.WriteFile(filepath.Join(dir, key+suffix), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestK8sCollect(t *testing.T) {
	dir := t.TempDir()
	kubectl := filepath.Join(dir, "kubectl")
	if err := os.WriteFile(kubectl, []byte(fakeKubectl), 0o755); err != nil {
		t.Fatal(err)
	}
	job := func(n int) string {
		return `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"bench"},"spec":{"completionMode":"Indexed","completions":` +
			string(rune('0'+n)) + `},"status":{"conditions":[{"type":"Complete","status":"True"}]}}`
	}
	pods := `{"apiVersion":"v1","kind":"List","items":[` +
		`{"metadata":{"name":"bench-0-a","annotations":{"batch.kubernetes.io/job-completion-index":"0"}},"status":{"phase":"Succeeded"}},` +
		`{"metadata":{"name":"bench-1-b","annotations":{"batch.kubernetes.io/job-completion-index":"1"}},"status":{"phase":"Succeeded"}}]}`
	fakeAnswer(t, dir, "get job bench -o json --namespace perf", ".out", job(2))
	fakeAnswer(t, dir, "get pods -l batch.kubernetes.io/job-name=bench -o json --namespace perf", ".out", pods)
	for i, pod := range []string{"bench-0-a", "bench-1-b"} {
		line, err := json.Marshal(resultstest.ShardRun(pod, i, 2, uint64(i+1), time.Duration(i)*time.Millisecond, 0.5))
		if err != nil {
			t.Fatal(err)
		}
		fakeAnswer(t, dir, "logs "+pod+" --namespace perf", ".out", "mtlsbench: waiting at the barrier\n"+string(line)+"\nmtlsbench: done\n")
	}
	out := filepath.Join(t.TempDir(), "merged.json")
	code, _, stderr := runCommand(t, "k8s", "collect", "bench", "--namespace", "perf", "--kubectl", kubectl, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "2 shards, 1 cases → "+out) {
		t.Errorf("stderr %q", stderr)
	}
	merged, err := results.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Shards) != 2 || merged.Shards[1].Hostname != "bench-1-b" {
		t.Errorf("merged shards %+v", merged.Shards)
	}

	// A shard missing: the run failed, exit 1. No such Job: exit 2.
	fakeAnswer(t, dir, "get job bench -o json --namespace perf", ".out", job(3))
	code, _, stderr = runCommand(t, "k8s", "collect", "bench", "--namespace", "perf", "--kubectl", kubectl, "-o", out)
	if code != 1 || !strings.Contains(stderr, "no pod for index 2") {
		t.Errorf("index 2 missing: exit %d, want 1 naming it\n%s", code, stderr)
	}
	fakeAnswer(t, dir, "get job gone -o json", ".err", `Error from server (NotFound): jobs.batch "gone" not found`)
	code, _, stderr = runCommand(t, "k8s", "collect", "gone", "--kubectl", kubectl)
	if code != 2 || !strings.Contains(stderr, `no Job "gone"`) {
		t.Errorf("no such Job: exit %d, want 2\n%s", code, stderr)
	}
	if code, _, _ := runCommand(t, "k8s", "collect"); code != 2 {
		t.Errorf("no Job named: exit %d, want 2", code)
	}
}

// A case of the openssl client renders, with a warning that the static
// image 'make image' builds would refuse it; without one, no warning.
func TestK8sRenderWarnsOfOpenSSL(t *testing.T) {
	dir := pkiDir(t)
	for _, tc := range []struct {
		args []string
		warn bool
	}{
		{[]string{"--client", "openssl"}, true},
		{[]string{"--client-signer", "openssl"}, true},
		{nil, false},
	} {
		args := append([]string{"k8s", "render", "--shards", "2", "--image", "mtlsbench:dev", "--pki", dir,
			"--target", "10.0.0.5:8443", "--tls", "1.3", "-o", filepath.Join(t.TempDir(), "run.yaml")}, tc.args...)
		code, _, stderr := runCommand(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", tc.args, code, stderr)
		}
		if got := strings.Contains(stderr, "does not have (a static build, without cgo)"); got != tc.warn {
			t.Errorf("%v: warned %v, want %v: %q", tc.args, got, tc.warn, stderr)
		}
	}
}
