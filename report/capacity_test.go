package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
)

func TestRenderCapacityGolden(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{FormatTable, "capacity.table.golden"},
		{FormatMarkdown, "capacity.markdown.golden"},
		{FormatHTML, "capacity.html.golden"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			resultstest.Golden(t, tc.file, renderString(t, resultstest.CapacityRun(), tc.format, RenderOptions{}))
		})
	}
}

// TestRenderCapacityFacts checks what a reader must never miss, whatever
// the layout: a lower bound is never shown as a capacity, and the
// projection states its assumption.
func TestRenderCapacityFacts(t *testing.T) {
	run := resultstest.CapacityRun()
	for _, f := range []Format{FormatTable, FormatMarkdown, FormatHTML} {
		out := string(renderString(t, run, f, RenderOptions{}))
		for _, want := range []string{"≥ 800/s", "lower bound", "1050/s", "cores for 20000/s", "linear scaling", "AMD EPYC 7B13", "p99 72.1ms", "800–1000/s", "retry"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q", f, want)
			}
		}
	}
	// Every other format still renders a capacity run.
	for _, f := range Formats {
		var buf bytes.Buffer
		if err := Render(&buf, run, f, RenderOptions{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
