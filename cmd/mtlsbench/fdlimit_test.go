package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A closed loop that cannot have all its connections open within the
// file-descriptor limit is refused with exit 2 before any load (no
// target, no result file), naming -c, what fits and the ways out.
func TestRunOverTheFDLimitIsRefused(t *testing.T) {
	bin := binary(t)
	out := filepath.Join(t.TempDir(), "r.json")
	// The hard limit too: Go raises the soft limit to the hard one.
	cmd := exec.Command("sh", "-c", `ulimit -Sn 300 && ulimit -Hn 300 && exec "$0" "$@"`, bin, "run", "-q", "-c", "400", "-d", "1s", "-o", out)
	got, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2; output %s", err, got)
	}
	for _, want := range []string{"-c 400 needs 464 file descriptors", "this process may open 300", "236 connections fit", "Lower -c to 236 or less", "--over-fd-limit"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("output lacks %q: %s", want, got)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused run wrote %s (%v)", out, err)
	}
	if live := targetsOf(bin); len(live) > 0 {
		t.Errorf("a refused run left target processes %v", live)
	}
}
