package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// This file is the one definition of the charts' colours and line styles:
// every chart and the HTML page's colour key take them from here, so a TLS
// version or a latency phase has the same colour wherever it is drawn.
// The colours are Okabe and Ito's palette ("Color Universal Design",
// 2008), told apart with every common colour-vision deficiency; no chart
// relies on red against green.

// okabeIto is the palette, in its published order.
var okabeIto = struct {
	Black, Orange, SkyBlue, BluishGreen, Yellow, Blue, Vermillion, ReddishPurple color.RGBA
}{
	Black:         color.RGBA{0x00, 0x00, 0x00, 0xff},
	Orange:        color.RGBA{0xe6, 0x9f, 0x00, 0xff},
	SkyBlue:       color.RGBA{0x56, 0xb4, 0xe9, 0xff},
	BluishGreen:   color.RGBA{0x00, 0x9e, 0x73, 0xff},
	Yellow:        color.RGBA{0xf0, 0xe4, 0x42, 0xff},
	Blue:          color.RGBA{0x00, 0x72, 0xb2, 0xff},
	Vermillion:    color.RGBA{0xd5, 0x5e, 0x00, 0xff},
	ReddishPurple: color.RGBA{0xcc, 0x79, 0xa7, 0xff},
}

// dashPatterns tell apart lines of one colour: solid first.
var dashPatterns = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2)},
	{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)},
	{vg.Points(10), vg.Points(3)},
	{vg.Points(3), vg.Points(3)},
	{vg.Points(10), vg.Points(2), vg.Points(2), vg.Points(2), vg.Points(2), vg.Points(2)},
}

func dashes(i int) []vg.Length { return dashPatterns[i%len(dashPatterns)] }

// lineStyle is a colour and a dash pattern.
type lineStyle struct {
	colour color.RGBA
	dashes []vg.Length
}

// tlsVersionColours gives each TLS version its colour in every chart.
var tlsVersionColours = []struct {
	version string
	colour  color.RGBA
}{
	{"1.0", okabeIto.Vermillion},
	{"1.1", okabeIto.ReddishPurple},
	{"1.2", okabeIto.Orange},
	{"1.3", okabeIto.Blue},
}

// versionColour is the colour of a case at TLS version v (as in
// Params.TLSVersion); black for one the table does not know.
func versionColour(v string) color.RGBA {
	for _, c := range tlsVersionColours {
		if c.version == v {
			return c.colour
		}
	}
	return okabeIto.Black
}

// phaseStyles give each latency phase its line in every chart; the keys
// are the names in phases. Blue and orange are the TLS versions' alone;
// the handshake is black wherever it is drawn.
var phaseStyles = map[string]lineStyle{
	"connect":             {okabeIto.SkyBlue, nil},
	"first byte":          {okabeIto.ReddishPurple, dashes(1)},
	"verify":              {okabeIto.BluishGreen, nil},
	"sign":                {okabeIto.ReddishPurple, nil},
	"handshake":           {okabeIto.Black, nil},
	"requests":            {okabeIto.Vermillion, nil},
	"total":               {okabeIto.BluishGreen, dashes(1)},
	"total (uncorrected)": {okabeIto.Black, dashes(2)},
	"schedule lag":        {okabeIto.SkyBlue, dashes(2)},
}

// percentileStyles are the lines of a handshake-latency percentile drawn
// against time or rate: the handshake's colour, p99 dashed.
var percentileStyles = map[string]lineStyle{
	"p50": {okabeIto.Black, nil},
	"p99": {okabeIto.Black, dashes(1)},
}

// limitStyle draws an SLO's limit; referenceStyle a rate marked on a chart.
var (
	limitStyle     = lineStyle{okabeIto.Vermillion, []vg.Length{vg.Points(5), vg.Points(3)}}
	referenceStyle = lineStyle{color.RGBA{0x60, 0x60, 0x60, 0xff}, []vg.Length{vg.Points(1.5), vg.Points(2.5)}}
)

// lighter mixes c with white: share 0 is c, 1 is white. The target's bar
// beside the client's is the same colour, lighter.
func lighter(c color.RGBA, share float64) color.RGBA {
	mix := func(v uint8) uint8 { return uint8(math.Round(float64(v) + (255-float64(v))*share)) }
	return color.RGBA{mix(c.R), mix(c.G), mix(c.B), 0xff}
}

// targetShade is how much lighter a target's bar is than its client's.
const targetShade = 0.55

// cssColour writes c as #rrggbb for the page's colour key.
func cssColour(c color.RGBA) string {
	return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
}

func (s lineStyle) apply(line *plotter.Line) {
	line.Color = s.colour
	line.Dashes = s.dashes
	line.Width = vg.Points(1.4)
}

// tailRatio is p99.9 over p50 beyond which a latency axis is logarithmic:
// on a linear axis the body of the distribution is then a flat line at
// the bottom.
const tailRatio = 10

// latencyAxis sets a plot's y axis for latencies (ms) from lo to hi: from
// zero, linear, unless the tail is long (hi/lo > tailRatio), then
// logarithmic, which its label says.
func latencyAxis(p *plot.Plot, lo, hi float64, long bool) {
	p.Y.Label.Text = "latency (ms)"
	if !long || lo <= 0 || hi <= lo {
		p.Y.Min = 0
		return
	}
	p.Y.Label.Text = "latency (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Y.Min, p.Y.Max = lo/1.25, hi*1.25
}

// logTicks label a logarithmic axis at 1, 2 and 5 times each power of
// ten, with minor ticks at the other integers, written plainly ("0.5",
// "20", not "5e-01").
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := base * float64(m)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
