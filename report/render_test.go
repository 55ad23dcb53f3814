package report

import (
	"bytes"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

func renderString(t *testing.T, run *results.Run, f Format, opts RenderOptions) []byte {
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
			resultstest.Golden(t, tc.file, renderString(t, resultstest.DefaultRun(), tc.format, RenderOptions{}))
		})
	}
}

// mergedRun is a merge of two shards, the second of which began its
// window 7 ms late by its own clock, which runs 1 ms ahead of shard 0's.
func mergedRun(t *testing.T) *results.Run {
	t.Helper()
	late := resultstest.ShardRun("gen-1", 1, 2, 2, 7*time.Millisecond, 310)
	late.Shard.Clock = &results.ClockSync{OffsetUs: -1000, ErrorUs: 40, Samples: 8}
	merged, err := results.MergeShards([]results.MergeInput{
		{Name: "shard-0.json", Run: resultstest.ShardRun("gen-0", 0, 2, 1, 0, 300)},
		{Name: "shard-1.json", Run: late},
	})
	if err != nil {
		t.Fatal(err)
	}
	return merged
}

// TestRenderMergedGolden: a merge says so in its header and how its
// shards lined up under the table.
func TestRenderMergedGolden(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{FormatTable, "merged.table.golden"},
		{FormatMarkdown, "merged.markdown.golden"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			resultstest.Golden(t, tc.file, renderString(t, mergedRun(t), tc.format, RenderOptions{}))
		})
	}
	html := string(renderString(t, mergedRun(t), FormatHTML, RenderOptions{}))
	for _, want := range []string{
		"merge of 2 shards (gate-20250314)",
		"<h3>Shard alignment</h3>",
		"2 shards, window starts 6.00ms apart; median gap between starts 333µs (intended 333µs)",
		"<td class=\"text\">shard-1.json</td>",
		"<td>-1.00 ms ± 0.04 ms</td>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("merged html lacks %q", want)
		}
	}
}

// TestRenderSparseRuns renders what real runs can produce besides the
// fixture: no cases, a case where every handshake failed (no latency, no
// CPU), repeats, a merged result, and explicit plot grouping.
func TestRenderSparseRuns(t *testing.T) {
	failed := resultstest.GateSpec()
	failed.Rate = 0
	failed.Errors = map[string]int64{"unknown_ca": 40}
	failed.Status = results.StatusFailed
	failed.Failure = "every handshake failed: unknown_ca"
	failed.NoConnect = true
	failedRun := resultstest.Samples(1, 1, 0, failed)

	merged := mergedRun(t)
	other := resultstest.GateSpec()
	other.KeyType = "rsa2048"
	other.Version = "1.2"
	for _, tc := range []struct {
		name string
		run  *results.Run
		opts RenderOptions
	}{
		{"no cases", &results.Run{Schema: results.Schema}, RenderOptions{}},
		{"all failed", failedRun, RenderOptions{}},
		{"repeats", resultstest.Samples(2, 3, 0.1, resultstest.GateSpec(), other), RenderOptions{}},
		{"merged", merged, RenderOptions{}},
		{"grouped", resultstest.Samples(3, 1, 0.1, resultstest.GateSpec(), other), RenderOptions{GroupBy: []string{"tls_version"}}},
		{"one plot", resultstest.Samples(3, 1, 0.1, resultstest.GateSpec(), other), RenderOptions{GroupBy: []string{"none"}}},
	} {
		for _, f := range Formats {
			t.Run(tc.name+"/"+string(f), func(t *testing.T) {
				var buf bytes.Buffer
				err := Render(&buf, tc.run, f, tc.opts)
				if f == FormatPNG && len(tc.run.Cases) == 0 {
					if err == nil {
						t.Error("png of no cases: want an error")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	var buf bytes.Buffer
	if err := Render(&buf, failedRun, FormatTable, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[F]", "every handshake failed", "unknown_ca ×40"} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("failed case table lacks %q:\n%s", want, buf.String())
		}
	}
	if err := Render(&buf, merged, FormatTable, RenderOptions{}); err != nil || !bytes.Contains(buf.Bytes(), []byte("merge of 2 shards (gate-20250314)")) {
		t.Errorf("merged table: %v\n%s", err, buf.String())
	}
	err := Render(&buf, failedRun, FormatHTML, RenderOptions{GroupBy: []string{"colour"}})
	var pe *ParamNameError
	if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), `report: "colour" is not a case parameter`) {
		t.Errorf("unknown group-by parameter: err = %v, want a *ParamNameError saying so", err)
	}
}

// TestPNG checks the PNG decodes and has the documented width. (Its pixels
// are not golden: rasterising differs across CPU architectures.)
func TestPNG(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, resultstest.DefaultRun(), FormatPNG, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() < 600 {
		t.Errorf("PNG is %dx%d, want 1200 wide and at least 600 high", b.Dx(), b.Dy())
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if got, _ := ParseFormat("MD"); got != FormatMarkdown {
		t.Errorf("ParseFormat(MD) = %q", got)
	}
	if _, err := ParseFormat("pdf"); err == nil || !strings.HasPrefix(err.Error(), "report: unknown format") || !strings.Contains(err.Error(), "table, markdown") {
		t.Errorf("ParseFormat(pdf) error %v", err)
	}
	for path, want := range map[string]Format{"a/r.HTML": FormatHTML, "x.png": FormatPNG, "c.md": FormatMarkdown, "l.hlog": FormatHDRLog} {
		if got, ok := FormatForPath(path); !ok || got != want {
			t.Errorf("FormatForPath(%q) = %q, %v", path, got, ok)
		}
	}
}

// A window ends a moment after a whole number of intervals; the sliver
// left over is kept in the result but not drawn as a trend point (one
// handshake over a millisecond would read as a collapse of the rate).
func TestTrendIntervalsDropTrailingSliver(t *testing.T) {
	tests := []struct {
		name string
		durs []float64
		want int
	}{
		{"sliver after two whole intervals is dropped", []float64{1, 1, 0.0013}, 2},
		{"a real partial interval (interrupted run) is kept", []float64{1, 1, 0.4}, 3},
		{"a single interval is kept", []float64{0.001}, 1},
		{"no intervals", nil, 0},
	}
	for _, tt := range tests {
		c := &results.Case{}
		for i, d := range tt.durs {
			c.Intervals = append(c.Intervals, results.Interval{OffsetS: float64(i), DurationS: d, HandshakesPerS: 1000})
		}
		if got := len(trendIntervals(c)); got != tt.want {
			t.Errorf("%s: %d intervals, want %d", tt.name, got, tt.want)
		}
		if got := len(intervalRates(c)); got != tt.want {
			t.Errorf("%s: %d rates, want %d", tt.name, got, tt.want)
		}
	}
}
