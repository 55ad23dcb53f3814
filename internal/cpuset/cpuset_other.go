//go:build !linux

package cpuset

import (
	"fmt"
	"os/exec"
	"runtime"
)

// Set is a set of CPUs 0-1023, the same as Linux's affinity mask, so a CPU
// list is checked the same way everywhere.
type Set struct{ bits [16]uint64 }

// Set adds cpu to the set.
func (s *Set) Set(cpu int) {
	if cpu >= 0 && cpu < 1024 {
		s.bits[cpu/64] |= 1 << (uint(cpu) % 64)
	}
}

// Clear removes cpu from the set.
func (s *Set) Clear(cpu int) {
	if cpu >= 0 && cpu < 1024 {
		s.bits[cpu/64] &^= 1 << (uint(cpu) % 64)
	}
}

// IsSet reports whether cpu is in the set.
func (s *Set) IsSet(cpu int) bool {
	return cpu >= 0 && cpu < 1024 && s.bits[cpu/64]&(1<<(uint(cpu)%64)) != 0
}

// Count is the number of CPUs in the set.
func (s *Set) Count() int {
	n := 0
	for i := range 1024 {
		if s.IsSet(i) {
			n++
		}
	}
	return n
}

// Zero empties the set.
func (s *Set) Zero() { s.bits = [16]uint64{} }

// PinSelf fails: this system cannot pin a process to CPUs.
func PinSelf(set Set) error {
	return fmt.Errorf("cpuset: pin this process to %d CPUs: %w", set.Count(), ErrUnsupported)
}

// StartPinned starts cmd; with a set it fails before starting anything,
// since this system cannot pin a process to CPUs.
func StartPinned(cmd *exec.Cmd, set *Set) error {
	if set == nil {
		return cmd.Start()
	}
	return fmt.Errorf("cpuset: start %s pinned: %w", cmd.Path, ErrUnsupported)
}

// Of fails: this system does not report a process's CPU affinity.
func Of(pid int) (string, error) {
	return "", fmt.Errorf("cpuset: CPU list of process %d: %w", pid, ErrUnsupported)
}

// Allowed lists every CPU: without affinity, a process may run on any.
func Allowed() ([]int, error) {
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus, nil
}
