package procstat

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	line := "1234 (my (odd) name) S 77 1234 1234 0 -1 4194560 100 0 0 0 250 31 7 9 20 0 1 0 100 1000 10"
	s, ok := parseStat(line)
	if !ok {
		t.Fatal("not parsed")
	}
	if s.ppid != 77 || s.utime != 250 || s.stime != 31 || s.cutime != 7 || s.cstime != 9 {
		t.Errorf("parsed %+v", s)
	}
}

// A child that burns CPU in a grandchild shows up in the tree's CPU time.
func TestTreeCPUCountsDescendants(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sh -c 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; sleep 5' & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cpu, err := TreeCPU(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		pids, _ := Tree(cmd.Process.Pid)
		if cpu >= 100*time.Millisecond && len(pids) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tree CPU %v with %d processes after 20s; want >= 100ms in >= 2 processes", cpu, len(pids))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rss, err := RSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("RSS(self) = %d, %v", rss, err)
	}
}

// Spinning must show up in Self. On a busy machine the spin may get little
// CPU per wall second, so it spins until 20 ms of CPU are seen (or 10 s of
// wall time pass, which only a broken Self explains).
func TestSelf(t *testing.T) {
	before := Self()
	deadline := time.Now().Add(10 * time.Second)
	for Self()-before < 20*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("Self advanced only %v over 10 s of spinning", Self()-before)
		}
	}
}
