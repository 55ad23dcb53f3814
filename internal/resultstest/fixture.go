// Package resultstest builds synthetic results for the tests of results,
// report and compare: realistic runs with real HDR histograms, drawn from
// fixed seeds so every call gives the same bytes, and the golden-file
// helper their renderer tests share. Only tests import it.
package resultstest

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

	"github.com/mtlsbench/mtlsbench/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Golden compares got with testdata/name in the package under test, or
// rewrites it when the test runs with -update.
func Golden(t *testing.T, name string, got []byte) {
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
	rerun := "go test -update"
	if dir, err := os.Getwd(); err == nil {
		rerun = "go test ./" + filepath.Base(dir) + " -update"
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run '%s' to create it)", err, rerun)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run '%s' and review the diff.\n--- got:\n%s", path, rerun, clip(got))
	}
}

func clip(b []byte) []byte {
	if len(b) > 4000 {
		return append(b[:4000:4000], "\n…"...)
	}
	return b
}

// Start is the fixed start of the fixture runs: nothing in them depends on
// the wall clock.
var Start = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// CaseSpec describes one synthetic case: its parameters and the shape of
// the distributions its values are drawn from.
type CaseSpec struct {
	Version, Resume, KeyType, Group string
	Repeat                          int
	// Rate is the handshake rate; DurationS the window; the count of
	// handshakes is their product.
	Rate, DurationS float64
	// MedianUs and Sigma shape a log-normal handshake latency; one value
	// in TailEvery is multiplied by TailFactor (scheduler hiccups).
	MedianUs, Sigma        float64
	TailEvery              int
	TailFactor             float64
	ClientCPU, TargetCPU   float64
	TargetMeasured         bool
	Sent, Received         float64
	Errors                 map[string]int64
	Intervals              int
	Status                 results.Status
	Failure                string
	GeneratorBound         bool
	Warnings               []string
	Concurrency            int
	HandshakeDelayMS       float64
	Seed                   uint64
	StartOffset            time.Duration
	Unconfirmed, NoConnect bool
	// ShiftUs is added to every handshake latency (a server-side delay).
	ShiftUs int64
}

// Name is the case name the spec gets, as bench would name it.
func (s CaseSpec) Name() string {
	mode := "full"
	if s.Resume != "none" {
		mode = "resumed"
	}
	return "tls" + s.Version + "-" + mode + "-" + s.KeyType + "-" + s.Group
}

// Key is the case key the spec gets.
func (s CaseSpec) Key() string {
	return "v=" + s.Version + ",resume=" + s.Resume + ",key=" + s.KeyType + ",group=" + s.Group
}

// Latencies draws the handshake latencies (µs) of the case, in the order
// they were "recorded".
func (s CaseSpec) Latencies() []int64 {
	rng := rand.New(rand.NewPCG(s.Seed, 0x6d746c73))
	n := int(s.Rate * s.DurationS)
	values := make([]int64, n)
	for i := range values {
		v := s.MedianUs * math.Exp(s.Sigma*rng.NormFloat64())
		if s.TailEvery > 0 && rng.IntN(s.TailEvery) == 0 {
			v *= s.TailFactor
		}
		values[i] = max(1, int64(v)) + s.ShiftUs
	}
	return values
}

func histogramOf(values []int64) *hdrhistogram.Histogram {
	h := results.NewHistogram()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			panic(err)
		}
	}
	return h
}

// Build makes the Case, its window starting StartOffset after runStart:
// real HDR histograms of the drawn values, counts that agree with them,
// and an interval series when asked for.
func (s CaseSpec) Build(runStart time.Time) results.Case {
	start := runStart.Add(s.StartOffset)
	values := s.Latencies()
	var errs int64
	for _, n := range s.Errors {
		errs += n
	}
	ok := int64(len(values))
	resumed := int64(0)
	if s.Resume != "none" {
		resumed = ok - ok/100 // each worker's first handshake is full
	}
	status := s.Status
	if status == "" {
		status = results.StatusOK
	}
	c := results.Case{
		Name:   s.Name(),
		Key:    s.Key(),
		Repeat: s.Repeat,
		Params: results.Params{
			TLSVersion: s.Version, Group: s.Group, KeyType: s.KeyType, ClientKeyType: s.KeyType,
			Chain: "root", ClientIdentities: 1, Resume: s.Resume, Concurrency: max(1, s.Concurrency),
			Requests: 0, Target: "builtin", TargetMode: "handshake", HandshakeDelayMS: s.HandshakeDelayMS,
		},
		Status:         status,
		Failure:        s.Failure,
		Acceptance:     results.AcceptanceConfirmed,
		ServerVerified: true,
		Start:          start,
		DurationS:      s.DurationS,
		WarmupS:        0.5,
		Counts:         results.Counts{Attempted: ok + errs, OK: ok, Resumed: resumed, Errors: errs},
		Errors:         map[string]int64{},
		Negotiated: []results.Negotiated{
			{TLSVersion: s.Version, CipherSuite: suiteFor(s.Version), Group: s.Group, Resumed: false, ServerKeyType: s.KeyType, Count: ok - resumed},
		},
		HandshakesPerS: float64(ok) / s.DurationS,
		Bytes: results.Bytes{
			HandshakeSentMean: s.Sent, HandshakeReceivedMean: s.Received,
			TotalSent: int64(s.Sent * float64(ok+errs)), TotalReceived: int64(s.Received * float64(ok+errs)),
		},
		CPU: results.CPU{
			ClientUsPerHandshake: s.ClientCPU, TargetUsPerHandshake: s.TargetCPU,
			ClientUtilization: s.ClientCPU * float64(ok) / s.DurationS / 1e6,
			ClientCores:       2, TargetMeasured: s.TargetMeasured,
		},
		Load:           &results.LoadReport{Model: "closed"},
		GeneratorBound: s.GeneratorBound,
		Warnings:       s.Warnings,
	}
	if s.Unconfirmed {
		c.Acceptance = results.AcceptanceUnconfirmed
	}
	if s.TargetMeasured {
		c.CPU.TargetUtilization = s.TargetCPU * float64(ok) / s.DurationS / 1e6
		c.TargetCounts = &results.TargetCounts{Source: "builtin", Handshakes: ok + errs, Resumed: resumed, Versions: map[string]int64{s.Version: ok}}
	}
	if resumed > 0 {
		c.Negotiated = append(c.Negotiated, results.Negotiated{TLSVersion: s.Version, CipherSuite: suiteFor(s.Version), Group: s.Group, Resumed: true, ServerKeyType: s.KeyType, Count: resumed})
	}
	for class, n := range s.Errors {
		c.Errors[class] = n
	}
	if len(s.Errors) > 0 {
		c.ErrorExamples = map[string]string{}
		for class := range s.Errors {
			c.ErrorExamples[class] = exampleFor(class)
		}
	}
	hs := histogramOf(values)
	sum := results.Summarize(hs)
	c.Latency.Handshake = &sum
	if !s.NoConnect {
		connect := make([]int64, len(values))
		total := make([]int64, len(values))
		for i, v := range values {
			connect[i] = 40 + int64(i%37)
			total[i] = v + connect[i] + 15
		}
		cs, ts := results.Summarize(histogramOf(connect)), results.Summarize(histogramOf(total))
		c.Latency.Connect, c.Latency.Total = &cs, &ts
	}
	if s.Intervals > 0 {
		// Intervals get uneven shares of the values (a slow first
		// interval, then some wobble) so the series has a shape.
		step := s.DurationS / float64(s.Intervals)
		weights := make([]float64, s.Intervals)
		var total float64
		for i := range weights {
			weights[i] = 1 + 0.12*math.Sin(float64(i)*1.7)
			if i == 0 {
				weights[i] = 0.7
			}
			total += weights[i]
		}
		var cum float64
		for i := range s.Intervals {
			lo := int(cum / total * float64(len(values)))
			cum += weights[i]
			hi := int(cum / total * float64(len(values)))
			h := histogramOf(values[lo:hi])
			c.Intervals = append(c.Intervals, results.Interval{
				OffsetS: float64(i) * step, DurationS: step,
				HandshakesPerS: float64(hi-lo) / step,
				P50Us:          h.ValueAtQuantile(50), P99Us: h.ValueAtQuantile(99),
				Resumed: resumed * int64(hi-lo) / max(1, ok), InFlight: int64(max(1, s.Concurrency)),
				HDR: results.EncodeHDR(h),
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
func fixtureSpecs() []CaseSpec {
	return []CaseSpec{
		{Version: "1.2", Resume: "none", KeyType: "ecdsa-p256", Group: "x25519", Rate: 1850, DurationS: 2,
			MedianUs: 2100, Sigma: 0.25, TailEvery: 400, TailFactor: 6, ClientCPU: 310, TargetCPU: 402, TargetMeasured: true,
			Sent: 1162, Received: 1735, Concurrency: 4, Seed: 1},
		{Version: "1.2", Resume: "tickets", KeyType: "ecdsa-p256", Group: "x25519", Rate: 6200, DurationS: 2,
			MedianUs: 610, Sigma: 0.3, TailEvery: 300, TailFactor: 8, ClientCPU: 92, TargetCPU: 118, TargetMeasured: true,
			Sent: 412, Received: 376, Concurrency: 4, Seed: 2, StartOffset: 3 * time.Second,
			Errors: map[string]int64{"resume_miss": 3}},
		{Version: "1.3", Resume: "none", KeyType: "ecdsa-p256", Group: "x25519", Rate: 1620, DurationS: 2,
			MedianUs: 2400, Sigma: 0.22, TailEvery: 500, TailFactor: 5, ClientCPU: 335, TargetCPU: 428, TargetMeasured: true,
			Sent: 1190, Received: 1802, Concurrency: 4, Seed: 3, StartOffset: 6 * time.Second, Intervals: 8,
			Errors: map[string]int64{"unknown_ca": 12, "io": 2}, Status: results.StatusCrosscheckFailed,
			Failure: "target counted 3258 handshakes, client 3240 (0.6%) and 12 verify failures the client did not see"},
		{Version: "1.3", Resume: "tickets", KeyType: "ecdsa-p256", Group: "x25519", Rate: 5400, DurationS: 2,
			MedianUs: 700, Sigma: 0.35, TailEvery: 250, TailFactor: 10, ClientCPU: 121, TargetCPU: 133, TargetMeasured: true,
			Sent: 603, Received: 1021, Concurrency: 4, Seed: 4, StartOffset: 9 * time.Second, Intervals: 8,
			GeneratorBound: true, Warnings: []string{"generator CPU 93% of 2 cores: add cores or lower -c"}},
	}
}

// DefaultRun is a realistic result of the default matrix. It is built the
// same way on every call.
func DefaultRun() *results.Run {
	run := &results.Run{
		Schema: results.Schema,
		Tool:   results.Tool{Name: "mtlsbench", Version: "v0.1.0", GoVersion: "go1.26.0"},
		Start:  Start,
		End:    Start.Add(12 * time.Second),
		Environment: results.Environment{
			Hostname: "ci-runner-7", OS: "linux", Arch: "amd64", Kernel: "6.8.0",
			CPUModel: "AMD EPYC 7B13", Cores: 2, GOMAXPROCS: 2,
		},
		Scenario: results.Scenario{Name: "default", Source: "embedded", Spec: json.RawMessage(`{"name":"default","duration":"2s"}`)},
	}
	for _, s := range fixtureSpecs() {
		run.Cases = append(run.Cases, s.Build(Start))
	}
	return run
}

// GateSpec is the case the compare tests vary: a TLS 1.3 full handshake
// on a busy machine.
func GateSpec() CaseSpec {
	return CaseSpec{Version: "1.3", Resume: "none", KeyType: "ecdsa-p256", Group: "x25519", Rate: 1500, DurationS: 1,
		MedianUs: 2400, Sigma: 0.25, TailEvery: 500, TailFactor: 4, ClientCPU: 330, TargetCPU: 420, TargetMeasured: true,
		Sent: 1190, Received: 1802, Concurrency: 4}
}

// Samples builds a run of n repeats of each spec. noise scales each
// repeat's rate, latency and CPU by a factor drawn uniformly from
// [1-noise, 1+noise] (deterministically, from seed).
func Samples(seed uint64, n int, noise float64, specs ...CaseSpec) *results.Run {
	rng := rand.New(rand.NewPCG(seed, 7))
	run := &results.Run{Schema: results.Schema, Tool: results.Tool{Name: "mtlsbench", Version: "v0.1.0"}, Start: Start,
		Scenario: results.Scenario{Name: "gate"}}
	for _, spec := range specs {
		for r := range n {
			s := spec
			s.Repeat = r
			s.Seed = seed*1000 + uint64(r)
			f := 1 + noise*(2*rng.Float64()-1)
			s.Rate *= 1 / f
			s.MedianUs *= f
			s.ClientCPU *= f
			s.TargetCPU *= f
			s.StartOffset = time.Duration(r) * 2 * time.Second
			run.Cases = append(run.Cases, s.Build(Start))
		}
	}
	return run
}

// ShardRunID is the run ID of every ShardRun.
const ShardRunID = "gate-20250314"

// ShardRun is shard index of count of run ShardRunID on host: the gate
// case recorded from seed as an open loop, its window starting offset
// after the common start. Like a real shard it records the whole run's
// parameters (a rate of 1500/s per shard, so 1500·count/s) and its share
// of the load in Load, and its first starts striped at the run's rate.
func ShardRun(host string, index, count int, seed uint64, offset time.Duration, cpu float64) *results.Run {
	s := GateSpec()
	s.Seed = seed
	s.StartOffset = offset
	s.Intervals = 4
	s.DurationS = 2
	s.ClientCPU = cpu
	s.Errors = map[string]int64{"io": int64(seed)}
	run := &results.Run{
		Schema: results.Schema, Tool: results.Tool{Name: "mtlsbench", Version: "v0.1.0"},
		Start: Start.Add(offset), End: Start.Add(offset + 2*time.Second),
		Environment: results.Environment{Hostname: host, OS: "linux", Arch: "amd64", Cores: 2, GOMAXPROCS: 2},
		Scenario:    results.Scenario{Name: "gate"},
		RunID:       ShardRunID,
		Shard:       &results.Shard{Index: index, Count: count},
	}
	c := s.Build(Start)
	rate := s.Rate * float64(count)
	c.Params.Rate, c.Params.Concurrency = rate, 0
	const maxInFlight = 64
	share := maxInFlight / count
	if index < maxInFlight%count {
		share++
	}
	c.Load = &results.LoadReport{Model: "open", TargetRate: s.Rate, AchievedRate: s.Rate, MaxInFlight: share, PeakInFlight: 9}
	c.Shard = &results.CaseShard{Planned: Start, StartsUs: StripedStarts(index, count, rate)}
	run.Cases = append(run.Cases, c)
	return run
}

// StripedStarts is shard index of count's first 1,000 starts of a
// uniform open loop at rate (the run's total), in µs from the planned
// instant: the run's starts index, index+count, index+2·count, …
func StripedStarts(index, count int, rate float64) []int64 {
	starts := make([]int64, 1000)
	for k := range starts {
		starts[k] = int64(math.Round(float64(k*count+index) * 1e6 / rate))
	}
	return starts
}
