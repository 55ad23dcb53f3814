package report

import (
	"bytes"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/internal/units"
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

// repeatsRun is two cases run three times each, with ±10% noise between
// repeats, one repeat generator-bound.
func repeatsRun() *results.Run {
	tls12 := resultstest.GateSpec()
	tls12.Version = "1.2"
	tls12.Intervals = 4
	run := resultstest.Samples(2, 3, 0.1, resultstest.GateSpec(), tls12)
	run.Cases[1].GeneratorBound = true
	return run
}

// TestRenderRepeatsGolden: a case that ran three times is one row, its
// figures mean ± σ (min…max) over the repeats, as hyperfine shows runs.
func TestRenderRepeatsGolden(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{FormatTable, "repeats.table.golden"},
		{FormatMarkdown, "repeats.markdown.golden"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			resultstest.Golden(t, tc.file, renderString(t, repeatsRun(), tc.format, RenderOptions{}))
		})
	}
	run := repeatsRun()
	var rates []float64
	for _, c := range run.Cases[:3] {
		rates = append(rates, c.HandshakesPerS)
	}
	table := string(renderString(t, run, FormatTable, RenderOptions{}))
	html := string(renderString(t, run, FormatHTML, RenderOptions{}))
	lo, hi := minMax(rates)
	span := units.Rate(lo) + "…" + units.Rate(hi)
	for _, want := range []string{" tls1.3 [G] ", span, " ± "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if n := strings.Count(table, " tls1.3 [G] "); n != 1 {
		t.Errorf("table has %d rows of the repeated case, want 1", n)
	}
	if !strings.Contains(html, `<span class="range">`+span+`</span>`) || strings.Count(html, `<td class="name"><a href="#case-`) != 2 {
		t.Errorf("html table: want one row per case and the range %s under the rate", span)
	}
}

// TestSpread checks mean, sample standard deviation and range against
// figures worked by hand.
func TestSpread(t *testing.T) {
	var cases []*results.Case
	for _, v := range []float64{1000, 1200, 1400} {
		cases = append(cases, &results.Case{HandshakesPerS: v})
	}
	s := spreadOf(cases, func(c *results.Case) (float64, bool) { return c.HandshakesPerS, true })
	if s.n != 3 || s.mean != 1200 || s.sd != 200 || s.min != 1000 || s.max != 1400 {
		t.Errorf("spread = %+v, want n 3, mean 1200, sd 200 (sample), 1000…1400", s)
	}
	if m, r := s.rate(); m != "1200 ± 200" || r != "1000…1400" {
		t.Errorf("rate cells %q %q", m, r)
	}
	lat := spread{n: 2, mean: 2320, sd: 590, min: 1900, max: 2740}
	if m, r := lat.latency(); m != "2.32 ± 0.59ms" || r != "1.90…2.74ms" {
		t.Errorf("latency cells %q %q", m, r)
	}
	if m, r := spreadOf(nil, nil).rate(); m != "–" || r != "" {
		t.Errorf("no repeat: %q %q, want a dash", m, r)
	}
	if m, r := (spread{n: 1, mean: 610}).latency(); m != "610µs" || r != "" {
		t.Errorf("one repeat: %q %q, want the figure alone", m, r)
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

// sloRun is the default run judged against an objective that two of its
// cases break, one of them on two terms.
func sloRun(t *testing.T) *results.Run {
	t.Helper()
	run := resultstest.DefaultRun()
	for i := range run.Cases {
		if err := run.Cases[i].JudgeSLO("p99<3ms,errors<0.1%"); err != nil {
			t.Fatal(err)
		}
	}
	return run
}

// TestRenderSLOGolden: a run given --slo has a verdict per case in every
// table, and the broken terms with their values under it.
func TestRenderSLOGolden(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{FormatTable, "slo.table.golden"},
		{FormatMarkdown, "slo.markdown.golden"},
		{FormatCSV, "slo.csv.golden"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			resultstest.Golden(t, tc.file, renderString(t, sloRun(t), tc.format, RenderOptions{}))
		})
	}
	html := string(renderString(t, sloRun(t), FormatHTML, RenderOptions{}))
	for _, want := range []string{`<th class="name">SLO</th>`, `<span class="badge warn">broke p99</span>`, "SLO broken", "(SLO p99&lt;3ms)"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	// A run without --slo has no SLO column anywhere.
	for _, f := range []Format{FormatTable, FormatMarkdown, FormatHTML} {
		if out := string(renderString(t, resultstest.DefaultRun(), f, RenderOptions{})); strings.Contains(out, "SLO") {
			t.Errorf("%s of a run without --slo mentions an SLO", f)
		}
	}
}
