package report

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

// earlyDataRun is the clients scenario's early-data shape: a resumed TLS
// 1.3 case of the openssl client that sent 512 bytes of early data, and
// one that sent none (no line for it).
func earlyDataRun() *results.Run {
	run := resultstest.DefaultRun()
	run.Cases = nil
	for _, early := range []int{0, 512} {
		spec := resultstest.GateSpec()
		c := spec.Build(resultstest.Start)
		c.Params.Resume, c.Params.Client = "tickets", "openssl"
		c.Counts.Resumed = c.Counts.OK - 2
		c.Name, c.Key = "tls1.3-resumed-ecdsa-p256-x25519-openssl", c.Key+",client=openssl"
		if early > 0 {
			c.Name += "-early512"
			c.Key += ",early_data=512"
			c.Params.EarlyData = early
			c.EarlyData = &results.EarlyData{Offered: c.Counts.Resumed, Accepted: c.Counts.Resumed - 3, Rejected: 3, BytesAccepted: (c.Counts.Resumed - 3) * 512}
		}
		run.Cases = append(run.Cases, c)
	}
	return run
}

// Where a case offered early data, every renderer says what became of it.
func TestRenderEarlyDataGolden(t *testing.T) {
	run := earlyDataRun()
	e := run.Cases[1].EarlyData
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{FormatTable, "earlydata.table.golden"},
		{FormatMarkdown, "earlydata.markdown.golden"},
		{FormatHTML, "earlydata.html.golden"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			got := renderString(t, run, tc.format, RenderOptions{})
			want := "offered " + strconv.FormatInt(e.Offered, 10) + ", accepted " + strconv.FormatInt(e.Accepted, 10) + ", rejected 3, bytes accepted " + strconv.FormatInt(e.BytesAccepted, 10)
			if strings.Count(string(got), "offered ") != 1 || !strings.Contains(string(got), want) {
				t.Errorf("%s: want one early-data line %q", tc.format, want)
			}
			resultstest.Golden(t, tc.file, got)
		})
	}
}
