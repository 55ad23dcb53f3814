package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// This file reads the machine's side of /proc: how busy its CPUs were
// (/proc/stat), and what they are (/proc/cpuinfo). A capacity step must
// know whether the generator had the CPU it needed: its own use is not
// enough when it shares its CPUs with the target or with anything else, so
// each step also reads how busy the generator's CPUs were, by any
// process, at the window's edges.

// CPUTimes is the time of a set of CPUs, in USER_HZ ticks since boot:
// Busy (everything but idle and iowait), of which Processes (user, nice,
// system) and Steal (taken by the hypervisor), and the Total.
type CPUTimes struct{ Busy, Processes, Steal, Total uint64 }

// ReadCPUTimes sums /proc/stat's times over cpus (nil: every CPU). Busy is
// everything but idle and iowait; steal counts as busy (the CPU was not
// ours to use).
func ReadCPUTimes(cpus []int) (CPUTimes, error) {
	if !haveProc {
		return CPUTimes{}, ErrUnsupported
	}
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}, fmt.Errorf("procstat: read CPU times: %w", err)
	}
	return parseCPUTimes(data, cpus)
}

func parseCPUTimes(data []byte, cpus []int) (CPUTimes, error) {
	want := map[int]bool{}
	for _, c := range cpus {
		want[c] = true
	}
	all := cpus == nil
	var t CPUTimes
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || !strings.HasPrefix(fields[0], "cpu") || fields[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(fields[0], "cpu"))
		if err != nil || !all && !want[n] {
			continue
		}
		found++
		// user nice system idle iowait irq softirq steal (guest time is
		// already in user and nice).
		for i, f := range fields[1:min(len(fields), 9)] {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return CPUTimes{}, fmt.Errorf("procstat: /proc/stat: bad %s line", fields[0])
			}
			t.Total += v
			if i != 3 && i != 4 { // idle, iowait
				t.Busy += v
			}
			switch i {
			case 0, 1, 2: // user, nice, system
				t.Processes += v
			case 7:
				t.Steal += v
			}
		}
	}
	if all && found == 0 {
		return CPUTimes{}, fmt.Errorf("procstat: /proc/stat lists no CPU")
	}
	if !all && found != len(want) {
		return CPUTimes{}, fmt.Errorf("procstat: /proc/stat lists %d of the %d CPUs this process may use", found, len(want))
	}
	return t, nil
}

// BusyShare is how busy the CPUs were between two samples, 0 to 1; 0 when
// no time passed.
func BusyShare(from, to CPUTimes) float64 {
	if to.Total <= from.Total || to.Busy < from.Busy {
		return 0
	}
	return float64(to.Busy-from.Busy) / float64(to.Total-from.Total)
}

// OtherCores is how many cores, on average between two samples of every
// CPU, went to anything but the generator and the target: other
// processes' user and system time, and the hypervisor's steal, less the
// generator's and the target's own use (in cores). Interrupt time is left
// out: the kernel's network work for the load itself lands there.
func OtherCores(from, to CPUTimes, cpus int, generator, target float64) float64 {
	if to.Total <= from.Total || cpus <= 0 {
		return 0
	}
	used := float64(to.Processes-from.Processes+to.Steal-from.Steal) / float64(to.Total-from.Total) * float64(cpus)
	return max(0, used-generator-target)
}

// CPUModel is the first "model name" in /proc/cpuinfo; "" when there is
// none (some architectures do not write one).
func CPUModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
