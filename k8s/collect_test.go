package k8s

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

// fakeKubectlScript answers each call from a file named after its
// arguments (every byte but [A-Za-z0-9._-] made '_'): NAME.out is printed
// with exit 0, NAME.err goes to stderr with exit 1; anything else is an
// unexpected call (exit 3). Every call is appended to calls.
const fakeKubectlScript = `#!/bin/sh
dir=$(dirname "$0")
printf '%s\n' "$*" >>"$dir/calls"
key=$(printf '%s' "$*" | tr -c 'A-Za-z0-9._-' '_')
if [ -f "$dir/$key.out" ]; then cat "$dir/$key.out"; exit 0; fi
if [ -f "$dir/$key.err" ]; then cat "$dir/$key.err" >&2; exit 1; fi
echo "fake kubectl: no answer for: $*" >&2
exit 3
`

// fakeKubectl is a kubectl that serves canned answers, in t.TempDir().
type fakeKubectl struct {
	t    *testing.T
	dir  string
	path string
	ns   string // appended to every call as --namespace, when set
}

func newFakeKubectl(t *testing.T) *fakeKubectl {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "kubectl")
	if err := os.WriteFile(path, []byte(fakeKubectlScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return &fakeKubectl{t: t, dir: dir, path: path}
}

func (f *fakeKubectl) key(args string) string {
	if f.ns != "" {
		args += " --namespace " + f.ns
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, args)
}

// answer makes 'kubectl ARGS' print out.
func (f *fakeKubectl) answer(args string, out []byte) {
	f.t.Helper()
	writeFile(f.t, f.dir, f.key(args)+".out", out)
}

// fail makes 'kubectl ARGS' exit 1 saying stderr.
func (f *fakeKubectl) fail(args, stderr string) {
	f.t.Helper()
	writeFile(f.t, f.dir, f.key(args)+".err", []byte(stderr+"\n"))
}

func (f *fakeKubectl) calls() []string {
	data, err := os.ReadFile(filepath.Join(f.dir, "calls"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		f.t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func (f *fakeKubectl) collect(job string) ([]Shard, error) {
	return Collect(context.Background(), CollectOptions{Job: job, Namespace: f.ns, Kubectl: f.path})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// job is an Indexed Job of n completions, finished with condition cond
// ("" for still running).
func job(t *testing.T, name string, n int32, cond batchv1.JobConditionType) []byte {
	j := batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       batchv1.JobSpec{CompletionMode: ptr(batchv1.IndexedCompletion), Completions: ptr(n), Parallelism: ptr(n)},
	}
	switch cond {
	case batchv1.JobFailed:
		j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue,
			Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline"}}
	case "":
		j.Status.Active = n
	default:
		j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue}}
	}
	return mustJSON(t, j)
}

// pod is one pod of a Job's: its name, completion index and phase.
type pod struct {
	name  string
	index int
	phase corev1.PodPhase
}

func podList(t *testing.T, jobName string, pods ...pod) []byte {
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	for _, p := range pods {
		idx := fmt.Sprint(p.index)
		item := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name,
				Labels:      map[string]string{JobNameLabel: jobName, IndexKey: idx},
				Annotations: map[string]string{IndexKey: idx}},
			Status: corev1.PodStatus{Phase: p.phase},
		}
		if p.phase == corev1.PodFailed {
			item.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName,
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}
		}
		list.Items = append(list.Items, item)
	}
	return mustJSON(t, list)
}

// shardLog is a generator's log as kubectl shows it: stderr lines (one of
// them JSON) around the compact result line.
func shardLog(t *testing.T, host string, seed uint64) []byte {
	run := resultstest.ShardRun(host, int(seed-1), 3, seed, time.Duration(seed)*time.Millisecond, 0.5)
	return []byte(`mtlsbench: shard 1/3: waiting at the start barrier
{"level":"info","msg":"a JSON line on stderr is not a result"}
` + string(mustJSON(t, run)) + `
mtlsbench: result written to -
`)
}

func TestCollectAllPresent(t *testing.T) {
	for _, ns := range []string{"", "perf"} {
		k := newFakeKubectl(t)
		k.ns = ns
		k.answer("get job bench -o json", job(t, "bench", 3, batchv1.JobComplete))
		k.answer("get pods -l batch.kubernetes.io/job-name=bench -o json", podList(t, "bench",
			pod{"bench-2-zz", 2, corev1.PodSucceeded}, pod{"bench-0-aa", 0, corev1.PodSucceeded}, pod{"bench-1-bb", 1, corev1.PodSucceeded}))
		for i, name := range []string{"bench-0-aa", "bench-1-bb", "bench-2-zz"} {
			k.answer("logs "+name, shardLog(t, name, uint64(i+1)))
		}
		shards, err := k.collect("bench")
		if err != nil {
			t.Fatalf("namespace %q: %v\ncalls: %q", ns, err, k.calls())
		}
		if len(shards) != 3 {
			t.Fatalf("%d shards, want 3", len(shards))
		}
		for i, s := range shards {
			if s.Index != i || s.Run == nil || s.Run.Environment.Hostname != s.Pod || s.Run.Schema != results.Schema {
				t.Errorf("shard %d: index %d, pod %s, run %v", i, s.Index, s.Pod, s.Run != nil)
			}
		}
		// The shards merge.
		runs := make([]*results.Run, len(shards))
		for i, s := range shards {
			runs[i] = s.Run
		}
		if merged, err := results.Merge(runs...); err != nil || len(merged.Shards) != 3 {
			t.Errorf("merge: %v", err)
		}
		if ns != "" {
			for _, c := range k.calls() {
				if !strings.HasSuffix(c, " --namespace "+ns) {
					t.Errorf("call %q without --namespace %s", c, ns)
				}
			}
		}
	}
}

func TestCollectMissingIndex(t *testing.T) {
	k := newFakeKubectl(t)
	k.answer("get job bench -o json", job(t, "bench", 4, batchv1.JobFailed))
	k.answer("get pods -l batch.kubernetes.io/job-name=bench -o json", podList(t, "bench",
		pod{"bench-0-aa", 0, corev1.PodSucceeded}, pod{"bench-2-cc", 2, corev1.PodSucceeded}))
	k.answer("logs bench-0-aa", shardLog(t, "bench-0-aa", 1))
	k.answer("logs bench-2-cc", shardLog(t, "bench-2-cc", 3))
	shards, err := k.collect("bench")
	var se *ShardsError
	if !errors.As(err, &se) || isInput(err) {
		t.Fatalf("%v, want a *ShardsError (the run failed), not an input error", err)
	}
	if !slices.Equal(se.Missing, []int{1, 3}) || len(se.Collected) != 2 || len(shards) != 2 {
		t.Errorf("missing %v, collected %d: want [1 3] and 2", se.Missing, len(se.Collected))
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "k8s: job bench: 2 of 4 shards left no result (the Job failed: DeadlineExceeded: Job was active longer than specified deadline): ") ||
		!strings.Contains(msg, "no pod for index 1, 3") {
		t.Errorf("message %q", msg)
	}
}

// A shard whose first pod failed and a second one succeeded (the Job
// controller replaced a pod whose node went away): the one that succeeded
// is read, the failed one not even opened.
func TestCollectDuplicateIndexPrefersSucceeded(t *testing.T) {
	k := newFakeKubectl(t)
	k.answer("get job bench -o json", job(t, "bench", 2, batchv1.JobComplete))
	k.answer("get pods -l batch.kubernetes.io/job-name=bench -o json", podList(t, "bench",
		pod{"bench-0-aa", 0, corev1.PodSucceeded},
		pod{"bench-1-aa", 1, corev1.PodFailed},
		pod{"bench-1-bb", 1, corev1.PodSucceeded}))
	k.answer("logs bench-0-aa", shardLog(t, "bench-0-aa", 1))
	k.answer("logs bench-1-bb", shardLog(t, "bench-1-bb", 2))
	shards, err := k.collect("bench")
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 2 || shards[1].Pod != "bench-1-bb" {
		t.Errorf("shards %+v: want index 1 from bench-1-bb", shards)
	}
	if slices.Contains(k.calls(), "logs bench-1-aa") {
		t.Errorf("read the failed pod's log though another succeeded: %q", k.calls())
	}
}

// Two pods of one index both succeeded: that slice ran twice.
func TestCollectIndexRanTwice(t *testing.T) {
	k := newFakeKubectl(t)
	k.answer("get job bench -o json", job(t, "bench", 1, batchv1.JobComplete))
	k.answer("get pods -l batch.kubernetes.io/job-name=bench -o json", podList(t, "bench",
		pod{"bench-0-aa", 0, corev1.PodSucceeded}, pod{"bench-0-bb", 0, corev1.PodSucceeded}))
	_, err := k.collect("bench")
	var se *ShardsError
	if !errors.As(err, &se) || len(se.Problems) != 1 || !strings.Contains(err.Error(), "ran twice") {
		t.Errorf("%v, want a *ShardsError saying index 0 ran twice", err)
	}
}

// A pod that failed without a result (here at the barrier): its index is
// named with the pod, its phase and its log's last line.
func TestCollectPodWithoutResult(t *testing.T) {
	k := newFakeKubectl(t)
	k.answer("get job bench -o json", job(t, "bench", 2, batchv1.JobFailed))
	k.answer("get pods -l batch.kubernetes.io/job-name=bench -o json", podList(t, "bench",
		pod{"bench-0-aa", 0, corev1.PodSucceeded}, pod{"bench-1-aa", 1, corev1.PodFailed}))
	k.answer("logs bench-0-aa", shardLog(t, "bench-0-aa", 1))
	k.answer("logs bench-1-aa", []byte("mtlsbench: shard 2/2: waiting at the start barrier\nmtlsbench run: rendezvous bench-0.bench:7946: timed out after 5m0s\n"))
	_, err := k.collect("bench")
	var se *ShardsError
	if !errors.As(err, &se) || len(se.Problems) != 1 || len(se.Collected) != 1 {
		t.Fatalf("%v, want a *ShardsError with one problem and one shard", err)
	}
	p := se.Problems[0]
	if p.Index != 1 || p.Pod != "bench-1-aa" || p.Phase != "Failed (Error, exit 1)" || !strings.Contains(p.Reason, "rendezvous bench-0.bench:7946: timed out") {
		t.Errorf("problem %+v", p)
	}
}

// Clusters before Kubernetes 1.27 label a Job's pods job-name only.
func TestCollectLegacyJobLabel(t *testing.T) {
	k := newFakeKubectl(t)
	k.answer("get job bench -o json", job(t, "bench", 1, batchv1.JobComplete))
	k.answer("get pods -l batch.kubernetes.io/job-name=bench -o json", podList(t, "bench"))
	k.answer("get pods -l job-name=bench -o json", podList(t, "bench", pod{"bench-0-aa", 0, corev1.PodSucceeded}))
	k.answer("logs bench-0-aa", shardLog(t, "bench-0-aa", 1))
	if shards, err := k.collect("bench"); err != nil || len(shards) != 1 {
		t.Errorf("%d shards, %v", len(shards), err)
	}
}

// What cannot be collected as asked is an *InputError (exit 2): no such
// Job, a Job that is not Indexed, one that has not finished, no kubectl.
func TestCollectInputErrors(t *testing.T) {
	k := newFakeKubectl(t)
	k.fail("get job gone -o json", `Error from server (NotFound): jobs.batch "gone" not found`)
	k.answer("get job running -o json", job(t, "running", 3, ""))
	plain := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "plain"}, Spec: batchv1.JobSpec{Completions: ptr(int32(1))},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	k.answer("get job plain -o json", mustJSON(t, plain))
	for job, want := range map[string]string{
		"gone":    `no Job "gone" in kubectl's current namespace`,
		"running": "Job running has not finished (3 active, 0 succeeded, 0 failed of 3)",
		"plain":   "not an Indexed Job",
		"":        "which Job?",
	} {
		_, err := k.collect(job)
		if !isInput(err) || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "k8s: ") {
			t.Errorf("job %q: %v, want a k8s: *InputError containing %q", job, err, want)
		}
	}
	_, err := Collect(context.Background(), CollectOptions{Job: "bench", Kubectl: filepath.Join(t.TempDir(), "no-kubectl")})
	if !isInput(err) || !strings.Contains(err.Error(), "cannot be run") {
		t.Errorf("no kubectl: %v, want an *InputError", err)
	}
	// A cluster that cannot be reached is neither: a plain error (exit 1).
	k.fail("get job far -o json", "The connection to the server 127.0.0.1:1 was refused")
	if _, err := k.collect("far"); err == nil || isInput(err) || !strings.Contains(err.Error(), "was refused") {
		t.Errorf("unreachable: %v, want a plain error saying so", err)
	}
}

func TestResultFromLog(t *testing.T) {
	line := string(mustJSON(t, resultstest.ShardRun("h", 0, 1, 1, 0, 0.5)))
	for _, tc := range []struct {
		name, log, want string // want: "" for a result, else part of the error
	}{
		{"alone", line + "\n", ""},
		{"no newline", line, ""},
		{"CRLF", "note\r\n" + line + "\r\n", ""},
		{"twice", line + "\n" + line + "\n", "two result lines"},
		{"none", "starting\nmtlsbench run: boom\n", "no result line in its log (2 lines); the last: mtlsbench run: boom"},
		{"cut short", "starting\n" + line[:len(line)/2] + "\n", "does not decode"},
		{"other schema", `{"schema":"mtlsbench/result/v9"}` + "\n", "v9"},
		{"empty", "", "no result line in its log (0 lines)"},
	} {
		run, err := resultFromLog([]byte(tc.log), "pod p")
		switch {
		case tc.want == "" && (err != nil || run == nil):
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
