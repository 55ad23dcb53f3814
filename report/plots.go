package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
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
}

// percentilePlot draws latency (ms) against percentile on the usual
// 1/(1−p) log axis, one line per curve.
func percentilePlot(title string, curves []curve) (*plot.Plot, error) {
	p := newPlot(title)
	p.X.Label.Text = "percentile"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentileTicks
	p.X.Min, p.X.Max = 2, 100_000
	p.Y.Label.Text = "latency (ms)"
	p.Y.Min = 0
	p.Legend.Top, p.Legend.Left = true, true
	for i, c := range curves {
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
		styleLine(line, i)
		p.Add(line)
		p.Legend.Add(c.label, line)
	}
	return p, nil
}

func styleLine(line *plotter.Line, i int) {
	line.Color = plotutil.Color(i)
	line.Width = vg.Points(1.4)
	line.Dashes = plotutil.Dashes(i / len(plotutil.DefaultColors))
}

// bar is one bar of a bar chart: a label and one value per series.
type bar struct {
	label  string
	values []float64
}

// barPlot draws horizontal bars, one row per label and one bar per series
// in each row (grouped), so long case names stay readable. Each bar ends
// in its value.
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
	// Room right of the longest bar for its value and the legend.
	p.X.Max = highest * 1.22
	if len(series) > 1 {
		p.X.Max = highest * 1.4
	}
	if highest == 0 {
		p.X.Max = 1
	}
	width := vg.Points(14)
	if len(series) > 1 {
		width = vg.Points(9)
	}
	for s, name := range series {
		values := make(plotter.Values, len(bars))
		valueLabels := plotter.XYLabels{XYs: make(plotter.XYs, len(bars)), Labels: make([]string, len(bars))}
		for i, b := range bars {
			row := len(bars) - 1 - i
			values[row] = b.values[s]
			valueLabels.XYs[row] = plotter.XY{X: b.values[s], Y: float64(row)}
			valueLabels.Labels[row] = formatBarValue(b.values[s])
		}
		chart, err := plotter.NewBarChart(values, width)
		if err != nil {
			return nil, fmt.Errorf("report: bar chart %s: %w", title, err)
		}
		chart.Horizontal = true
		chart.Color = plotutil.Color(s)
		chart.LineStyle.Width = 0
		chart.Offset = width * vg.Length(float64(len(series)-1)/2-float64(s))
		p.Add(chart)
		if len(series) > 1 {
			p.Legend.Add(name, chart)
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
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(4)
	return p, nil
}

// seriesLine is one line of a time-series plot.
type seriesLine struct {
	label string
	xy    plotter.XYs
}

// timePlot draws lines against seconds into the measured window, which
// ends at windowS, leaving headroom above the lines for the legend.
func timePlot(title, unit string, windowS float64, lines []seriesLine) (*plot.Plot, error) {
	p := newPlot(title)
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = unit
	p.X.Min, p.X.Max = 0, windowS
	p.Y.Min = 0
	highest := 0.0
	for _, l := range lines {
		for _, pt := range l.xy {
			highest = math.Max(highest, pt.Y)
		}
	}
	if highest > 0 {
		p.Y.Max = highest * 1.35
	}
	p.Legend.Top = true
	for i, l := range lines {
		if len(l.xy) == 0 {
			continue
		}
		line, err := plotter.NewLine(l.xy)
		if err != nil {
			return nil, fmt.Errorf("report: plot %s: %w", l.label, err)
		}
		styleLine(line, i)
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
