// Package cpuset owns CPU pinning: parsing CPU lists as taskset(1) takes
// them ("0", "1-3", "0,2-3"), pinning this process, and starting a child
// process already pinned (so threads and workers it forks inherit the set).
package cpuset

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Parse parses a CPU list. Every CPU must exist on this machine.
func Parse(s string) (unix.CPUSet, error) {
	var set unix.CPUSet
	n := runtime.NumCPU()
	if strings.TrimSpace(s) == "" {
		return set, fmt.Errorf("cpuset: empty CPU list (example: 0 or 1-3)")
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return set, fmt.Errorf("cpuset: bad CPU list %q: %q is not a CPU number (example: 0,2-3)", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return set, fmt.Errorf("cpuset: bad CPU range %q in %q (example: 2-3)", part, s)
			}
		}
		for c := a; c <= b; c++ {
			if c < 0 || c >= n {
				return set, fmt.Errorf("cpuset: CPU %d in %q does not exist (this machine has CPUs 0-%d)", c, s, n-1)
			}
			set.Set(c)
		}
	}
	return set, nil
}

// PinSelf pins every thread of this process to set. Threads created later
// inherit the mask from the thread that creates them, which is pinned too.
// It also sets GOMAXPROCS to the size of the set.
func PinSelf(set unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("cpuset: list threads: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("cpuset: pin thread %d: %w", tid, err)
		}
	}
	runtime.GOMAXPROCS(set.Count())
	return nil
}

// StartPinned starts cmd with its CPU affinity already set: the forking
// thread is pinned to set for the duration of the fork, so the child begins
// life on set and everything it forks inherits it. A nil set starts cmd
// normally.
func StartPinned(cmd *exec.Cmd, set *unix.CPUSet) error {
	if set == nil {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("cpuset: read affinity: %w", err)
	}
	if err := unix.SchedSetaffinity(0, set); err != nil {
		return fmt.Errorf("cpuset: pin: %w", err)
	}
	startErr := cmd.Start()
	if err := unix.SchedSetaffinity(0, &old); err != nil && startErr == nil {
		return fmt.Errorf("cpuset: restore affinity: %w", err)
	}
	return startErr
}

// Of returns the CPU list a process is pinned to, as the kernel reports it
// ("0-1"). pid 0 means this process.
func Of(pid int) (string, error) {
	p := "/proc/self/status"
	if pid != 0 {
		p = filepath.Join("/proc", strconv.Itoa(pid), "status")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("cpuset: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("cpuset: no Cpus_allowed_list in %s", p)
}

// Allowed lists the CPUs this process may run on (its affinity mask).
func Allowed() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("cpuset: read this process's CPU affinity: %w", err)
	}
	var cpus []int
	for i := range 1024 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}
