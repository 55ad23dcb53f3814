package procstat

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// CPULimit is the CPU bandwidth this process's cgroup allows, in cores
// (a container's "resources.limits.cpu": 1.5 means 150 ms of CPU per
// 100 ms), the tightest limit on the way from its cgroup to the root;
// ok is false when none is set. Go sizes GOMAXPROCS from it, rounded up;
// a generator's utilization must be measured against the limit itself.
func CPULimit() (cores float64, ok bool) {
	return cpuLimit("/proc/self/cgroup", "/sys/fs/cgroup")
}

// cpuLimit reads the limit with /proc/self/cgroup at cgroupFile and the
// cgroup file system mounted at root (v2 unified, or v1's cpu
// controller under root/cpu or root/cpu,cpuacct).
func cpuLimit(cgroupFile, root string) (float64, bool) {
	f, err := os.Open(cgroupFile)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	best, found := 0.0, false
	consider := func(c float64, ok bool) {
		if ok && (!found || c < best) {
			best, found = c, true
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		controllers, p := parts[1], parts[2]
		switch {
		case parts[0] == "0" && controllers == "":
			walk(p, func(dir string) { consider(readCPUMax(filepath.Join(root, dir, "cpu.max"))) })
		case hasController(controllers, "cpu"):
			for _, mount := range []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"} {
				walk(p, func(dir string) {
					consider(readCFS(filepath.Join(root, mount, dir)))
				})
			}
		}
	}
	return best, found
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// walk calls f for p and each of its parents up to "/". Inside a
// container the path is "/" (its own namespace root), so only the root
// file is read.
func walk(p string, f func(dir string)) {
	p = path.Clean("/" + p)
	for {
		f(p)
		if p == "/" {
			return
		}
		p = path.Dir(p)
	}
}

// readCPUMax parses cgroup v2's cpu.max: "QUOTA PERIOD" or "max PERIOD".
func readCPUMax(file string) (float64, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	return parseCPUMax(string(data))
}

func parseCPUMax(s string) (float64, bool) {
	f := strings.Fields(s)
	if len(f) != 2 || f[0] == "max" {
		return 0, false
	}
	return quota(f[0], f[1])
}

// readCFS reads cgroup v1's cpu.cfs_quota_us (-1: none) and
// cpu.cfs_period_us.
func readCFS(dir string) (float64, bool) {
	q, err1 := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
	p, err2 := os.ReadFile(filepath.Join(dir, "cpu.cfs_period_us"))
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return quota(strings.TrimSpace(string(q)), strings.TrimSpace(string(p)))
}

func quota(q, p string) (float64, bool) {
	qv, err1 := strconv.ParseFloat(q, 64)
	pv, err2 := strconv.ParseFloat(p, 64)
	if err1 != nil || err2 != nil || qv <= 0 || pv <= 0 {
		return 0, false
	}
	return qv / pv, true
}
