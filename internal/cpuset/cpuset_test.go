package cpuset

import (
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	set, err := Parse("0")
	if err != nil || set.Count() != 1 || !set.IsSet(0) {
		t.Fatalf("Parse(0) = %v, %v", set, err)
	}
	for _, bad := range []string{"", "x", "1-0", "99999"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if _, err := Parse("99999"); !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Parse(99999) error %q does not say the CPU does not exist", err)
	}
}

func TestStartPinned(t *testing.T) {
	last := runtime.NumCPU() - 1
	set, err := Parse(strconv.Itoa(last))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "5")
	if err := StartPinned(cmd, &set); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	got, err := Of(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if got != strconv.Itoa(last) {
		t.Errorf("child pinned to %q, want %q", got, strconv.Itoa(last))
	}
	self, _ := Of(0)
	if runtime.NumCPU() > 1 && self == strconv.Itoa(last) {
		t.Errorf("parent left pinned to %q", self)
	}
}
