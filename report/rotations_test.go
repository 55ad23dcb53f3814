package report

import (
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

// rotationRun is one case of ten intervals, its certificate rotated in
// the fourth.
func rotationRun(rotated bool) *results.Run {
	run := resultstest.DefaultRun()
	spec := resultstest.GateSpec()
	spec.Intervals = 10
	c := spec.Build(resultstest.Start)
	if rotated {
		c.Params.RotateAt = "2s"
		c.Rotations = []results.Rotation{{AtS: 2.0004, DoneS: 2.1344, Interval: 3, OldSerial: "1d13", NewSerial: "55e4",
			ErrorsBefore: 0, ErrorsAround: 2, OKAround: 391, BeforeP99Us: 7879, SlowedAround: 5, FullNew: 512, ResumedAcross: 7, RefusedAcross: 3}}
	}
	run.Cases = []results.Case{c}
	return run
}

// The table and markdown list each rotation with its counts; a run
// without one has no section.
func TestRotationSection(t *testing.T) {
	for _, format := range []Format{FormatTable, FormatMarkdown} {
		got := string(renderString(t, rotationRun(true), format, RenderOptions{}))
		if !strings.Contains(got, "Certificate rotations") {
			t.Fatalf("%s: no rotation section:\n%s", format, got)
		}
		for _, want := range []string{"2.000s", "134", "2 (0)", "391", "5 over 7.88ms", "512", "7 (3)"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: the rotation row lacks %q:\n%s", format, want, got)
			}
		}
		if plain := string(renderString(t, rotationRun(false), format, RenderOptions{})); strings.Contains(plain, "Certificate rotations") {
			t.Errorf("%s: a rotation section without rotations", format)
		}
	}
}

// The HTML time series draws a dashed marker at the rotation on both its
// charts, named in their legends.
func TestRotationMarker(t *testing.T) {
	with := string(renderString(t, rotationRun(true), FormatHTML, RenderOptions{}))
	without := string(renderString(t, rotationRun(false), FormatHTML, RenderOptions{}))
	stroke := "stroke:" + strings.ToUpper(cssColour(rotationStyle.colour))
	if n, m := strings.Count(with, stroke), strings.Count(without, stroke); n < m+2 {
		t.Errorf("%d strokes in the marker's colour with a rotation, %d without: want one more per time chart", n, m)
	}
	if !strings.Contains(with, ">rotation<") {
		t.Error("the legend does not name the rotation marker")
	}
}
