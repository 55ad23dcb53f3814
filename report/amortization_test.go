package report

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

// amortizationRun is the amortization scenario's shape: one case at 0, 1,
// 10 and 100 HTTP/2 requests per connection, CPU growing by a fixed cost
// per request over the handshake's, plus a case that differs in more than
// requests (another TLS version), which no section takes in.
func amortizationRun(withBaseline bool) *results.Run {
	run := resultstest.DefaultRun()
	run.Cases = nil
	counts := []int{0, 1, 10, 100}
	if !withBaseline {
		counts = counts[1:]
	}
	for _, k := range counts {
		spec := resultstest.GateSpec()
		spec.Rate = 1500 / (1 + float64(k)/20)
		spec.ClientCPU = 330 + 9*float64(k)
		spec.TargetCPU = 420 + 12*float64(k)
		c := spec.Build(resultstest.Start)
		c.Name += "-req" + strconv.Itoa(k)
		c.Key = "tls=1.3,cipher=any,group=x25519,key_share=x25519,server_key=ecdsa-p256,client_key=ecdsa-p256,chain=root,identities=1,resume=none,requests=" + strconv.Itoa(k) + ",target=builtin,mode=http2"
		c.Params.Requests, c.Params.TargetMode, c.Params.Streams = k, "http2", 1
		c.Counts.Requests = int64(k) * c.Counts.OK
		if k > 0 {
			mean := 45 * float64(k)
			c.Latency.Requests = &results.Summary{Count: c.Counts.OK, MeanUs: mean, MinUs: int64(mean / 2), P50Us: int64(mean), P90Us: int64(mean * 1.2),
				P99Us: int64(mean * 2), P999Us: int64(mean * 3), MaxUs: int64(mean * 4)}
		}
		run.Cases = append(run.Cases, c)
	}
	other := resultstest.GateSpec()
	other.Version = "1.2"
	run.Cases = append(run.Cases, other.Build(resultstest.Start))
	return run
}

func TestRenderAmortizationGolden(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{FormatTable, "amortization.table.golden"},
		{FormatMarkdown, "amortization.markdown.golden"},
		{FormatHTML, "amortization.html.golden"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			resultstest.Golden(t, tc.file, renderString(t, amortizationRun(true), tc.format, RenderOptions{}))
		})
	}
}

func TestAmortizations(t *testing.T) {
	groups := amortizations(amortizationRun(true))
	if len(groups) != 1 || len(groups[0].rows) != 4 || groups[0].extrapolated {
		t.Fatalf("groups %+v, want one of 4 rows with a measured baseline", groups)
	}
	a := groups[0]
	if a.title != "tls1.3-full-ecdsa-p256-x25519, http2 mode" {
		t.Errorf("title %q: want the cases' name without requests, and the mode", a.title)
	}
	// The handshake is all of a connection without requests, and its
	// share falls as requests grow: 330/(330+9k) of the client's CPU.
	for i, k := range []int{0, 1, 10, 100} {
		r := a.rows[i]
		want := 330 / (330 + 9*float64(k))
		if r.requests != k || math.Abs(r.clientShare-want) > 1e-9 {
			t.Errorf("requests %d: client share %v, want %v", r.requests, r.clientShare, want)
		}
		if k > 0 && (math.Abs(r.clientPerRequest-9) > 1e-9 || math.Abs(r.targetPerRequest-12) > 1e-9) {
			t.Errorf("requests %d: per request %v client, %v target; want 9 and 12", k, r.clientPerRequest, r.targetPerRequest)
		}
		if i > 0 && !(r.latencyShare < a.rows[i-1].latencyShare) {
			t.Errorf("requests %d: latency share %v did not fall", k, r.latencyShare)
		}
	}
	// Without a requests=0 case the handshake's cost is extrapolated from
	// 1 and 10 requests: the same line, so the same answer, and said so.
	groups = amortizations(amortizationRun(false))
	if len(groups) != 1 || !groups[0].extrapolated || !strings.Contains(groups[0].caption(), "extrapolated from requests=1 and 10") {
		t.Fatalf("without a baseline: %+v", groups)
	}
	if got := groups[0].rows[2].clientShare; math.Abs(got-330.0/1230) > 1e-9 {
		t.Errorf("extrapolated share at 100 requests %v, want %v", got, 330.0/1230)
	}
	// Cases that do not differ in requests make no section.
	if got := amortizations(resultstest.DefaultRun()); len(got) != 0 {
		t.Errorf("the default run has %d amortization sections, want none", len(got))
	}
}
