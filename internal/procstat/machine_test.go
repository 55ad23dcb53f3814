package procstat

import "testing"

func TestParseCPUTimes(t *testing.T) {
	stat := []byte(`cpu  300 0 100 1000 50 0 10 5 0 0
cpu0 100 0 50 500 25 0 5 0 0 0
cpu1 200 0 50 500 25 0 5 5 0 0
intr 12345
`)
	got, err := parseCPUTimes(stat, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	// cpu1: busy = user 200 + system 50 + softirq 5 + steal 5; total adds
	// idle 500 and iowait 25.
	if got.Busy != 260 || got.Total != 785 {
		t.Errorf("cpu1 %+v, want busy 260 total 785", got)
	}
	if got.Processes != 250 || got.Steal != 5 {
		t.Errorf("cpu1 %+v, want processes 250 (user+system), steal 5", got)
	}
	both, _ := parseCPUTimes(stat, []int{0, 1})
	if both.Busy != 415 || both.Total != 1465 {
		t.Errorf("cpu0+1 %+v", both)
	}
	if all, _ := parseCPUTimes(stat, nil); all != both {
		t.Errorf("every CPU %+v, want cpu0+1 %+v (the summary line is not a CPU)", all, both)
	}
	if _, err := parseCPUTimes(stat, []int{2}); err == nil {
		t.Error("a CPU missing from /proc/stat: want an error")
	}
	if s := BusyShare(CPUTimes{Busy: 100, Total: 1000}, CPUTimes{Busy: 190, Total: 1100}); s != 0.9 {
		t.Errorf("BusyShare = %v, want 0.9", s)
	}
	if s := BusyShare(CPUTimes{Busy: 100, Total: 1000}, CPUTimes{Busy: 100, Total: 1000}); s != 0 {
		t.Errorf("BusyShare over no time = %v, want 0", s)
	}
	// 2 CPUs for 100 ticks each: processes and steal took 120 ticks, 1.2
	// cores; the generator used 0.5 and the target 0.4: 0.3 for others.
	from, to := CPUTimes{Processes: 1000, Steal: 10, Total: 5000}, CPUTimes{Processes: 1110, Steal: 20, Total: 5200}
	if o := OtherCores(from, to, 2, 0.5, 0.4); o < 0.2999 || o > 0.3001 {
		t.Errorf("OtherCores = %v, want 0.3", o)
	}
	if o := OtherCores(from, to, 2, 1, 0.4); o != 0 {
		t.Errorf("OtherCores = %v, want 0 (never negative)", o)
	}
}

func TestReadCPUTimesOfThisMachine(t *testing.T) {
	all, err := ReadCPUTimes(nil)
	if err != nil {
		t.Fatal(err)
	}
	if all.Total == 0 || all.Busy > all.Total {
		t.Errorf("every CPU: %+v", all)
	}
	if _, err := ReadCPUTimes([]int{1 << 20}); err == nil {
		t.Error("a CPU this machine lacks: want an error")
	}
}
