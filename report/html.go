package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// The HTML report is one file that works offline and renders alike on any
// machine: inline CSS, inline SVG charts, the charts' font embedded (see
// chartfont.go), no script, nothing fetched from elsewhere.

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"notes": func(title string, notes []htmlNote) any {
		return struct {
			Title string
			Notes []htmlNote
		}{title, notes}
	},
}).Parse(reportTemplateText))

// Chart sizes in the HTML report (points; the stylesheet scales them to
// the page width).
const (
	chartWidth      = 7 * vg.Inch
	chartHeight     = 3.6 * vg.Inch
	halfChartWidth  = 5 * vg.Inch
	halfChartHeight = 3.4 * vg.Inch
	tsHeight        = 1.7 * vg.Inch
)

type htmlReport struct {
	Title, RunLine string
	Interrupted    bool
	Rows           []htmlRow
	// Repeated is set when a case ran more than once: the table has a
	// runs column and SpreadNote says how its figures read.
	Repeated bool
	// Judged is set when a case has a verdict against --slo: the table
	// has an SLO column.
	Judged      bool
	SpreadNote  string
	Legend      []htmlLegend
	Failures    []htmlNote
	SLOBroken   []htmlNote
	SLOTitle    string
	Warnings    []htmlNote
	Errors      []htmlNote
	Alignment   []htmlNote
	EarlyData   []htmlNote
	Overlays    []htmlChart
	Bars        []htmlChart
	Cases       []htmlCase
	Environment [][2]string
	Shards      []htmlShard
	// Versions and Phases are the charts' colour key (palette.go): the
	// TLS versions of the run's cases and the latency phases they have.
	Versions, Phases []htmlSwatch
	Tool             string
	// FontFace is the @font-face rule of the charts' font (chartFontFace).
	FontFace template.CSS
	// Capacity is the capacity searches' section; nil for a plain run.
	Capacity *htmlCapacity
	// MutualCost is the cost-of-mutual-TLS section's rows (cells in
	// mutualCostHeader's order); nil when no cases differ only in auth.
	MutualCost       [][]string
	MutualCostHeader []string
	MutualCostTitle  string
	MutualCostNote   string
	// Amortization is one table per group of cases that differ only in
	// requests per connection (amortization.go).
	Amortization []htmlAmortization
}

type htmlRow struct {
	ID, Name                  string
	Flags                     []string
	Runs                      int
	Rate, P50, P99, P999, Max string
	// RateRange, P50Range and P99Range are min…max over the repeats; ""
	// for a case run once.
	RateRange, P50Range, P99Range string
	Resumed, Errors               string
	ClientCPU, TargetCPU          string
	BytesOut, BytesIn             string
	Status                        string
	GeneratorBound, Crosscheck    bool
	// SLO is the verdict against the run's --slo ("met", "broke p99");
	// SLOBroken marks it for the eye.
	SLO       string
	SLOBroken bool
}

type htmlLegend struct{ Name, Meaning string }

// htmlSwatch is one entry of the colour key: a name and its line's CSS
// border ("2px dashed #0072b2").
type htmlSwatch struct{ Name, Border string }

func swatch(name string, style lineStyle) htmlSwatch {
	kind := "solid"
	if style.dashes != nil {
		kind = "dashed"
	}
	return htmlSwatch{name, "3px " + kind + " " + cssColour(style.colour)}
}

// colourKey lists the TLS versions and latency phases present in sets, in
// the order of tlsVersionColours and phases.
func colourKey(sets []results.Repeats) (versions, phaseKey []htmlSwatch) {
	for _, v := range tlsVersionColours {
		for _, s := range sets {
			if s.Cases[0].Params.TLSVersion == v.version {
				versions = append(versions, swatch(versionName(v.version), lineStyle{colour: v.colour}))
				break
			}
		}
	}
	for _, ph := range phases {
	sets:
		for _, s := range sets {
			for _, c := range s.Cases {
				if sum := ph.get(&c.Latency); sum != nil && sum.Count > 0 {
					phaseKey = append(phaseKey, swatch(ph.name, phaseStyles[ph.name]))
					break sets
				}
			}
		}
	}
	return versions, phaseKey
}

type htmlNote struct{ Case, Text string }

type htmlChart struct {
	Title string
	SVG   template.HTML
}

type htmlCase struct {
	ID, Name, Key string
	Repeats       int
	Params        [][2]string
	Negotiated    []results.Negotiated
	Percentiles   template.HTML
	Series        template.HTML
}

type htmlShard struct {
	Index                                int
	Source, Host, Start, Duration, Clock string
}

// renderHTML writes the self-contained HTML report.
func renderHTML(w io.Writer, run *results.Run, opts RenderOptions) error {
	report, err := buildHTMLReport(run, opts)
	if err != nil {
		return err
	}
	// Once without the font, to learn which glyphs the charts use.
	var page bytes.Buffer
	if err := reportTemplate.Execute(&page, report); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	face, err := chartFontFace(page.Bytes())
	if err != nil {
		return err
	}
	report.FontFace = template.CSS(face)
	if err := reportTemplate.Execute(w, report); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

func buildHTMLReport(run *results.Run, opts RenderOptions) (*htmlReport, error) {
	labels, _ := caseLabels(run, false)
	r := &htmlReport{
		Title:       opts.title(run),
		RunLine:     strings.SplitN(runLine(run), "\n", 2)[0],
		Interrupted: run.Interrupted,
		Tool:        strings.TrimSpace(run.Tool.Name + " " + run.Tool.Version),
	}
	sets := results.GroupRepeats(run)
	rows, _ := caseRows(run, false)
	r.Repeated, r.SpreadNote, r.Judged = repeated(rows), spreadNote(rows), judged(rows)
	r.Amortization = buildHTMLAmortization(run)
	for i, cr := range rows {
		c := cr.sum
		row := htmlRow{
			ID: caseAnchor(i), Name: cr.label, Runs: len(cr.cases),
			Resumed: resumedShare(c), Errors: errorCell(c),
			ClientCPU: "–", TargetCPU: "–", BytesOut: "–", BytesIn: "–", Status: string(c.Status),
			GeneratorBound: c.GeneratorBound, Crosscheck: c.Status == results.StatusCrosscheckFailed,
		}
		for _, f := range cr.flags() {
			row.Flags = append(row.Flags, flagName(f))
		}
		row.SLO = orDash(cr.slo())
		row.SLOBroken = strings.HasPrefix(row.SLO, "broke")
		row.Rate, row.RateRange = cr.rateSpread().rate()
		row.P50, row.P50Range = cr.p50Spread().latency()
		row.P99, row.P99Range = cr.p99Spread().latency()
		row.P999 = cr.p999()
		maxUs := spreadOf(cr.cases, func(c *results.Case) (float64, bool) {
			if s := headlineLatency(c); s != nil {
				return float64(s.MaxUs), true
			}
			return 0, false
		})
		row.Max = "–"
		if maxUs.n > 0 {
			row.Max = units.Latency(maxUs.max)
		}
		if c.Counts.OK > 0 {
			row.ClientCPU = units.Short(c.CPU.ClientUsPerHandshake)
		}
		if c.CPU.TargetMeasured && c.Counts.OK > 0 {
			row.TargetCPU = units.Short(c.CPU.TargetUsPerHandshake)
		}
		if c.Counts.Attempted > 0 && !plainTCP(c) {
			row.BytesOut, row.BytesIn = units.Bytes(c.Bytes.HandshakeSentMean), units.Bytes(c.Bytes.HandshakeReceivedMean)
		}
		r.Rows = append(r.Rows, row)
	}
	for _, i := range usedFlags(run) {
		r.Legend = append(r.Legend, htmlLegend{flagLegend[i].name, flagLegend[i].meaning})
	}
	for _, cr := range mutualCostRows(rows) {
		r.MutualCost = append(r.MutualCost, cr.cells())
	}
	r.MutualCostHeader, r.MutualCostTitle, r.MutualCostNote = mutualCostHeader, mutualCostTitle, mutualCostNote
	failures, warnings, errs := caseNotes(run, labels)
	r.Failures, r.Warnings, r.Errors = htmlNotes(failures), htmlNotes(warnings), htmlNotes(errs)
	r.Alignment = htmlNotes(alignmentNotes(run, labels))
	r.EarlyData = htmlNotes(earlyDataNotes(run, labels))
	r.SLOBroken, r.SLOTitle = htmlNotes(sloNotes(run, labels)), sloTitle

	charts, err := buildCharts(run, sets, opts)
	if err != nil {
		return nil, err
	}
	for _, ch := range charts.overlays {
		svg, err := svgOf(chartWidth, chartHeight, ch.plot)
		if err != nil {
			return nil, err
		}
		r.Overlays = append(r.Overlays, htmlChart{Title: ch.title, SVG: template.HTML(svg)})
	}
	for _, ch := range charts.bars {
		svg, err := svgOf(halfChartWidth, barHeight(len(sets)), ch.plot)
		if err != nil {
			return nil, err
		}
		r.Bars = append(r.Bars, htmlChart{Title: ch.title, SVG: template.HTML(svg)})
	}
	for i, s := range sets {
		hc, err := buildHTMLCase(i, s)
		if err != nil {
			return nil, err
		}
		r.Cases = append(r.Cases, hc)
	}
	if r.Capacity, err = buildHTMLCapacity(run, labels); err != nil {
		return nil, err
	}
	r.Versions, r.Phases = colourKey(sets)
	r.Environment = environmentRows(run)
	for _, sh := range run.Shards {
		clock := "–"
		if sh.Clock != nil {
			clock = fmt.Sprintf("%+.2f ms ± %.2f ms", sh.Clock.OffsetUs/1000, sh.Clock.ErrorUs/1000)
		}
		r.Shards = append(r.Shards, htmlShard{
			Index: sh.Index, Source: orDash(sh.Source), Host: orDash(sh.Hostname), Start: sh.Start.UTC().Format("2006-01-02 15:04:05 UTC"),
			Duration: sh.End.Sub(sh.Start).String(), Clock: clock,
		})
	}
	return r, nil
}

func caseAnchor(i int) string { return "case-" + strconv.Itoa(i+1) }

func htmlNotes(notes []note) []htmlNote {
	out := make([]htmlNote, len(notes))
	for i, n := range notes {
		out[i] = htmlNote{n.label, n.text}
	}
	return out
}

// barHeight gives each case a row of the bar charts.
func barHeight(n int) vg.Length {
	return vg.Points(70 + 22*float64(n))
}

type namedPlot struct {
	title string
	plot  *plot.Plot
}

// reportCharts are the charts the HTML and PNG reports share.
type reportCharts struct {
	overlays []namedPlot
	bars     []namedPlot
}

// buildCharts draws the overlay percentile plots and the bar charts of
// handshakes/s and CPU per handshake (medians over repeats).
func buildCharts(run *results.Run, sets []results.Repeats, opts RenderOptions) (*reportCharts, error) {
	groups, err := overlays(sets, opts.GroupBy)
	if err != nil {
		return nil, err
	}
	charts := &reportCharts{}
	for _, g := range groups {
		var curves []curve
		labels, common := legendLabels(sets, g.sets)
		perVersion := map[string]int{} // curves of each TLS version so far: the next one's dashes
		for j, label := range labels {
			set := sets[g.sets[j]]
			h, err := set.MergedHistogram(func(l *results.Latency) *results.Summary { return l.Handshake })
			if err != nil {
				return nil, fmt.Errorf("report: html: %w", err)
			}
			version := set.Cases[0].Params.TLSVersion
			style := lineStyle{versionColour(version), dashes(perVersion[version])}
			perVersion[version]++
			curves = append(curves, curve{label: label, hist: h, style: style})
		}
		title := "Handshake latency: " + g.title
		if common != "" {
			title += " (" + common + ")"
		}
		p, err := percentilePlot(title, curves)
		if err != nil {
			return nil, err
		}
		charts.overlays = append(charts.overlays, namedPlot{title, p})
	}
	var rates, cpu []bar
	anyTarget := false
	names := make([]string, len(sets))
	for i, s := range sets {
		names[i] = s.Name
	}
	names, common, _ := shortenLabels(names)
	suffix := ""
	if common != "" {
		suffix = " (" + common + ")"
	}
	for i, s := range sets {
		version := s.Cases[0].Params.TLSVersion
		rates = append(rates, bar{names[i], []float64{s.Median(func(c *results.Case) float64 { return c.HandshakesPerS })}, version})
		cpu = append(cpu, bar{names[i], []float64{
			s.Median(func(c *results.Case) float64 { return c.CPU.ClientUsPerHandshake }),
			s.Median(func(c *results.Case) float64 { return c.CPU.TargetUsPerHandshake }),
		}, version})
		for _, c := range s.Cases {
			anyTarget = anyTarget || c.CPU.TargetMeasured
		}
	}
	if len(sets) > 0 {
		p, err := barPlot("Handshakes per second"+suffix, "handshakes/s", []string{"handshakes/s"}, rates)
		if err != nil {
			return nil, err
		}
		charts.bars = append(charts.bars, namedPlot{"Handshakes per second", p})
		series := []string{"client", "target"}
		if !anyTarget {
			series = series[:1]
		}
		p, err = barPlot("CPU per handshake"+suffix, "CPU µs per handshake", series, cpu)
		if err != nil {
			return nil, err
		}
		charts.bars = append(charts.bars, namedPlot{"CPU per handshake", p})
	}
	return charts, nil
}

// phases are the latency phases a case's own percentile plot shows.
var phases = []struct {
	name string
	get  func(*results.Latency) *results.Summary
}{
	{"connect", func(l *results.Latency) *results.Summary { return l.Connect }},
	{"first byte", func(l *results.Latency) *results.Summary { return l.FirstByte }},
	{"verify", func(l *results.Latency) *results.Summary { return l.Verify }},
	{"sign", func(l *results.Latency) *results.Summary { return l.Sign }},
	{"handshake", func(l *results.Latency) *results.Summary { return l.Handshake }},
	{"requests", func(l *results.Latency) *results.Summary { return l.Requests }},
	{"total", func(l *results.Latency) *results.Summary { return l.Total }},
	{"total (uncorrected)", func(l *results.Latency) *results.Summary { return l.TotalUncorrected }},
	{"schedule lag", func(l *results.Latency) *results.Summary { return l.ScheduleLag }},
}

func buildHTMLCase(i int, s results.Repeats) (htmlCase, error) {
	first := s.Cases[0]
	hc := htmlCase{ID: caseAnchor(i), Name: s.Name, Key: s.Key, Repeats: len(s.Cases), Negotiated: first.Negotiated}
	for _, name := range results.ParamNames() {
		v, _ := first.Params.Lookup(name)
		if v == "" || v == "0" {
			continue
		}
		hc.Params = append(hc.Params, [2]string{name, v})
	}
	var curves []curve
	for _, ph := range phases {
		h, err := s.MergedHistogram(ph.get)
		if err != nil {
			return hc, fmt.Errorf("report: html: %w", err)
		}
		if h != nil && h.TotalCount() > 0 {
			curves = append(curves, curve{ph.name, h, phaseStyles[ph.name]})
		}
	}
	if len(curves) > 0 {
		title := "Latency by phase"
		if len(s.Cases) > 1 {
			title += fmt.Sprintf(" (%d repeats merged)", len(s.Cases))
		}
		p, err := percentilePlot(title, curves)
		if err != nil {
			return hc, err
		}
		svg, err := svgOf(halfChartWidth, halfChartHeight, p)
		if err != nil {
			return hc, err
		}
		hc.Percentiles = template.HTML(svg)
	}
	series, err := intervalPlots(s)
	if err != nil {
		return hc, err
	}
	if series != nil {
		svg, err := svgOf(halfChartWidth, tsHeight, series...)
		if err != nil {
			return hc, err
		}
		hc.Series = template.HTML(svg)
	}
	return hc, nil
}

// intervalPlots draws a case's interval series: handshakes/s, and p50/p99
// latency, one line per repeat. Nil when the case has no intervals.
func intervalPlots(s results.Repeats) ([]*plot.Plot, error) {
	var rates, lat []seriesLine
	var rotations []float64
	window := 0.0
	for _, c := range s.Cases {
		ivs := trendIntervals(c)
		if len(ivs) < 2 {
			continue
		}
		for _, r := range c.Rotations {
			rotations = append(rotations, r.AtS)
		}
		suffix := ""
		if len(s.Cases) > 1 {
			suffix = fmt.Sprintf(" #%d", c.Repeat+1)
		}
		// Each later repeat a shade lighter, in the same colours.
		shade := math.Min(0.6, 0.3*float64(c.Repeat))
		rate := lineStyle{lighter(versionColour(c.Params.TLSVersion), shade), nil}
		p50, p99 := percentileStyles["p50"], percentileStyles["p99"]
		p50.colour, p99.colour = lighter(p50.colour, shade), lighter(p99.colour, shade)
		var r, p50xy, p99xy plotter.XYs
		for _, iv := range ivs {
			window = math.Max(window, iv.OffsetS+iv.DurationS)
			mid := iv.OffsetS + iv.DurationS/2
			r = append(r, plotter.XY{X: mid, Y: iv.HandshakesPerS})
			p50xy = append(p50xy, plotter.XY{X: mid, Y: float64(iv.P50Us) / 1000})
			p99xy = append(p99xy, plotter.XY{X: mid, Y: float64(iv.P99Us) / 1000})
		}
		rates = append(rates, seriesLine{"handshakes/s" + suffix, r, rate})
		lat = append(lat, seriesLine{"p50" + suffix, p50xy, p50}, seriesLine{"p99" + suffix, p99xy, p99})
	}
	if rates == nil {
		return nil, nil
	}
	rp, err := timePlot("Handshakes per second over time", "handshakes/s", false, window, rates)
	if err != nil {
		return nil, err
	}
	lp, err := timePlot("Handshake latency over time", "latency (ms)", true, window, lat)
	if err != nil {
		return nil, err
	}
	for _, p := range []*plot.Plot{rp, lp} {
		if err := rotationMarkers(p, rotations); err != nil {
			return nil, err
		}
	}
	return []*plot.Plot{rp, lp}, nil
}

func environmentRows(run *results.Run) [][2]string {
	env := run.Environment
	rows := [][2]string{
		{"scenario", strings.TrimSpace(run.Scenario.Name + " " + parenthesise(run.Scenario.Source))},
		{"tool", strings.TrimSpace(run.Tool.Name + " " + run.Tool.Version + " " + parenthesise(run.Tool.GoVersion))},
		{"host", orDash(env.Hostname)},
		{"os / arch / kernel", fmt.Sprintf("%s / %s / %s", orDash(env.OS), orDash(env.Arch), orDash(env.Kernel))},
		{"CPU", fmt.Sprintf("%s, %d cores, GOMAXPROCS %d", orDash(env.CPUModel), env.Cores, env.GOMAXPROCS)},
	}
	if env.ClientCPUs != "" || env.TargetCPUs != "" {
		rows = append(rows, [2]string{"pinning", fmt.Sprintf("client CPUs %s, target CPUs %s", orDash(env.ClientCPUs), orDash(env.TargetCPUs))})
	}
	if !run.Start.IsZero() {
		rows = append(rows, [2]string{"start", run.Start.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	if !run.End.IsZero() {
		rows = append(rows, [2]string{"end", run.End.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	return rows
}

func parenthesise(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}
