package live

import (
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
)

// LatencyBuckets are the upper bounds, in seconds, of the latency
// histogram's buckets: 100 µs to 10 s in 1-2-5 steps, which spans a
// loopback ECDSA handshake to a handshake timeout.
var LatencyBuckets = []float64{
	0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
	0.1, 0.2, 0.5, 1, 2, 5, 10,
}

// Metrics is a Watcher that keeps the run's figures as Prometheus metrics
// in a registry of its own (never the global one), for Server to expose:
//
//	mtlsbench_handshakes_total{case,result}          ok and error, counted live
//	mtlsbench_handshake_errors_total{case,class}     errors by class (loadgen's names)
//	mtlsbench_resumed_handshakes_total{case}         handshakes that resumed a session
//	mtlsbench_handshake_latency_seconds{case}        histogram (LatencyBuckets) of the case's
//	                                                 headline latency, from each interval's HDR
//	                                                 histogram: the handshake in a closed loop,
//	                                                 from the intended start in an open one
//	mtlsbench_connections_in_flight                  connections open now
//	mtlsbench_case_info{case,key,tls_version,...}    1 for the case being run, its parameters as labels
//	mtlsbench_capacity_step_rate                     rate of the capacity step being run (0 in a run)
//	mtlsbench_run_cases                              cases in the run (repeats counted)
//	mtlsbench_run_cases_finished_total{status}       cases finished, by verdict (results' status)
//	mtlsbench_run_cases_slo_total{result}            cases judged against run --slo: met, broken
//
// Counters are updated at each progress tick (about four times a second)
// and reconciled with the engine's final counts when a case (or a
// capacity step) ends; the histogram at each interval. Counts are of the
// measured window only, as in the result.
type Metrics struct {
	reg        *prometheus.Registry
	handshakes *prometheus.CounterVec
	errors     *prometheus.CounterVec
	resumed    *prometheus.CounterVec
	inFlight   prometheus.Gauge
	info       *prometheus.GaugeVec
	stepRate   prometheus.Gauge
	cases      prometheus.Gauge
	finished   *prometheus.CounterVec
	slo        *prometheus.CounterVec
	latency    *latencyCollector

	mu sync.Mutex // guards the fields below
	// run identifies the engine run that seen counts (a case, or a
	// capacity step): counts restart with each.
	run        [2]int
	seen       loadgen.Progress
	seenClass  map[string]int64
	infoLabels []string // the label values of the case_info series now set
}

var infoLabelNames = []string{"case", "key", "tls_version", "cipher_suite", "group", "key_type", "client_key_type",
	"chain", "resume", "concurrency", "rate", "requests", "target"}

// NewMetrics returns the metrics of a run not yet started.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mtlsbench_handshakes_total",
			Help: "Handshakes completed in the measured window, by case and result (ok, error).",
		}, []string{"case", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mtlsbench_handshake_errors_total",
			Help: "Failed handshakes in the measured window, by case and error class.",
		}, []string{"case", "class"}),
		resumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mtlsbench_resumed_handshakes_total",
			Help: "Handshakes in the measured window that resumed a session.",
		}, []string{"case"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mtlsbench_connections_in_flight",
			Help: "Connections open now (in flight or held).",
		}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mtlsbench_case_info",
			Help: "1 for the case being run, with its parameters as labels.",
		}, infoLabelNames),
		stepRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mtlsbench_capacity_step_rate",
			Help: "Open-loop rate (handshakes/s) of the capacity search step being run; 0 outside a search.",
		}),
		cases: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mtlsbench_run_cases",
			Help: "Cases in the run, repeats counted.",
		}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mtlsbench_run_cases_finished_total",
			Help: "Cases finished, by status (ok, failed, crosscheck_failed, interrupted).",
		}, []string{"status"}),
		slo: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mtlsbench_run_cases_slo_total",
			Help: "Cases judged against run --slo, by result (met, broken).",
		}, []string{"result"}),
		latency: newLatencyCollector(),
	}
	m.reg.MustRegister(m.handshakes, m.errors, m.resumed, m.inFlight, m.info, m.stepRate, m.cases, m.finished, m.slo, m.latency)
	return m
}

// Registry is the registry the metrics are in, for a server to expose.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// CaseStart sets the case's info series and the run's size.
func (m *Metrics) CaseStart(c *Case) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cases.Set(float64(c.Total))
	m.clearInfo()
	p := &c.Params
	m.infoLabels = []string{c.Name, c.Key, p.TLSVersion, p.CipherSuite, p.Group, p.KeyType, p.ClientKeyType,
		p.Chain, p.Resume, strconv.Itoa(p.Concurrency), strconv.FormatFloat(p.Rate, 'g', -1, 64),
		strconv.Itoa(p.Requests), p.Target}
	m.info.WithLabelValues(m.infoLabels...).Set(1)
	// Touch the counters so that a case with no handshake yet reads 0,
	// not absent.
	m.handshakes.WithLabelValues(c.Name, "ok")
	m.handshakes.WithLabelValues(c.Name, "error")
	m.resumed.WithLabelValues(c.Name)
	m.startRun(c)
}

func (m *Metrics) clearInfo() {
	if m.infoLabels != nil {
		m.info.DeleteLabelValues(m.infoLabels...)
		m.infoLabels = nil
	}
}

// startRun resets the seen counts when c is another engine run (a case
// or a capacity step) than the last one.
func (m *Metrics) startRun(c *Case) {
	if id := [2]int{c.N, c.Step}; id != m.run {
		m.run = id
		m.seen = loadgen.Progress{}
		m.seenClass = map[string]int64{}
	}
}

// Interval adds the interval's latencies and resumptions.
func (m *Metrics) Interval(c *Case, iv results.Interval) {
	if iv.Resumed > 0 {
		m.resumed.WithLabelValues(c.Name).Add(float64(iv.Resumed))
	}
	m.latency.add(c.Name, iv.HDR)
}

// Progress adds what the case counted since the last tick.
func (m *Metrics) Progress(c *Case, p loadgen.Progress) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.startRun(c)
	m.stepRate.Set(c.StepRate)
	m.inFlight.Set(float64(p.InFlight))
	if d := p.OK - m.seen.OK; d > 0 {
		m.handshakes.WithLabelValues(c.Name, "ok").Add(float64(d))
		m.seen.OK = p.OK
	}
	if d := p.Errors - m.seen.Errors; d > 0 {
		m.handshakes.WithLabelValues(c.Name, "error").Add(float64(d))
		m.seen.Errors = p.Errors
	}
	for class, n := range p.ErrorsByClass {
		if d := n - m.seenClass[class]; d > 0 {
			m.errors.WithLabelValues(c.Name, class).Add(float64(d))
			m.seenClass[class] = n
		}
	}
}

// CaseEnd counts the case as finished and clears its info series.
func (m *Metrics) CaseEnd(c *Case, out *results.Case) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clearInfo()
	m.inFlight.Set(0)
	m.stepRate.Set(0)
	m.finished.WithLabelValues(string(out.Status)).Inc()
	if out.SLO != nil {
		result := "met"
		if !out.SLO.Met {
			result = "broken"
		}
		m.slo.WithLabelValues(result).Inc()
	}
}

var _ Watcher = (*Metrics)(nil)

// latencyCollector is the latency histogram: per case, bucket counts
// added from each interval's HDR histogram, exposed as a constant
// histogram at each scrape (client_golang's Histogram observes one value
// at a time; an interval brings thousands at once).
type latencyCollector struct {
	desc *prometheus.Desc

	mu     sync.Mutex // guards byCase
	byCase map[string]*latencyCounts
}

type latencyCounts struct {
	buckets []uint64 // per bound of LatencyBuckets, not cumulative
	count   uint64
	sum     float64 // seconds
}

func newLatencyCollector() *latencyCollector {
	return &latencyCollector{
		desc: prometheus.NewDesc("mtlsbench_handshake_latency_seconds",
			"Headline latency of successful handshakes in the measured window: the handshake in a closed loop, "+
				"from the intended start in an open loop.", []string{"case"}, nil),
		byCase: map[string]*latencyCounts{},
	}
}

// add adds an interval's encoded HDR histogram (microseconds) to the
// case's counts. An empty or undecodable one adds nothing.
func (l *latencyCollector) add(name, hdr string) {
	if hdr == "" {
		return
	}
	h, err := results.DecodeHDR(hdr)
	if err != nil || h.TotalCount() == 0 {
		return
	}
	var add latencyCounts
	add.buckets = make([]uint64, len(LatencyBuckets))
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		// bar.From is the lowest value the HDR bucket stands for: at 3
		// significant digits, within 0.1% of every value in it.
		i, _ := slices.BinarySearch(LatencyBuckets, float64(bar.From)/1e6)
		if i < len(add.buckets) {
			add.buckets[i] += uint64(bar.Count)
		}
	}
	add.count = uint64(h.TotalCount())
	add.sum = h.Mean() * float64(h.TotalCount()) / 1e6

	l.mu.Lock()
	defer l.mu.Unlock()
	lc := l.byCase[name]
	if lc == nil {
		lc = &latencyCounts{buckets: make([]uint64, len(LatencyBuckets))}
		l.byCase[name] = lc
	}
	for i, n := range add.buckets {
		lc.buckets[i] += n
	}
	lc.count += add.count
	lc.sum += add.sum
}

func (l *latencyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *latencyCollector) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, lc := range l.byCase {
		cumulative := make(map[float64]uint64, len(LatencyBuckets))
		var n uint64
		for i, bound := range LatencyBuckets {
			n += lc.buckets[i]
			cumulative[bound] = n
		}
		ch <- prometheus.MustNewConstHistogram(l.desc, lc.count, lc.sum, cumulative, name)
	}
}
