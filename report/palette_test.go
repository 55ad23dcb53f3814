package report

import (
	"strings"
	"testing"

	"gonum.org/v1/plot"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
)

// TestLatencyAxisLogWhenTailIsLong: a tail past tailRatio × p50 gets a
// logarithmic latency axis, labelled so; a short one a linear axis from 0.
func TestLatencyAxisLogWhenTailIsLong(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tailFactor float64
		sigma      float64
		wantLog    bool
	}{
		{"narrow distribution", 1, 0.1, false},
		{"one handshake in 20 forty times slower", 40, 0.1, true},
	} {
		spec := resultstest.GateSpec()
		spec.Sigma, spec.TailEvery, spec.TailFactor = tc.sigma, 20, tc.tailFactor
		c := spec.Build(resultstest.Start)
		h, err := c.Latency.Handshake.Histogram()
		if err != nil {
			t.Fatal(err)
		}
		p, err := percentilePlot("t", []curve{{"c", h, phaseStyles["handshake"]}})
		if err != nil {
			t.Fatal(err)
		}
		_, isLog := p.Y.Scale.(plot.LogScale)
		if isLog != tc.wantLog || strings.Contains(p.Y.Label.Text, "log") != tc.wantLog {
			t.Errorf("%s (p99.9/p50 = %.1f): log scale %v, label %q; want log %v", tc.name,
				float64(h.ValueAtQuantile(99.9))/float64(h.ValueAtQuantile(50)), isLog, p.Y.Label.Text, tc.wantLog)
		}
		if !tc.wantLog && p.Y.Min != 0 {
			t.Errorf("%s: linear axis starts at %v, want 0", tc.name, p.Y.Min)
		}
	}
}

// TestVersionColoursEverywhere: a TLS version has one colour in the
// overlay, the bars and the page's colour key.
func TestVersionColoursEverywhere(t *testing.T) {
	tls12 := resultstest.GateSpec()
	tls12.Version = "1.2"
	run := resultstest.Samples(5, 1, 0.1, resultstest.GateSpec(), tls12)
	html := string(renderString(t, run, FormatHTML, RenderOptions{}))
	for _, v := range []struct{ version, hex string }{{"1.2", "#e69f00"}, {"1.3", "#0072b2"}} {
		if got := cssColour(versionColour(v.version)); got != v.hex {
			t.Errorf("TLS %s colour %s, want %s", v.version, got, v.hex)
		}
		if !strings.Contains(html, "3px solid "+v.hex+`"></span>TLS `+v.version) {
			t.Errorf("the colour key lacks TLS %s in %s", v.version, v.hex)
		}
		// vgsvg writes colours in upper case: the lines and the bars.
		if n := strings.Count(html, "stroke:"+strings.ToUpper(v.hex)); n < 1 {
			t.Errorf("no line in TLS %s's colour %s", v.version, v.hex)
		}
		if n := strings.Count(html, "fill:"+strings.ToUpper(v.hex)); n < 2 {
			t.Errorf("%d bars in TLS %s's colour %s, want one per bar chart", n, v.version, v.hex)
		}
	}
}
