package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/mtlsbench/mtlsbench/results"
)

// syncBuffer is a bytes.Buffer safe for a command writing and a test
// reading at once.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// scrapeMetrics GETs url and parses it with the Prometheus text parser.
func scrapeMetrics(url string) (map[string]*dto.MetricFamily, error) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// series is the value of family name's series whose labels include want
// (a histogram's sample count), and whether there is one.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
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

var metricsLine = regexp.MustCompile(`live metrics at (http://\S+/metrics)`)

// A live run with --metrics-addr: scraped while it runs, the families are
// there with sane values; once it is over, nothing listens any more and
// no goroutine of it is left.
func TestLiveMetricsDuringARun(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	var stdout, stderr syncBuffer
	env := &cliEnv{stdout: &stdout, stderr: &stderr}
	code := make(chan int, 1)
	go func() {
		code <- runCLI(context.Background(), env, []string{"run", "--in-process", "-d", "2s", "--warmup", "0s", "-c", "2",
			"--tls", "1.3", "--resume", "none", "--metrics-addr", "127.0.0.1:0", "-o", filepath.Join(dir, "r.json")})
	}()

	var url string
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(10 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no scrape with a handshake counted and an interval's latencies within 10 s\nstderr:\n%s", stderr.String())
		}
		if url == "" {
			if m := metricsLine.FindStringSubmatch(stderr.String()); m != nil {
				url = m[1]
			}
		}
		if url != "" {
			f, err := scrapeMetrics(url)
			if err != nil {
				t.Fatalf("scrape %s: %v", url, err)
			}
			ok, _ := series(f, "mtlsbench_handshakes_total", map[string]string{"result": "ok"})
			lat, _ := series(f, "mtlsbench_handshake_latency_seconds", nil)
			if ok > 0 && lat > 0 {
				fams = f
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	caseName := fams["mtlsbench_case_info"].GetMetric()
	if len(caseName) != 1 {
		t.Fatalf("case_info: %v", fams["mtlsbench_case_info"])
	}
	labels := map[string]string{}
	for _, l := range caseName[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["tls_version"] != "1.3" || labels["resume"] != "none" || labels["concurrency"] != "2" || labels["case"] == "" {
		t.Errorf("case_info labels %v", labels)
	}
	name := labels["case"]
	ok, _ := series(fams, "mtlsbench_handshakes_total", map[string]string{"case": name, "result": "ok"})
	lat, _ := series(fams, "mtlsbench_handshake_latency_seconds", map[string]string{"case": name})
	if lat > ok {
		t.Errorf("%v latencies recorded but %v handshakes counted", lat, ok)
	}
	if errs, present := series(fams, "mtlsbench_handshakes_total", map[string]string{"case": name, "result": "error"}); !present || errs != 0 {
		t.Errorf("errors %v (present %v), want 0", errs, present)
	}
	if n, _ := series(fams, "mtlsbench_run_cases", nil); n != 1 {
		t.Errorf("run_cases %v, want 1", n)
	}
	if flight, present := series(fams, "mtlsbench_connections_in_flight", nil); !present || flight < 0 || flight > 2 {
		t.Errorf("in flight %v (present %v), want 0 to 2 with -c 2", flight, present)
	}
	h := fams["mtlsbench_handshake_latency_seconds"].GetMetric()[0].GetHistogram()
	bounds := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		bounds[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	if _, ok := bounds[0.0001]; !ok || bounds[10] != h.GetSampleCount() || h.GetSampleSum() <= 0 {
		t.Errorf("latency histogram: buckets %v, count %d, sum %v: want 100µs to 10s, every handshake under 10 s", bounds, h.GetSampleCount(), h.GetSampleSum())
	}

	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit %d\n%s", c, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not end")
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/metrics")
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still listens after the run", addr)
	}
}

// --metrics-addr that cannot be listened on exits 2 before any load.
func TestMetricsAddrRefusedBeforeLoad(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, addr := range []string{"9464", ln.Addr().String()} {
		start := time.Now()
		code, _, errOut := runCommand(t, "run", "--in-process", "-d", "5s", "--metrics-addr", addr, "-o", filepath.Join(t.TempDir(), "r.json"))
		if code != exitUsage || !strings.Contains(errOut, "--metrics-addr") || !strings.Contains(errOut, addr) {
			t.Errorf("%s: exit %d: %s", addr, code, errOut)
		}
		if time.Since(start) > 3*time.Second {
			t.Errorf("%s: refused after %v: some load ran first", addr, time.Since(start))
		}
	}
}

// --stream FILE: one record per interval per case, with a start and an
// end record per case; offsets increase; the records match the result.
func TestStreamOfARun(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "live.ndjson")
	result := filepath.Join(dir, "r.json")
	code, _, errOut := runCommand(t, "run", "-q", "--in-process", "-d", "1500ms", "--warmup", "0s", "-c", "2",
		"--tls", "1.2,1.3", "--resume", "none", "--stream", stream, "-o", result)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	run, err := results.ReadFile(result)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(stream)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type record struct {
		Type     string   `json:"type"`
		Case     string   `json:"case"`
		OffsetS  *float64 `json:"offset_s"`
		Rate     *float64 `json:"handshakes_per_s"`
		P99      *int64   `json:"p99_us"`
		InFlight *int64   `json:"in_flight"`
		Status   string   `json:"status"`
	}
	var recs []record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("record %d: %v: %s", len(recs)+1, err, sc.Text())
		}
		recs = append(recs, r)
	}
	if len(recs) == 0 || recs[0].Type != "stream" {
		t.Fatalf("records %+v", recs)
	}
	recs = recs[1:]
	for _, c := range run.Cases {
		if len(recs) < 2 || recs[0].Type != "case_start" || recs[0].Case != c.Name {
			t.Fatalf("%s: no case_start where expected: %+v", c.Name, recs)
		}
		recs = recs[1:]
		last := -1.0
		n := 0
		for len(recs) > 0 && recs[0].Type == "interval" {
			r := recs[0]
			if r.Case != c.Name || r.OffsetS == nil || *r.OffsetS <= last || r.Rate == nil || r.InFlight == nil {
				t.Errorf("%s: interval %d: %+v (previous offset %v)", c.Name, n, r, last)
			} else {
				last = *r.OffsetS
			}
			n++
			recs = recs[1:]
		}
		if n != len(c.Intervals) || n < 2 {
			t.Errorf("%s: %d interval records, the result has %d intervals", c.Name, n, len(c.Intervals))
		}
		if len(recs) == 0 || recs[0].Type != "case_end" || recs[0].Case != c.Name || recs[0].Status != string(c.Status) {
			t.Fatalf("%s: no case_end with its status where expected: %+v", c.Name, recs)
		}
		recs = recs[1:]
	}
	if len(recs) != 0 {
		t.Errorf("records after the last case: %+v", recs)
	}
}

// --stream -: the stream owns standard output; the table goes to standard
// error, and -o - or a --format other than table are refused.
func TestStreamToStandardOutput(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCommand(t, "run", "--in-process", "-d", "500ms", "--warmup", "0s", "-c", "1",
		"--tls", "1.3", "--resume", "none", "--slo", "p99<10s", "--stream", "-", "-o", filepath.Join(dir, "r.json"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for i, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("standard output line %d is not a record: %q", i+1, line)
		}
	}
	if !strings.Contains(stdout, `"type":"case_end"`) || !strings.Contains(stdout, `"slo":{"objective":"p99<10s","met":true}`) ||
		!strings.Contains(stderr, "hs/s") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	for _, args := range [][]string{
		{"--stream", "-", "-o", "-"},
		{"--stream", "-", "--format", "json"},
		{"--stream", dir, "-o", filepath.Join(dir, "r.json")},
		{"--stream", filepath.Join(dir, "same.json"), "-o", filepath.Join(dir, "same.json")},
	} {
		code, _, errOut := runCommand(t, append([]string{"run", "--in-process", "-d", "5s"}, args...)...)
		if code != exitUsage || !strings.Contains(errOut, "--stream") {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
}
