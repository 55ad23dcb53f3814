package live

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
)

// scrape GETs url and parses it with the Prometheus text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

// value is the value of the series of family name whose labels include
// want, and whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// intervalHDR encodes a histogram of the given latencies (µs → count).
func intervalHDR(values map[int64]int64) string {
	h := results.NewHistogram()
	for v, n := range values {
		_ = h.RecordValues(v, n)
	}
	return results.EncodeHDR(h)
}

func TestMetricsServed(t *testing.T) {
	defer goleak.VerifyNone(t)
	m := NewMetrics()
	srv, err := Listen("127.0.0.1:0", m)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + srv.Addr().String() + "/metrics"
	c := &Case{Name: "tls13-x25519-ecdsa-p256", Key: "k1", N: 1, Total: 2,
		Params: results.Params{TLSVersion: "1.3", Group: "x25519", KeyType: "ecdsa-p256", Concurrency: 4, Target: "builtin"}}

	m.CaseStart(c)
	fams := scrape(t, url)
	if v, ok := value(fams, "mtlsbench_handshakes_total", map[string]string{"case": c.Name, "result": "ok"}); !ok || v != 0 {
		t.Errorf("before any handshake: ok counter %v (present %v), want 0", v, ok)
	}
	if v, ok := value(fams, "mtlsbench_case_info", map[string]string{"case": c.Name, "tls_version": "1.3", "key_type": "ecdsa-p256", "concurrency": "4"}); !ok || v != 1 {
		t.Errorf("case_info %v (present %v), want 1 with the case's parameters", v, ok)
	}
	if v, _ := value(fams, "mtlsbench_run_cases", nil); v != 2 {
		t.Errorf("run_cases %v, want 2", v)
	}

	m.Progress(c, loadgen.Progress{Phase: "measure", OK: 10, Errors: 2, ErrorsByClass: map[string]int64{"unknown_ca": 2}, InFlight: 4})
	m.Interval(c, results.Interval{OffsetS: 0, DurationS: 1, HandshakesPerS: 15, Resumed: 3,
		HDR: intervalHDR(map[int64]int64{150: 10, 3000: 5})})
	m.Interval(c, results.Interval{OffsetS: 1, DurationS: 1}) // no handshake: adds nothing
	m.Progress(c, loadgen.Progress{Phase: "measure", OK: 15, Errors: 3, ErrorsByClass: map[string]int64{"unknown_ca": 2, "io": 1}, InFlight: 3})
	fams = scrape(t, url)
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"mtlsbench_handshakes_total", map[string]string{"case": c.Name, "result": "ok"}, 15},
		{"mtlsbench_handshakes_total", map[string]string{"case": c.Name, "result": "error"}, 3},
		{"mtlsbench_handshake_errors_total", map[string]string{"case": c.Name, "class": "unknown_ca"}, 2},
		{"mtlsbench_handshake_errors_total", map[string]string{"case": c.Name, "class": "io"}, 1},
		{"mtlsbench_resumed_handshakes_total", map[string]string{"case": c.Name}, 3},
		{"mtlsbench_connections_in_flight", nil, 3},
		{"mtlsbench_handshake_latency_seconds", map[string]string{"case": c.Name}, 15},
	} {
		if v, ok := value(fams, tc.name, tc.labels); !ok || v != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, v, ok, tc.want)
		}
	}
	// The buckets: 10 at 150 µs, 5 at 3 ms.
	h := fams["mtlsbench_handshake_latency_seconds"].GetMetric()[0].GetHistogram()
	buckets := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		buckets[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	for bound, want := range map[float64]uint64{0.0001: 0, 0.0002: 10, 0.002: 10, 0.005: 15, 10: 15} {
		if buckets[bound] != want {
			t.Errorf("bucket le=%v: %d, want %d (buckets %v)", bound, buckets[bound], want, buckets)
		}
	}
	if sum := h.GetSampleSum(); sum < 0.0165 || sum > 0.0166 {
		t.Errorf("sum %v s, want about 10×150µs + 5×3ms = 0.0165 s", sum)
	}

	// The end: the engine's final counts, then the verdict.
	m.Progress(c, loadgen.Progress{Phase: PhaseEnd, OK: 16, Errors: 3, ErrorsByClass: map[string]int64{"unknown_ca": 2, "io": 1}})
	m.CaseEnd(c, &results.Case{Name: c.Name, Status: results.StatusOK})
	// A repeat of the same case adds to its counters.
	again := *c
	again.N, again.Repeat = 2, 1
	m.CaseStart(&again)
	m.Progress(&again, loadgen.Progress{Phase: "measure", OK: 4})
	fams = scrape(t, url)
	if v, _ := value(fams, "mtlsbench_handshakes_total", map[string]string{"case": c.Name, "result": "ok"}); v != 20 {
		t.Errorf("ok after the end and a repeat's 4: %v, want 16 + 4", v)
	}
	if v, _ := value(fams, "mtlsbench_run_cases_finished_total", map[string]string{"status": "ok"}); v != 1 {
		t.Errorf("finished ok %v, want 1", v)
	}
	m.CaseEnd(&again, &results.Case{Name: c.Name, Status: results.StatusFailed, SLO: &results.SLOVerdict{Met: false}})
	fams = scrape(t, url)
	if _, ok := value(fams, "mtlsbench_case_info", nil); ok {
		t.Error("case_info still set after the last case ended")
	}
	if v, _ := value(fams, "mtlsbench_run_cases_finished_total", map[string]string{"status": "failed"}); v != 1 {
		t.Errorf("finished failed %v, want 1", v)
	}
	if v, _ := value(fams, "mtlsbench_run_cases_slo_total", map[string]string{"result": "broken"}); v != 1 {
		t.Errorf("slo broken %v, want 1", v)
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
		conn.Close()
		t.Error("the listener is still open after Close")
	}
}

// Capacity steps restart the engine's counts: each step's are added.
func TestMetricsCapacitySteps(t *testing.T) {
	m := NewMetrics()
	c := &Case{Name: "c", N: 1, Total: 1}
	m.CaseStart(c)
	for step := 1; step <= 2; step++ {
		sc := *c
		sc.Step, sc.StepRate = step, float64(100*step)
		m.Progress(&sc, loadgen.Progress{Phase: "measure", OK: 5})
		m.Progress(&sc, loadgen.Progress{Phase: PhaseEnd, OK: 7})
	}
	got, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	fams := map[string]*dto.MetricFamily{}
	for _, f := range got {
		fams[f.GetName()] = f
	}
	if v, _ := value(fams, "mtlsbench_handshakes_total", map[string]string{"result": "ok"}); v != 14 {
		t.Errorf("ok over two steps of 7: %v", v)
	}
	if v, _ := value(fams, "mtlsbench_capacity_step_rate", nil); v != 200 {
		t.Errorf("step rate %v, want the second step's 200", v)
	}
}

func TestListenRefusesBadAddresses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, addr := range []string{"9464", "localhost", ln.Addr().String(), "256.1.1.1:9464"} {
		srv, err := Listen(addr, NewMetrics())
		if err == nil {
			srv.Close()
			t.Errorf("%q: listened", addr)
			continue
		}
		if ae, ok := errors.AsType[*AddrError](err); !ok || ae.Addr != addr {
			t.Errorf("%q: %v, want an *AddrError naming it", addr, err)
		}
	}
}
