package results

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test ./results -update' to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run 'go test ./results -update' and review the diff.\n--- got:\n%s", path, clip(got))
	}
}

func clip(b []byte) []byte {
	if len(b) > 4000 {
		return append(b[:4000:4000], "\n…"...)
	}
	return b
}

// fixtureStart is the fixed start of the fixture run: nothing in the
// fixture depends on the wall clock.
var fixtureStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// caseSpec describes one synthetic case: its parameters and the shape of
// the distributions its values are drawn from.
type caseSpec struct {
	version, resume, keyType, group string
	repeat                          int
	// rate is the handshake rate; durationS the window; the count of
	// handshakes is their product.
	rate, durationS float64
	// medianUs and sigma shape a log-normal handshake latency; one value
	// in tailEvery is multiplied by tailFactor (scheduler hiccups).
	medianUs, sigma        float64
	tailEvery              int
	tailFactor             float64
	clientCPU, targetCPU   float64
	targetMeasured         bool
	sent, received         float64
	errors                 map[string]int64
	intervals              int
	status                 Status
	failure                string
	generatorBound         bool
	warnings               []string
	concurrency            int
	handshakeDelayMS       float64
	seed                   uint64
	startOffset            time.Duration
	unconfirmed, noConnect bool
	// shiftUs is added to every handshake latency (a server-side delay).
	shiftUs int64
}

func (s caseSpec) name() string {
	mode := "full"
	if s.resume != "none" {
		mode = "resumed"
	}
	return "tls" + s.version + "-" + mode + "-" + s.keyType + "-" + s.group
}

func (s caseSpec) key() string {
	return "v=" + s.version + ",resume=" + s.resume + ",key=" + s.keyType + ",group=" + s.group
}

// latencies draws the handshake latencies (µs) of the case, in the order
// they were "recorded".
func (s caseSpec) latencies() []int64 {
	rng := rand.New(rand.NewPCG(s.seed, 0x6d746c73))
	n := int(s.rate * s.durationS)
	values := make([]int64, n)
	for i := range values {
		v := s.medianUs * math.Exp(s.sigma*rng.NormFloat64())
		if s.tailEvery > 0 && rng.IntN(s.tailEvery) == 0 {
			v *= s.tailFactor
		}
		values[i] = max(1, int64(v)) + s.shiftUs
	}
	return values
}

func histogramOf(values []int64) *hdrhistogram.Histogram {
	h := NewHistogram()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			panic(err)
		}
	}
	return h
}

// build makes the Case: real HDR histograms of the drawn values, counts
// that agree with them, and an interval series when asked for.
func (s caseSpec) build(runStart time.Time) Case {
	start := runStart.Add(s.startOffset)
	values := s.latencies()
	var errs int64
	for _, n := range s.errors {
		errs += n
	}
	ok := int64(len(values))
	resumed := int64(0)
	if s.resume != "none" {
		resumed = ok - ok/100 // each worker's first handshake is full
	}
	status := s.status
	if status == "" {
		status = StatusOK
	}
	c := Case{
		Name:   s.name(),
		Key:    s.key(),
		Repeat: s.repeat,
		Params: Params{
			TLSVersion: s.version, Group: s.group, KeyType: s.keyType, ClientKeyType: s.keyType,
			Chain: "root", ClientIdentities: 1, Resume: s.resume, Concurrency: max(1, s.concurrency),
			Requests: 0, Target: "builtin", TargetMode: "handshake", HandshakeDelayMS: s.handshakeDelayMS,
		},
		Status:         status,
		Failure:        s.failure,
		Acceptance:     AcceptanceConfirmed,
		ServerVerified: true,
		Start:          start,
		DurationS:      s.durationS,
		WarmupS:        0.5,
		Counts:         Counts{Attempted: ok + errs, OK: ok, Resumed: resumed, Errors: errs},
		Errors:         map[string]int64{},
		Negotiated: []Negotiated{
			{TLSVersion: s.version, CipherSuite: suiteFor(s.version), Group: s.group, Resumed: false, ServerKeyType: s.keyType, Count: ok - resumed},
		},
		HandshakesPerS: float64(ok) / s.durationS,
		Bytes: Bytes{
			HandshakeSentMean: s.sent, HandshakeReceivedMean: s.received,
			TotalSent: int64(s.sent * float64(ok+errs)), TotalReceived: int64(s.received * float64(ok+errs)),
		},
		CPU: CPU{
			ClientUsPerHandshake: s.clientCPU, TargetUsPerHandshake: s.targetCPU,
			ClientUtilization: s.clientCPU * float64(ok) / s.durationS / 1e6,
			ClientCores:       2, TargetMeasured: s.targetMeasured,
		},
		Load:           &LoadReport{Model: "closed"},
		GeneratorBound: s.generatorBound,
		Warnings:       s.warnings,
	}
	if s.unconfirmed {
		c.Acceptance = AcceptanceUnconfirmed
	}
	if s.targetMeasured {
		c.CPU.TargetUtilization = s.targetCPU * float64(ok) / s.durationS / 1e6
		c.TargetCounts = &TargetCounts{Source: "builtin", Handshakes: ok + errs, Resumed: resumed, Versions: map[string]int64{s.version: ok}}
	}
	if resumed > 0 {
		c.Negotiated = append(c.Negotiated, Negotiated{TLSVersion: s.version, CipherSuite: suiteFor(s.version), Group: s.group, Resumed: true, ServerKeyType: s.keyType, Count: resumed})
	}
	for class, n := range s.errors {
		c.Errors[class] = n
	}
	if len(s.errors) > 0 {
		c.ErrorExamples = map[string]string{}
		for class := range s.errors {
			c.ErrorExamples[class] = exampleFor(class)
		}
	}
	hs := histogramOf(values)
	sum := Summarize(hs)
	c.Latency.Handshake = &sum
	if !s.noConnect {
		connect := make([]int64, len(values))
		total := make([]int64, len(values))
		for i, v := range values {
			connect[i] = 40 + int64(i%37)
			total[i] = v + connect[i] + 15
		}
		cs, ts := Summarize(histogramOf(connect)), Summarize(histogramOf(total))
		c.Latency.Connect, c.Latency.Total = &cs, &ts
	}
	if s.intervals > 0 {
		// Intervals get uneven shares of the values (a slow first
		// interval, then some wobble) so the series has a shape.
		step := s.durationS / float64(s.intervals)
		weights := make([]float64, s.intervals)
		var total float64
		for i := range weights {
			weights[i] = 1 + 0.12*math.Sin(float64(i)*1.7)
			if i == 0 {
				weights[i] = 0.7
			}
			total += weights[i]
		}
		var cum float64
		for i := range s.intervals {
			lo := int(cum / total * float64(len(values)))
			cum += weights[i]
			hi := int(cum / total * float64(len(values)))
			h := histogramOf(values[lo:hi])
			c.Intervals = append(c.Intervals, Interval{
				OffsetS: float64(i) * step, DurationS: step,
				HandshakesPerS: float64(hi-lo) / step,
				P50Us:          h.ValueAtQuantile(50), P99Us: h.ValueAtQuantile(99),
				Resumed: resumed * int64(hi-lo) / max(1, ok), InFlight: int64(max(1, s.concurrency)),
				HDR: EncodeHDR(h),
			})
		}
	}
	return c
}

func suiteFor(version string) string {
	if version == "1.2" {
		return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
	}
	return "TLS_AES_128_GCM_SHA256"
}

func exampleFor(class string) string {
	switch class {
	case "unknown_ca":
		return "remote error: tls: unknown certificate authority"
	case "io":
		return "read tcp 127.0.0.1:41022->127.0.0.1:8443: read: connection reset by peer"
	default:
		return "tls: " + class
	}
}

// fixtureSpecs is the default-like matrix: TLS 1.2 and 1.3, full and
// resumed, ECDSA P-256 and X25519, with one case of each condition the
// renderers must show (errors, generator-bound, cross-check failure).
func fixtureSpecs() []caseSpec {
	return []caseSpec{
		{version: "1.2", resume: "none", keyType: "ecdsa-p256", group: "x25519", rate: 1850, durationS: 2,
			medianUs: 2100, sigma: 0.25, tailEvery: 400, tailFactor: 6, clientCPU: 310, targetCPU: 402, targetMeasured: true,
			sent: 1162, received: 1735, concurrency: 4, seed: 1},
		{version: "1.2", resume: "tickets", keyType: "ecdsa-p256", group: "x25519", rate: 6200, durationS: 2,
			medianUs: 610, sigma: 0.3, tailEvery: 300, tailFactor: 8, clientCPU: 92, targetCPU: 118, targetMeasured: true,
			sent: 412, received: 376, concurrency: 4, seed: 2, startOffset: 3 * time.Second,
			errors: map[string]int64{"resume_miss": 3}},
		{version: "1.3", resume: "none", keyType: "ecdsa-p256", group: "x25519", rate: 1620, durationS: 2,
			medianUs: 2400, sigma: 0.22, tailEvery: 500, tailFactor: 5, clientCPU: 335, targetCPU: 428, targetMeasured: true,
			sent: 1190, received: 1802, concurrency: 4, seed: 3, startOffset: 6 * time.Second, intervals: 8,
			errors: map[string]int64{"unknown_ca": 12, "io": 2}, status: StatusCrosscheckFailed,
			failure: "target counted 3258 handshakes, client 3240 (0.6%) and 12 verify failures the client did not see"},
		{version: "1.3", resume: "tickets", keyType: "ecdsa-p256", group: "x25519", rate: 5400, durationS: 2,
			medianUs: 700, sigma: 0.35, tailEvery: 250, tailFactor: 10, clientCPU: 121, targetCPU: 133, targetMeasured: true,
			sent: 603, received: 1021, concurrency: 4, seed: 4, startOffset: 9 * time.Second, intervals: 8,
			generatorBound: true, warnings: []string{"generator CPU 93% of 2 cores: add cores or lower -c"}},
	}
}

// fixtureRun is a realistic result of the default matrix. It is built the
// same way on every call.
func fixtureRun() *Run {
	run := &Run{
		Schema: Schema,
		Tool:   Tool{Name: "mtlsbench", Version: "v0.1.0", GoVersion: "go1.26.0"},
		Start:  fixtureStart,
		End:    fixtureStart.Add(12 * time.Second),
		Environment: Environment{
			Hostname: "ci-runner-7", OS: "linux", Arch: "amd64", Kernel: "6.8.0",
			CPUModel: "AMD EPYC 7B13", Cores: 2, GOMAXPROCS: 2,
		},
		Scenario: Scenario{Name: "default", Source: "embedded", Spec: json.RawMessage(`{"name":"default","duration":"2s"}`)},
	}
	for _, s := range fixtureSpecs() {
		run.Cases = append(run.Cases, s.build(fixtureStart))
	}
	return run
}
