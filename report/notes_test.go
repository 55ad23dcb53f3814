package report

import (
	"testing"

	"github.com/mtlsbench/mtlsbench/results"
)

// A warning several cases share is listed once, naming them; one every
// case has says so.
func TestCaseNotesGroupWarnings(t *testing.T) {
	run := &results.Run{Cases: []results.Case{
		{Warnings: []string{"shared by all", "only a and b"}},
		{Warnings: []string{"only a and b", "shared by all"}},
		{Warnings: []string{"shared by all", "only c"}},
	}}
	_, warnings, _ := caseNotes(run, []string{"a", "b", "c"})
	want := []note{{"every case", "shared by all"}, {"a, b", "only a and b"}, {"c", "only c"}}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %+v, want %+v", warnings, want)
	}
	for i := range want {
		if warnings[i] != want[i] {
			t.Errorf("warning %d: %+v, want %+v", i, warnings[i], want[i])
		}
	}
}
