// Package cpuset owns CPU pinning: parsing CPU lists as taskset(1) takes
// them ("0", "1-3", "0,2-3"), pinning this process, and starting a child
// process already pinned (so threads and workers it forks inherit the set).
//
// Pinning and reading a process's affinity are Linux features: elsewhere
// (macOS has no CPU affinity a process can set) Parse still checks a list,
// and PinSelf, StartPinned with a set, and Of return an error that says
// pinning is not available there (ErrUnsupported), never a silent no-op.
package cpuset

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// ErrUnsupported is returned (wrapped) where this system cannot pin a
// process to CPUs or report its affinity.
var ErrUnsupported = errors.New("CPU pinning is not available on " + runtime.GOOS + " (Linux only)")

// Parse parses a CPU list. Every CPU must exist on this machine.
func Parse(s string) (Set, error) {
	var set Set
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
