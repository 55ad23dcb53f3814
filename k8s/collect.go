package k8s

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/mtlsbench/mtlsbench/results"
)

// CollectOptions say which Job to collect. Zero values have the defaults
// noted per field.
type CollectOptions struct {
	// Job is the Job's name. Required.
	Job string
	// Namespace of the Job. Zero means kubectl's current namespace.
	Namespace string
	// Kubectl is the kubectl program. Zero means "kubectl" on $PATH.
	Kubectl string
}

// Shard is one generator's result, read from its pod's log.
type Shard struct {
	// Index is the pod's completion index: the shard it ran.
	Index int
	Pod   string
	Run   *results.Run
}

// Collect reads the result of every shard of a finished Indexed Job from
// its pods' logs, through kubectl:
//
//  1. 'kubectl get job JOB -o json': the Job must exist, be Indexed and
//     have finished (Complete or Failed); spec.completions is the number
//     of shards N. Otherwise an *InputError: nothing to collect (yet).
//  2. 'kubectl get pods -l batch.kubernetes.io/job-name=JOB -o json' (the
//     label job-name on clusters older than 1.27): each pod's index is its
//     batch.kubernetes.io/job-completion-index annotation or label.
//  3. For each index 0..N-1, its pods in order (Succeeded, then Failed,
//     then any other phase; by name within a phase) until one's log,
//     'kubectl logs POD', holds a result: the one line that starts with
//     '{' and decodes as a result of schema results.Schema. The other
//     lines are the generator's stderr, which kubectl interleaves with
//     stdout line by line.
//
// Every index must give exactly one result. When some do not (no pod, a
// pod whose log holds no result, two pods of one index that both
// succeeded) the error is a *ShardsError naming each, holding the shards
// that were collected. The shards are returned by index.
func Collect(ctx context.Context, o CollectOptions) ([]Shard, error) {
	if o.Job == "" {
		return nil, inputf("collect: which Job? (a name is needed)")
	}
	k := kubectl{path: o.Kubectl, namespace: o.Namespace}
	if k.path == "" {
		k.path = "kubectl"
	}
	n, failure, err := k.finishedJob(ctx, o.Job)
	if err != nil {
		return nil, err
	}
	pods, err := k.jobPods(ctx, o.Job)
	if err != nil {
		return nil, err
	}
	byIndex := map[int][]corev1.Pod{}
	for _, p := range pods {
		i, ok := podIndex(p)
		if ok && i < n {
			byIndex[i] = append(byIndex[i], p)
		}
	}
	e := &ShardsError{Job: o.Job, Completions: n, JobFailure: failure}
	for i := range n {
		candidates := byIndex[i]
		if len(candidates) == 0 {
			e.Missing = append(e.Missing, i)
			continue
		}
		slices.SortStableFunc(candidates, func(a, b corev1.Pod) int {
			if d := phaseRank(a.Status.Phase) - phaseRank(b.Status.Phase); d != 0 {
				return d
			}
			return strings.Compare(a.Name, b.Name)
		})
		if len(candidates) > 1 && candidates[1].Status.Phase == corev1.PodSucceeded {
			// Two pods of one index ran to the end: its slice of the
			// schedule was run twice, and neither result is the shard's
			// alone.
			e.Problems = append(e.Problems, PodProblem{Index: i, Pod: candidates[1].Name, Phase: describePhase(candidates[1]),
				Reason: fmt.Sprintf("pod %s of the same index also succeeded: the shard ran twice", candidates[0].Name)})
			continue
		}
		var problems []PodProblem
		for _, p := range candidates {
			problem := PodProblem{Index: i, Pod: p.Name, Phase: describePhase(p)}
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				problem.Reason = "it has not finished, though the Job has"
				problems = append(problems, problem)
				continue
			}
			log, err := k.run(ctx, "logs", p.Name)
			if err != nil {
				problem.Reason = err.Error()
				problems = append(problems, problem)
				continue
			}
			run, err := resultFromLog(log, "pod "+p.Name)
			if err != nil {
				problem.Reason = err.Error()
				problems = append(problems, problem)
				continue
			}
			e.Collected = append(e.Collected, Shard{Index: i, Pod: p.Name, Run: run})
			problems = nil
			break
		}
		e.Problems = append(e.Problems, problems...)
	}
	if len(e.Missing) > 0 || len(e.Problems) > 0 {
		return e.Collected, e
	}
	return e.Collected, nil
}

// phaseRank orders the pods of one index: the one to read first first.
func phaseRank(p corev1.PodPhase) int {
	switch p {
	case corev1.PodSucceeded:
		return 0
	case corev1.PodFailed:
		return 1
	}
	return 2
}

// describePhase is the pod's phase and, for a terminated container, why
// it ended: "Failed (OOMKilled, exit 137)".
func describePhase(p corev1.Pod) string {
	phase := string(p.Status.Phase)
	if phase == "" {
		phase = "Unknown"
	}
	var why []string
	if p.Status.Reason != "" {
		why = append(why, p.Status.Reason)
	}
	for _, c := range p.Status.ContainerStatuses {
		if t := c.State.Terminated; t != nil && (t.ExitCode != 0 || t.Reason != "Completed") {
			if t.Reason != "" {
				why = append(why, t.Reason)
			}
			why = append(why, fmt.Sprintf("exit %d", t.ExitCode))
		}
	}
	if len(why) > 0 {
		phase += " (" + strings.Join(why, ", ") + ")"
	}
	return phase
}

// podIndex is the pod's completion index, from its annotation or (since
// Kubernetes 1.28) its label.
func podIndex(p corev1.Pod) (int, bool) {
	v, ok := p.Annotations[IndexKey]
	if !ok {
		v, ok = p.Labels[IndexKey]
	}
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(v)
	return i, err == nil && i >= 0
}

// resultFromLog finds the result in a generator's log: the one line that
// starts with '{' and decodes as a result of schema results.Schema. Other
// lines are stderr (progress, notes) and are skipped, JSON ones too. No
// result line, or two, is an error whose text ends with the log's last
// line, which is usually why the generator stopped. source names the log
// in messages.
func resultFromLog(log []byte, source string) (*results.Run, error) {
	var (
		found     *results.Run
		lines     int
		last      string
		malformed error // a line that looked like a result but did not decode
	)
	for line := range bytes.Lines(log) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		lines++
		if line[0] != '{' {
			last = string(line)
			continue
		}
		run, err := results.Read(bytes.NewReader(line), source)
		if err != nil {
			var se *results.SchemaError
			switch {
			case errors.As(err, &se) && se.Got == "":
				// JSON without a schema: someone's log line.
				last = string(line)
			case errors.As(err, &se):
				return nil, fmt.Errorf("k8s: %s: %w", source, err)
			default:
				malformed = err
			}
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("k8s: %s: two result lines: the log of one shard holds one", source)
		}
		found = run
	}
	if found != nil {
		return found, nil
	}
	if malformed != nil {
		return nil, fmt.Errorf("k8s: %s: its result line does not decode (cut short?): %w", source, malformed)
	}
	msg := fmt.Sprintf("k8s: %s: no result line in its log (%d lines)", source, lines)
	if last != "" {
		msg += "; the last: " + clip(last, 300)
	}
	return nil, errors.New(msg)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// kubectl runs kubectl.
type kubectl struct {
	path, namespace string
}

// kubectlError is kubectl exiting non-zero: its arguments, what it said.
type kubectlError struct {
	args   []string
	stderr string
	err    error
}

func (e *kubectlError) Error() string {
	msg := e.stderr
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("k8s: kubectl %s: %s", strings.Join(e.args, " "), msg)
}

func (e *kubectlError) Unwrap() error { return e.err }

// notFound reports whether kubectl said the object does not exist.
func (e *kubectlError) notFound() bool {
	return strings.Contains(e.stderr, "(NotFound)") || strings.Contains(e.stderr, " not found")
}

// run runs kubectl with args (and --namespace), returning its stdout.
func (k kubectl) run(ctx context.Context, args ...string) ([]byte, error) {
	if k.namespace != "" {
		args = append(args, "--namespace", k.namespace)
	}
	cmd := exec.CommandContext(ctx, k.path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("k8s: kubectl %s: %w", strings.Join(args, " "), context.Cause(ctx))
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			// It did not start: not found, not executable.
			return nil, &InputError{Reason: fmt.Sprintf("kubectl %q cannot be run (install it, or name it with --kubectl)", k.path), Err: err}
		}
		return nil, &kubectlError{args: args, stderr: strings.TrimSpace(stderr.String()), err: err}
	}
	return out, nil
}

// where names the namespace for messages.
func (k kubectl) where() string {
	if k.namespace == "" {
		return "kubectl's current namespace"
	}
	return "namespace " + k.namespace
}

// finishedJob returns the shards of Job name (spec.completions) and, if it
// failed, why ("DeadlineExceeded: ..."), or an *InputError when there is
// no such Job, it is not Indexed, or it has not finished.
func (k kubectl) finishedJob(ctx context.Context, name string) (shards int, failure string, err error) {
	out, err := k.run(ctx, "get", "job", name, "-o", "json")
	if err != nil {
		var ke *kubectlError
		if errors.As(err, &ke) && ke.notFound() {
			return 0, "", &InputError{Reason: fmt.Sprintf("no Job %q in %s", name, k.where()), Err: err}
		}
		return 0, "", err
	}
	var job batchv1.Job
	if err := json.Unmarshal(out, &job); err != nil {
		return 0, "", fmt.Errorf("k8s: kubectl get job %s: %w", name, err)
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || *s.Completions < 1 {
		return 0, "", inputf("Job %s is not an Indexed Job with completions: not one 'mtlsbench k8s render' wrote", name)
	}
	finished := false
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			finished = true
		case batchv1.JobFailed:
			finished = true
			failure = strings.TrimSuffix(c.Reason+": "+c.Message, ": ")
		}
	}
	if !finished {
		st := job.Status
		return 0, "", inputf("Job %s has not finished (%d active, %d succeeded, %d failed of %d): wait for it (see docs/k8s.md) and collect again",
			name, st.Active, st.Succeeded, st.Failed, *s.Completions)
	}
	return int(*s.Completions), failure, nil
}

// jobPods lists the pods of Job name, by the Job controller's label and,
// when that finds none, by the label older clusters set.
func (k kubectl) jobPods(ctx context.Context, name string) ([]corev1.Pod, error) {
	for _, label := range []string{JobNameLabel, LegacyJobNameLabel} {
		out, err := k.run(ctx, "get", "pods", "-l", label+"="+name, "-o", "json")
		if err != nil {
			return nil, err
		}
		var list corev1.PodList
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, fmt.Errorf("k8s: kubectl get pods of job %s: %w", name, err)
		}
		if len(list.Items) > 0 {
			return list.Items, nil
		}
	}
	return nil, nil
}
