package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A capacity step must know whether the generator had the CPU it needed:
// its own use (loadgen's GeneratorBound) is not enough when it shares its
// CPUs with the target or with anything else on the machine. So each step
// also reads how busy the generator's CPUs were, by any process, from the
// per-CPU lines of /proc/stat at the window's edges.

// cpuTimes is the time of a set of CPUs, in USER_HZ ticks since boot:
// busy (everything but idle and iowait), of which processes (user, nice,
// system) and steal (taken by the hypervisor), and the total.
type cpuTimes struct{ busy, processes, steal, total uint64 }

// generatorCPUs lists the CPUs this process may run on.
func generatorCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("bench: read this process's CPU affinity: %w", err)
	}
	var cpus []int
	for i := range 1024 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// readCPUTimes sums /proc/stat's times over cpus (nil: every CPU). Busy
// is everything but idle and iowait; steal counts as busy (the CPU was not
// ours to use).
func readCPUTimes(cpus []int) (cpuTimes, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, fmt.Errorf("bench: read CPU times: %w", err)
	}
	return parseCPUTimes(data, cpus)
}

func parseCPUTimes(data []byte, cpus []int) (cpuTimes, error) {
	want := map[int]bool{}
	for _, c := range cpus {
		want[c] = true
	}
	all := cpus == nil
	var t cpuTimes
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
				return cpuTimes{}, fmt.Errorf("bench: /proc/stat: bad %s line", fields[0])
			}
			t.total += v
			if i != 3 && i != 4 { // idle, iowait
				t.busy += v
			}
			switch i {
			case 0, 1, 2: // user, nice, system
				t.processes += v
			case 7:
				t.steal += v
			}
		}
	}
	if all && found == 0 {
		return cpuTimes{}, fmt.Errorf("bench: /proc/stat lists no CPU")
	}
	if !all && found != len(want) {
		return cpuTimes{}, fmt.Errorf("bench: /proc/stat lists %d of the %d CPUs this process may use", found, len(want))
	}
	return t, nil
}

// busyShare is how busy the CPUs were between two samples, 0 to 1; 0 when
// no time passed.
func busyShare(from, to cpuTimes) float64 {
	if to.total <= from.total || to.busy < from.busy {
		return 0
	}
	return float64(to.busy-from.busy) / float64(to.total-from.total)
}

// otherCores is how many cores, on average between two samples of every
// CPU, went to anything but the generator and the target: other
// processes' user and system time, and the hypervisor's steal, less the
// generator's and the target's own use (in cores). Interrupt time is left
// out: the kernel's network work for the load itself lands there.
func otherCores(from, to cpuTimes, cpus int, generator, target float64) float64 {
	if to.total <= from.total || cpus <= 0 {
		return 0
	}
	used := float64(to.processes-from.processes+to.steal-from.steal) / float64(to.total-from.total) * float64(cpus)
	return max(0, used-generator-target)
}
