package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// htmlCapacity is the Capacity section of the HTML report.
type htmlCapacity struct {
	Line             string
	SummaryHeader    []htmlCell
	Summary          [][]htmlCell
	ProjectionHeader []htmlCell
	Projection       [][]htmlCell
	ProjectionNote   string
	Bars             []htmlChart
	Cases            []htmlCapacityCase
	StepHeader       []htmlCell
}

type htmlCapacityCase struct {
	Name, Explanation string
	Chart             template.HTML
	Steps             []htmlCapacityStep
}

type htmlCapacityStep struct {
	Cells  []htmlCell
	Failed bool
}

// htmlCell is a table cell; Left aligns it left (names and words).
type htmlCell struct {
	Text string
	Left bool
}

// htmlCells turns a row into cells, left-aligning the columns in left.
func htmlCells(row []string, left ...int) []htmlCell {
	cells := make([]htmlCell, len(row))
	for i, text := range row {
		cells[i] = htmlCell{Text: text}
	}
	for _, i := range left {
		if i >= 0 && i < len(cells) {
			cells[i].Left = true
		} else if i < 0 && len(cells)+i >= 0 {
			cells[len(cells)+i].Left = true
		}
	}
	return cells
}

// buildHTMLCapacity builds the Capacity section; nil for a run without
// capacity searches.
func buildHTMLCapacity(run *results.Run, labels []string) (*htmlCapacity, error) {
	cases := capacityCases(run, labels)
	if len(cases) == 0 {
		return nil, nil
	}
	h := &htmlCapacity{Line: capacityLine(cases), StepHeader: htmlCells(stepHeader, 1, -1)}
	header, rows := capacitySummaryRows(cases, func(label string, _ *results.Case) string { return label })
	h.SummaryHeader = htmlCells(header, 0, 2, 5)
	for _, r := range rows {
		h.Summary = append(h.Summary, htmlCells(r, 0, 2, 5))
	}
	if header, rows := projectionRows(cases); rows != nil {
		h.ProjectionHeader = htmlCells(header, 0)
		for _, r := range rows {
			h.Projection = append(h.Projection, htmlCells(r, 0))
		}
		h.ProjectionNote = projectionNote(run, cases)
	}
	if rates := projectedRates(cases); len(rates) > 0 && len(cases) > 1 {
		rate := rates[len(rates)-1]
		var bars []bar
		names := make([]string, len(cases))
		for i, cc := range cases {
			names[i] = cc.label
		}
		names, common, _ := shortenLabels(names)
		for i, cc := range cases {
			v := 0.0
			for _, p := range cc.cap.Projections {
				if p.Rate == rate {
					v = p.Cores
				}
			}
			bars = append(bars, bar{names[i], []float64{v}, cc.c.Params.TLSVersion})
		}
		title := fmt.Sprintf("Server cores for %s handshakes/s", units.AskedRate(rate))
		if common != "" {
			title += " (" + common + ")"
		}
		p, err := barPlot(title, "cores", []string{"cores"}, bars)
		if err != nil {
			return nil, err
		}
		svg, err := svgOf(halfChartWidth, barHeight(len(bars)), p)
		if err != nil {
			return nil, err
		}
		h.Bars = append(h.Bars, htmlChart{Title: title, SVG: template.HTML(svg)})
	}
	for _, cc := range cases {
		hc := htmlCapacityCase{Name: cc.label, Explanation: cc.cap.Explanation}
		for i := range cc.cap.Steps {
			st := &cc.cap.Steps[i]
			hc.Steps = append(hc.Steps, htmlCapacityStep{Cells: htmlCells(stepRow(i, st), 1, -1), Failed: !st.Passed})
		}
		p, err := capacityPlot(cc.cap)
		if err != nil {
			return nil, err
		}
		if p != nil {
			svg, err := svgOf(halfChartWidth, halfChartHeight, p)
			if err != nil {
				return nil, err
			}
			hc.Chart = template.HTML(svg)
		}
		h.Cases = append(h.Cases, hc)
	}
	return h, nil
}

// sloLatencyLimits reads the latency terms of an SLO string ("p99<50ms")
// for the chart: name and limit in ms.
func sloLatencyLimits(slo string) (names []string, ms []float64) {
	for term := range strings.SplitSeq(slo, ",") {
		if !strings.HasPrefix(term, "p") {
			continue
		}
		_, limit, ok := strings.Cut(term, "<")
		if !ok {
			continue
		}
		d, err := time.ParseDuration(strings.ReplaceAll(strings.TrimPrefix(limit, "="), "µ", "u"))
		if err != nil || d <= 0 {
			continue
		}
		names = append(names, term)
		ms = append(ms, float64(d)/float64(time.Millisecond))
	}
	return names, ms
}

// capacityPlot draws latency against rate for one search: p50 and p99 at
// each rate tried (filled where the step met the SLO, a cross where it did
// not), the SLO's latency limits as dashed lines, and the maximum
// sustainable rate as a dotted vertical. Latency is on a log scale: past
// the limit it grows by orders of magnitude. Nil when no step has latency.
func capacityPlot(cp *results.Capacity) (*plot.Plot, error) {
	type point struct {
		rate     float64
		p50, p99 float64
		passed   bool
	}
	var pts []point
	for _, st := range cp.Steps {
		if st.Attempted == 0 || st.P50Us <= 0 {
			continue
		}
		pts = append(pts, point{st.Rate, float64(st.P50Us) / 1000, float64(max(st.P99Us, 1)) / 1000, st.Passed})
	}
	if len(pts) == 0 {
		return nil, nil
	}
	p := newPlot("Latency against rate (from the intended start)")
	p.X.Label.Text = "handshakes/s asked for"
	p.Y.Label.Text = "latency (ms, log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	p.X.Min = 0
	lo, hi, maxRate := math.Inf(1), 0.0, 0.0
	for _, pt := range pts {
		lo, hi, maxRate = math.Min(lo, pt.p50), math.Max(hi, pt.p99), math.Max(maxRate, pt.rate)
	}
	names, limits := sloLatencyLimits(cp.SLO)
	for _, l := range limits {
		lo, hi = math.Min(lo, l), math.Max(hi, l)
	}
	p.X.Max = maxRate * 1.08
	p.Y.Min, p.Y.Max = lo/1.5, hi*2

	// One line per percentile through the worst value at each rate.
	for _, series := range []struct {
		name string
		get  func(point) float64
	}{{"p50", func(pt point) float64 { return pt.p50 }}, {"p99", func(pt point) float64 { return pt.p99 }}} {
		worst := map[float64]float64{}
		for _, pt := range pts {
			worst[pt.rate] = math.Max(worst[pt.rate], series.get(pt))
		}
		rates := make([]float64, 0, len(worst))
		for r := range worst {
			rates = append(rates, r)
		}
		sort.Float64s(rates)
		xy := make(plotter.XYs, len(rates))
		for j, r := range rates {
			xy[j] = plotter.XY{X: r, Y: worst[r]}
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("report: capacity plot: %w", err)
		}
		style := percentileStyles[series.name]
		style.apply(line)
		p.Add(line)
		p.Legend.Add(series.name, line)
		var good, bad plotter.XYs
		for _, pt := range pts {
			if pt.passed {
				good = append(good, plotter.XY{X: pt.rate, Y: series.get(pt)})
			} else {
				bad = append(bad, plotter.XY{X: pt.rate, Y: series.get(pt)})
			}
		}
		for _, set := range []struct {
			xy    plotter.XYs
			glyph draw.GlyphDrawer
		}{{good, draw.CircleGlyph{}}, {bad, draw.CrossGlyph{}}} {
			if len(set.xy) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(set.xy)
			if err != nil {
				return nil, fmt.Errorf("report: capacity plot: %w", err)
			}
			sc.GlyphStyle.Shape = set.glyph
			sc.GlyphStyle.Color = style.colour
			sc.GlyphStyle.Radius = vg.Points(2.5)
			p.Add(sc)
		}
	}
	for i, l := range limits {
		line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: l}, {X: p.X.Max, Y: l}})
		if err != nil {
			return nil, fmt.Errorf("report: capacity plot: %w", err)
		}
		limitStyle.apply(line)
		line.Width = vg.Points(1)
		p.Add(line)
		p.Legend.Add("SLO "+names[i], line)
	}
	if r := cp.MaxSustainableRate; r > 0 {
		line, err := plotter.NewLine(plotter.XYs{{X: r, Y: p.Y.Min}, {X: r, Y: p.Y.Max}})
		if err != nil {
			return nil, fmt.Errorf("report: capacity plot: %w", err)
		}
		referenceStyle.apply(line)
		line.Width = vg.Points(1)
		p.Add(line)
		label := "max sustainable " + units.AskedRate(r) + "/s"
		if cp.Verdict != "capacity" {
			label = "lower bound " + units.AskedRate(r) + "/s"
		}
		p.Legend.Add(label, line)
	}
	return p, nil
}
