package k8s

import (
	"fmt"
	"strings"
)

// InputError is a request this package cannot serve as asked: Render
// options that are wrong, or a Collect of a Job that does not exist, is
// not an Indexed Job, or has not finished yet. Nothing ran or failed; the
// caller fixes the request, or waits. The CLI exits 2 on it.
type InputError struct {
	// Reason says what is wrong, for a person.
	Reason string
	// Err is the cause, if any (a kubectl failure, a file error).
	Err error
}

func (e *InputError) Error() string {
	if e.Err != nil {
		return "k8s: " + e.Reason + ": " + e.Err.Error()
	}
	return "k8s: " + e.Reason
}

func (e *InputError) Unwrap() error { return e.Err }

func inputf(format string, args ...any) *InputError {
	return &InputError{Reason: fmt.Sprintf(format, args...)}
}

// ShardsError is a Job that finished without a result from every shard:
// completion indexes that no pod ran, and pods whose logs hold no result
// (a crash, the deadline, a failed start barrier). The run failed; the
// CLI exits 1 on it. Collected holds the shards that did leave a result.
type ShardsError struct {
	Job string
	// Completions is the Job's spec.completions: the shards there
	// should be.
	Completions int
	// JobFailure is why the Job failed ("DeadlineExceeded: ..."), from
	// its Failed condition; empty when it completed.
	JobFailure string
	// Missing lists the indexes no pod was found for, ascending.
	Missing []int
	// Problems lists, per index, why none of its pods gave a result.
	Problems []PodProblem
	// Collected are the shards that were collected, by index.
	Collected []Shard
}

// PodProblem is why a pod gave no result.
type PodProblem struct {
	Index int
	Pod   string
	// Phase is the pod's status.phase (Succeeded, Failed, ...).
	Phase string
	// Reason is why its log held no result.
	Reason string
}

func (e *ShardsError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		idx := make([]string, len(e.Missing))
		for i, m := range e.Missing {
			idx[i] = fmt.Sprint(m)
		}
		parts = append(parts, fmt.Sprintf("no pod for index %s", strings.Join(idx, ", ")))
	}
	for _, p := range e.Problems {
		parts = append(parts, fmt.Sprintf("index %d: pod %s (%s): %s", p.Index, p.Pod, p.Phase, p.Reason))
	}
	failed := ""
	if e.JobFailure != "" {
		failed = " (the Job failed: " + e.JobFailure + ")"
	}
	return fmt.Sprintf("k8s: job %s: %d of %d shards left no result%s: %s", e.Job, e.Completions-len(e.Collected), e.Completions, failed, strings.Join(parts, "; "))
}
