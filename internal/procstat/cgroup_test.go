package procstat

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseCPUMax(t *testing.T) {
	for in, want := range map[string]float64{"150000 100000\n": 1.5, "200000 100000": 2, "50000 100000": 0.5} {
		if got, ok := parseCPUMax(in); !ok || got != want {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"max 100000", "", "x 100000", "-1 100000"} {
		if got, ok := parseCPUMax(in); ok {
			t.Errorf("parseCPUMax(%q) = %v, want no limit", in, got)
		}
	}
}

func write(t *testing.T, file, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The tightest limit on the way to the root counts: a pod's limit is set
// on the pod's cgroup, its container's may be unlimited.
func TestCPULimitV2(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "proc-cgroup"), "0::/kubepods/pod1/ctr\n")
	write(t, filepath.Join(root, "fs/kubepods/pod1/ctr/cpu.max"), "max 100000\n")
	write(t, filepath.Join(root, "fs/kubepods/pod1/cpu.max"), "250000 100000\n")
	write(t, filepath.Join(root, "fs/kubepods/cpu.max"), "800000 100000\n")
	if got, ok := cpuLimit(filepath.Join(root, "proc-cgroup"), filepath.Join(root, "fs")); !ok || got != 2.5 {
		t.Errorf("limit %v, %v; want 2.5", got, ok)
	}
	// Inside the container's own namespace: the path is "/".
	write(t, filepath.Join(root, "proc-ns"), "0::/\n")
	write(t, filepath.Join(root, "ns/cpu.max"), "100000 100000\n")
	if got, ok := cpuLimit(filepath.Join(root, "proc-ns"), filepath.Join(root, "ns")); !ok || got != 1 {
		t.Errorf("namespaced limit %v, %v; want 1", got, ok)
	}
	write(t, filepath.Join(root, "none/cpu.max"), "max 100000\n")
	if got, ok := cpuLimit(filepath.Join(root, "proc-ns"), filepath.Join(root, "none")); ok {
		t.Errorf("no limit set, got %v", got)
	}
}

func TestCPULimitV1(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "proc-cgroup"), "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n")
	write(t, filepath.Join(root, "fs/cpu,cpuacct/docker/abc/cpu.cfs_quota_us"), "300000\n")
	write(t, filepath.Join(root, "fs/cpu,cpuacct/docker/abc/cpu.cfs_period_us"), "100000\n")
	write(t, filepath.Join(root, "fs/cpu,cpuacct/cpu.cfs_quota_us"), "-1\n")
	write(t, filepath.Join(root, "fs/cpu,cpuacct/cpu.cfs_period_us"), "100000\n")
	if got, ok := cpuLimit(filepath.Join(root, "proc-cgroup"), filepath.Join(root, "fs")); !ok || got != 3 {
		t.Errorf("limit %v, %v; want 3", got, ok)
	}
}

// On this machine: whatever is there reads without error, and a limit,
// when set, is positive.
func TestCPULimitHere(t *testing.T) {
	if c, ok := CPULimit(); ok && c <= 0 {
		t.Errorf("CPULimit() = %v", c)
	}
}
