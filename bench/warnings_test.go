package bench

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// A warning is printed once, with the first case it came with; at the
// end, one line names every case it applied to. A warning of one case
// only is not repeated, nor is a repeat of the same case counted twice.
func TestWarningOncePerRunWithItsCases(t *testing.T) {
	var log bytes.Buffer
	r := &runner{opts: Options{Log: &log}}
	fd := "the file-descriptor limit (1024) may be too low"
	r.warn("a", fd)
	r.warn("b", fd)
	r.warn("a", "target CPU not measured")
	r.warn("c", fd)
	r.warn("a", fd) // a repeat of a
	for i := range 10 {
		r.warn(fmt.Sprintf("m%d", i), "many")
	}
	r.warnings.summarize(r.logf)
	want := strings.Join([]string{
		"mtlsbench: a: " + fd,
		"mtlsbench: a: target CPU not measured",
		"mtlsbench: m0: many",
		"mtlsbench: warning for 3 cases (a, b, c): " + fd,
		"mtlsbench: warning for 10 cases (m0, m1, m2, m3, m4, m5, m6, m7 and 2 more): many",
	}, "\n") + "\n"
	if log.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", log.String(), want)
	}
}
