package report

import (
	"fmt"
	"io"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/mtlsbench/mtlsbench/results"
)

// PNG geometry: 1200 pixels wide at 96 dpi, a size that reads well in a
// README.
const (
	pngDPI        = 96
	pngWidth      = 1200.0 / pngDPI * vg.Inch
	pngTopHeight  = 430.0 / pngDPI * vg.Inch
	pngMinBarRows = 320.0 / pngDPI * vg.Inch
)

// renderPNG draws the report's main charts into one PNG: the first one or
// two overlay percentile plots on top, the handshakes/s and CPU bar charts
// below.
func renderPNG(w io.Writer, run *results.Run, opts RenderOptions) error {
	sets := results.GroupRepeats(run)
	if len(sets) == 0 {
		return fmt.Errorf("report: png: the result has no cases to draw")
	}
	charts, err := buildCharts(run, sets, opts)
	if err != nil {
		return err
	}
	barsHeight := max(pngMinBarRows, barHeight(len(sets)))
	height := pngTopHeight + barsHeight
	canvas := vgimg.NewWith(vgimg.UseWH(pngWidth, height), vgimg.UseDPI(pngDPI))
	dc := draw.New(canvas)
	region := func(x0, y0, x1, y1 vg.Length) draw.Canvas {
		const pad = vg.Length(6)
		return draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x0 + pad, Y: y0 + pad}, Max: vg.Point{X: x1 - pad, Y: y1 - pad},
		}}
	}
	top := charts.overlays
	if len(top) > 2 {
		top = top[:2]
	}
	for i, ch := range top {
		x0 := pngWidth * vg.Length(i) / vg.Length(len(top))
		x1 := pngWidth * vg.Length(i+1) / vg.Length(len(top))
		ch.plot.Draw(region(x0, barsHeight, x1, height))
	}
	for i, ch := range charts.bars {
		x0 := pngWidth * vg.Length(i) / vg.Length(len(charts.bars))
		x1 := pngWidth * vg.Length(i+1) / vg.Length(len(charts.bars))
		ch.plot.Draw(region(x0, 0, x1, barsHeight))
	}
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(w); err != nil {
		return fmt.Errorf("report: png: %w", err)
	}
	return nil
}
