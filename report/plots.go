package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/mtlsbench/mtlsbench/internal/units"
)

// This file draws the charts of the HTML and PNG reports with gonum/plot.
// Text is set in Liberation Sans, which is metric-compatible with Arial and
// Helvetica: the SVGs do not embed the font (it would add ~400 KB per
// chart), and the report's stylesheet asks for those families, so a
// browser without Liberation Sans still lays the labels out as measured.

// chartFont is the face every label uses.
var chartFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot with the report's font and a light grid.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(chartFont, 11)
	p.Title.Padding = vg.Points(6)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(chartFont, 10)
		ax.Tick.Label.Font = font.From(chartFont, 9)
		ax.LineStyle.Color = color.Gray{Y: 0x80}
		ax.Tick.LineStyle.Color = color.Gray{Y: 0x80}
	}
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	p.Legend.TextStyle.Font = font.From(chartFont, 9)
	p.Legend.ThumbnailWidth = vg.Points(18)
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 0xe0}
	grid.Horizontal.Color = color.Gray{Y: 0xe0}
	p.Add(grid)
	return p
}

// plainTicks are gonum's default ticks labelled without trailing zeros
// ("2500", not "2500.00").
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', -1, 64)
		}
	}
	return ticks
}

// percentiles are the x positions of a percentile-distribution plot: 1/(1−p)
// from 2 (the median) to 100 000 (99.999%), 24 points per decade, so the
// curve keeps the staircase shape of the histogram's tail.
var percentiles = func() []float64 {
	var ps []float64
	const perDecade = 24
	for i := 0; ; i++ {
		x := 2 * math.Pow(10, float64(i)/perDecade)
		if x > 100_000 {
			break
		}
		ps = append(ps, 100*(1-1/x))
	}
	return append(ps, 99.999)
}()

// percentileTicks label the 1/(1−p) axis in percent.
var percentileTicks = plot.ConstantTicks{
	{Value: 2, Label: "50%"}, {Value: 10, Label: "90%"}, {Value: 100, Label: "99%"},
	{Value: 1000, Label: "99.9%"}, {Value: 10_000, Label: "99.99%"}, {Value: 100_000, Label: "99.999%"},
}

// curve is one line of a percentile plot.
type curve struct {
	label string
	hist  *hdrhistogram.Histogram
	style lineStyle
}

// percentilePlot draws latency (ms) against percentile on the usual
// 1/(1−p) log axis, one line per curve. The latency axis is logarithmic
// when a curve's p99.9 is more than tailRatio times its p50.
func percentilePlot(title string, curves []curve) (*plot.Plot, error) {
	p := newPlot(title)
	p.X.Label.Text = "percentile"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentileTicks
	p.X.Min, p.X.Max = 2, 100_000
	lo, hi, long := math.Inf(1), 0.0, false
	for _, c := range curves {
		if c.hist == nil || c.hist.TotalCount() == 0 {
			continue
		}
		p50 := float64(c.hist.ValueAtQuantile(50)) / 1000
		lo = math.Min(lo, p50)
		hi = math.Max(hi, float64(c.hist.ValueAtQuantile(99.999))/1000)
		long = long || float64(c.hist.ValueAtQuantile(99.9))/1000 > tailRatio*p50
	}
	latencyAxis(p, lo, hi, long)
	p.Legend.Top, p.Legend.Left = true, true
	for _, c := range curves {
		if c.hist == nil || c.hist.TotalCount() == 0 {
			continue
		}
		pts := make(plotter.XYs, len(percentiles))
		for j, q := range percentiles {
			pts[j].X = 1 / (1 - q/100)
			pts[j].Y = float64(c.hist.ValueAtQuantile(q)) / 1000
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("report: plot %s: %w", c.label, err)
		}
		c.style.apply(line)
		p.Add(line)
		p.Legend.Add(c.label, line)
	}
	return p, nil
}

// bar is one bar of a bar chart: a label, one value per series, and the
// TLS version whose colour it takes ("" for black).
type bar struct {
	label   string
	values  []float64
	version string
}

// barPlot draws horizontal bars, one row per label and one bar per series
// in each row (grouped), so long case names stay readable. Each bar ends
// in its value. A bar takes its TLS version's colour; a second series
// (the target beside the client) the same colour, lighter. The legend
// names the versions when there are several, and the series.
func barPlot(title, unit string, series []string, bars []bar) (*plot.Plot, error) {
	p := newPlot(title)
	p.X.Label.Text = unit
	p.X.Min = 0
	// Rows top to bottom in the given order: NominalY counts upwards.
	labels := make([]string, len(bars))
	highest := 0.0
	for i, b := range bars {
		labels[len(bars)-1-i] = b.label
		for _, v := range b.values {
			highest = math.Max(highest, v)
		}
	}
	p.NominalY(labels...)
	p.Y.Tick.Label.Font = font.From(chartFont, 9)
	width := vg.Points(14)
	if len(series) > 1 {
		width = vg.Points(9)
	}
	var versions, legend []string
	for _, b := range bars {
		if !slices.Contains(versions, b.version) {
			versions = append(versions, b.version)
		}
	}
	for s, name := range series {
		for _, version := range versions {
			values := make(plotter.Values, len(bars))
			var valueLabels plotter.XYLabels
			for i, b := range bars {
				if b.version != version {
					continue
				}
				row := len(bars) - 1 - i
				values[row] = b.values[s]
				valueLabels.XYs = append(valueLabels.XYs, plotter.XY{X: b.values[s], Y: float64(row)})
				valueLabels.Labels = append(valueLabels.Labels, formatBarValue(b.values[s]))
			}
			chart, err := plotter.NewBarChart(values, width)
			if err != nil {
				return nil, fmt.Errorf("report: bar chart %s: %w", title, err)
			}
			chart.Horizontal = true
			chart.Color = versionColour(version)
			if s > 0 {
				chart.Color = lighter(versionColour(version), targetShade)
			}
			chart.LineStyle.Width = 0
			chart.Offset = width * vg.Length(float64(len(series)-1)/2-float64(s))
			p.Add(chart)
			var entry []string
			if len(versions) > 1 {
				entry = append(entry, versionName(version))
			}
			if len(series) > 1 {
				entry = append(entry, name)
			}
			if len(entry) > 0 {
				legend = append(legend, strings.Join(entry, " "))
				p.Legend.Add(legend[len(legend)-1], chart)
			}
			text, err := plotter.NewLabels(valueLabels)
			if err != nil {
				return nil, fmt.Errorf("report: bar chart %s: %w", title, err)
			}
			for i := range text.TextStyle {
				text.TextStyle[i].Font = font.From(chartFont, 8)
				text.TextStyle[i].YAlign = draw.YCenter
			}
			text.Offset = vg.Point{X: vg.Points(4), Y: chart.Offset}
			p.Add(text)
		}
	}
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(4)
	p.X.Max = barRoom(p, bars, labels, legend, highest)
	return p, nil
}

// barRoom is the end of a bar chart's value axis: room right of the
// longest bar for its value and, beside the rows the legend covers at the
// top right, for the legend. It assumes the narrowest chart drawn (half
// the HTML page's width).
func barRoom(p *plot.Plot, bars []bar, rowLabels, legend []string, highest float64) float64 {
	if highest <= 0 {
		return 1
	}
	end := highest * 1.22
	if len(legend) == 0 {
		return end
	}
	var legendW, labelW vg.Length
	for _, l := range legend {
		legendW = max(legendW, p.Legend.TextStyle.Width(l))
	}
	legendW += p.Legend.ThumbnailWidth + vg.Points(16)
	for _, l := range rowLabels {
		labelW = max(labelW, p.Y.Tick.Label.Width(l))
	}
	data := halfChartWidth - labelW - vg.Points(30)
	share := math.Min(0.6, float64(legendW/data))
	// A legend entry is about 10.5 points high, a row 22.
	covered := int(math.Ceil(float64(len(legend))*10.5/22 + 0.5))
	top := 0.0
	for _, b := range bars[:min(covered, len(bars))] {
		for _, v := range b.values {
			top = math.Max(top, v)
		}
	}
	return math.Max(end, top*1.22/(1-share))
}

// seriesLine is one line of a time-series plot.
type seriesLine struct {
	label string
	xy    plotter.XYs
	style lineStyle
}

// timePlot draws lines against seconds into the measured window, which
// ends at windowS, leaving headroom above the lines for the legend. With
// latency, the unit is milliseconds and the axis is logarithmic when the
// highest value is more than tailRatio times the lowest.
func timePlot(title, unit string, latency bool, windowS float64, lines []seriesLine) (*plot.Plot, error) {
	p := newPlot(title)
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = unit
	p.X.Min, p.X.Max = 0, windowS
	p.Y.Min = 0
	lowest, highest := math.Inf(1), 0.0
	for _, l := range lines {
		for _, pt := range l.xy {
			highest = math.Max(highest, pt.Y)
			if pt.Y > 0 {
				lowest = math.Min(lowest, pt.Y)
			}
		}
	}
	if highest > 0 {
		p.Y.Max = highest * 1.35
	}
	if latency && highest > tailRatio*lowest {
		latencyAxis(p, lowest, highest, true)
		p.Y.Max = highest * 2.5 // headroom for the legend, on a log scale
		for i := range lines {
			// A log axis has no zero: an interval without handshakes
			// has no latency to draw.
			lines[i].xy = slices.DeleteFunc(slices.Clone(lines[i].xy), func(pt plotter.XY) bool { return pt.Y <= 0 })
		}
	}
	p.Legend.Top = true
	for _, l := range lines {
		if len(l.xy) == 0 {
			continue
		}
		line, err := plotter.NewLine(l.xy)
		if err != nil {
			return nil, fmt.Errorf("report: plot %s: %w", l.label, err)
		}
		l.style.apply(line)
		p.Add(line)
		if len(lines) > 1 {
			p.Legend.Add(l.label, line)
		}
	}
	return p, nil
}

// svgMargin is the blank edge of every SVG chart.
const svgMargin = vg.Length(3)

// svgOf draws plots stacked vertically (each h tall, w wide) into one SVG
// without embedded fonts, returning the <svg> element alone (no XML
// prolog), ready to inline in HTML.
func svgOf(w, h vg.Length, plots ...*plot.Plot) (string, error) {
	canvas := vgsvg.NewWith(vgsvg.UseWH(w, h*vg.Length(len(plots))), vgsvg.EmbedFonts(false))
	// A margin inside the SVG's box: a browser's box of a text is its
	// font's whole ascent and descent, a point or so more than gonum sets
	// a title or an axis label from the edge with.
	dc := draw.Crop(draw.New(canvas), svgMargin, -svgMargin, svgMargin, -svgMargin)
	if len(plots) == 1 {
		plots[0].Draw(dc)
	} else {
		grid := make([][]*plot.Plot, len(plots))
		for i, p := range plots {
			grid[i] = []*plot.Plot{p}
		}
		tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Points(4)}
		for i, row := range plot.Align(grid, tiles, dc) {
			plots[i].Draw(row[0])
		}
	}
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("report: write SVG: %w", err)
	}
	svg := buf.String()
	if i := strings.Index(svg, "<svg"); i >= 0 {
		svg = svg[i:]
	}
	return svg, nil
}

// versionName is how a legend names a TLS version.
func versionName(v string) string {
	if v == "" {
		return "TLS ?"
	}
	return "TLS " + v
}

// formatBarValue labels a bar exactly enough to read off: 7.5, 1464, 12k.
func formatBarValue(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v < 100_000:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	default:
		return units.Short(v)
	}
}
