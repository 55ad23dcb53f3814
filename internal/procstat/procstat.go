// Package procstat owns reading CPU time from /proc: for this process
// (getrusage) and for another process with all its descendants, so a
// multi-process server (nginx master and workers) is measured whole.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clockTick is USER_HZ, the unit of /proc/PID/stat times. It is 100 on
// every Linux architecture Go supports.
const clockTick = 100

// Self returns this process's user+system CPU time.
func Self() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TreeCPU returns the user+system CPU time of pid and every live
// descendant, plus what exited descendants that were waited for
// contributed (cutime/cstime). Resolution is 10 ms (USER_HZ), so measure
// windows of seconds.
func TreeCPU(pid int) (time.Duration, error) {
	stats, err := readAll()
	if err != nil {
		return 0, err
	}
	if _, ok := stats[pid]; !ok {
		return 0, fmt.Errorf("procstat: process %d not found", pid)
	}
	children := map[int][]int{}
	for p, s := range stats {
		children[s.ppid] = append(children[s.ppid], p)
	}
	var ticks uint64
	seen := map[int]bool{}
	var walk func(p int)
	walk = func(p int) {
		if seen[p] {
			return
		}
		seen[p] = true
		s := stats[p]
		ticks += s.utime + s.stime + s.cutime + s.cstime
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	return time.Duration(ticks) * time.Second / clockTick, nil
}

// Tree returns pid and its live descendants.
func Tree(pid int) ([]int, error) {
	stats, err := readAll()
	if err != nil {
		return nil, err
	}
	if _, ok := stats[pid]; !ok {
		return nil, fmt.Errorf("procstat: process %d not found", pid)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		for p, s := range stats {
			if s.ppid == out[i] {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// RSS returns the resident set size of pid and its descendants in bytes.
func RSS(pid int) (int64, error) {
	pids, err := Tree(pid)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, p := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", p))
		if err != nil {
			continue // exited meanwhile
		}
		f := strings.Fields(string(data))
		if len(f) < 2 {
			continue
		}
		pages, _ := strconv.ParseInt(f[1], 10, 64)
		total += pages * int64(os.Getpagesize())
	}
	return total, nil
}

type stat struct {
	ppid                         int
	utime, stime, cutime, cstime uint64
}

func readAll() (map[int]stat, error) {
	if !haveProc {
		return nil, ErrUnsupported
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("procstat: %w", err)
	}
	out := make(map[int]stat, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		if s, ok := parseStat(string(data)); ok {
			out[pid] = s
		}
	}
	return out, nil
}

// parseStat parses /proc/PID/stat. The command name (field 2) is in
// parentheses and may itself contain spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(line string) (stat, bool) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state); ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return stat{}, false
	}
	var s stat
	s.ppid, _ = strconv.Atoi(f[1])
	s.utime, _ = strconv.ParseUint(f[11], 10, 64)
	s.stime, _ = strconv.ParseUint(f[12], 10, 64)
	s.cutime, _ = strconv.ParseUint(f[13], 10, 64)
	s.cstime, _ = strconv.ParseUint(f[14], 10, 64)
	return s, true
}
