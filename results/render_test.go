package results

import (
	"bytes"
	"errors"
	"testing"
)

func renderString(t *testing.T, run *Run, f Format, opts RenderOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, run, f, opts); err != nil {
		t.Fatalf("Render %s: %v", f, err)
	}
	return buf.Bytes()
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{FormatTable, "run.table.golden"},
		{FormatMarkdown, "run.markdown.golden"},
		{FormatCSV, "run.csv.golden"},
		{FormatJSON, "run.json.golden"},
		{FormatHDRLog, "run.hdrlog.golden"},
		{FormatHTML, "run.html.golden"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			golden(t, tc.file, renderString(t, fixtureRun(), tc.format, RenderOptions{}))
		})
	}
}

func asError[T error](err error, target *T) bool { return errors.As(err, target) }
