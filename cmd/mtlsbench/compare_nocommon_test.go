package main

import (
	"strings"
	"testing"
)

// A CI gate handed two results without a case in common (the wrong file,
// or a scenario renamed under the gate) exits 2 naming both files: it
// never passes green having compared nothing.
func TestCompareNoCommonCaseExits2(t *testing.T) {
	dir := t.TempDir()
	base := writeResult(t, dir, "base.json", "gate", 3, 1, 0)
	run := newResult(t, "other.json", "gate", 3, 2, 0)
	for i := range run.Cases {
		run.Cases[i].Key = "tls=1.2,resume=none,key=rsa-2048,group=x25519"
	}
	other := writeRun(t, dir, "other.json", run)
	code, out, errOut := runCommand(t, "compare", base, other)
	if code != 2 || !strings.Contains(errOut, "no case in common") || !strings.Contains(errOut, "base.json has") || !strings.Contains(errOut, "other.json has") {
		t.Errorf("no common case: exit %d, want 2 naming both files\nstdout %s\nstderr %s", code, out, errOut)
	}
}
