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

// Set is a set of CPUs: on Linux the kernel's affinity mask, CPUs 0-1023.
type Set = unix.CPUSet

// PinSelf pins every thread of this process to set. Threads created later
// inherit the mask from the thread that creates them, which is pinned too.
// It also sets GOMAXPROCS to the size of the set.
func PinSelf(set Set) error {
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
func StartPinned(cmd *exec.Cmd, set *Set) error {
	if set == nil {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old Set
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
	var set Set
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
