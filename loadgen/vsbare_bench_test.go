package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/targets/builtin"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// vsBareCases are the handshakes the engine and the bare loop are
// compared on.
var vsBareCases = []struct {
	name    string
	version uint16
	resume  bool
}{
	{"tls1.3-full", tls.VersionTLS13, false},
	{"tls1.3-resumed", tls.VersionTLS13, true},
	{"tls1.2-full", tls.VersionTLS12, false},
	{"tls1.2-resumed", tls.VersionTLS12, true},
}

// The engine against the bare crypto/tls loop (RunBare), side by side in one
// benchmark, on the built-in target in a child process pinned to its own
// core (when there are two or more), this process pinned to the others.
//
// Each iteration interleaves vsBareSlices windows of the engine and of the
// bare loop, vsBareSlice long each after a short warm-up (so priming
// handshakes and setup are outside them). Over each window it takes the
// process's CPU time (getrusage: user+system, all threads, GC included)
// and heap allocations (MemStats.Mallocs, as -benchmem counts them), and
// divides by the handshakes completed in it. The metrics are per
// handshake:
//
//	engine-cpu-µs/hs, bare-cpu-µs/hs   generator CPU
//	ratio                              engine / bare (goal: ≤ 1.10)
//	engine-allocs/hs, bare-allocs/hs   heap allocations
//	extra-allocs/hs                    engine − bare (goal: ≤ 0)
//	engine-hs/s, bare-hs/s             throughput, for context
//
// ns/op is the time of one iteration (all the windows), not a figure to
// read. Run longer for tighter ratios: -benchtime=10x.
func BenchmarkEngineVsBare(b *testing.B) {
	bundle := bundle(b, pki.ECDSAP256)
	addr := startPinnedTarget(b, bundle)
	for _, tc := range vsBareCases {
		for _, conc := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/c%d", tc.name, conc), func(b *testing.B) {
				var eng, bare vsBareTotals
				for b.Loop() {
					for range vsBareSlices {
						eng.add(b, engineWindow(b, addr, bundle, tc.version, tc.resume, conc))
						bare.add(b, bareWindow(b, addr, bundle, tc.version, tc.resume, conc))
					}
				}
				eng.report(b, "engine")
				bare.report(b, "bare")
				b.ReportMetric(eng.cpuPerHS()/bare.cpuPerHS(), "ratio")
				b.ReportMetric(eng.allocsPerHS()-bare.allocsPerHS(), "extra-allocs/hs")
			})
		}
	}
}

const (
	vsBareSlices = 3
	vsBareSlice  = 400 * time.Millisecond
	vsBareWarmup = 100 * time.Millisecond
)

// windowSample is what one window cost.
type windowSample struct {
	handshakes int64
	cpu        time.Duration
	mallocs    uint64
	wall       time.Duration
}

type vsBareTotals struct{ windowSample }

func (t *vsBareTotals) add(b *testing.B, s windowSample) {
	if s.handshakes == 0 {
		b.Fatal("a window completed no handshake")
	}
	t.handshakes += s.handshakes
	t.cpu += s.cpu
	t.mallocs += s.mallocs
	t.wall += s.wall
}

func (t *vsBareTotals) cpuPerHS() float64 {
	return float64(t.cpu.Microseconds()) / float64(t.handshakes)
}

func (t *vsBareTotals) allocsPerHS() float64 { return float64(t.mallocs) / float64(t.handshakes) }

func (t *vsBareTotals) report(b *testing.B, who string) {
	b.ReportMetric(t.cpuPerHS(), who+"-cpu-µs/hs")
	b.ReportMetric(t.allocsPerHS(), who+"-allocs/hs")
	b.ReportMetric(float64(t.handshakes)/t.wall.Seconds(), who+"-hs/s")
}

// windowSampler is an Observer that samples CPU and allocations at the
// window's edges.
type windowSampler struct {
	cpu0     time.Duration
	mallocs0 uint64
	t0       time.Time
	s        windowSample
}

func (w *windowSampler) WindowStart(t time.Time) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.mallocs0 = ms.Mallocs
	w.t0 = time.Now()
	w.cpu0 = procstat.Self()
}

func (w *windowSampler) WindowEnd(time.Time) {
	w.s.cpu = procstat.Self() - w.cpu0
	w.s.wall = time.Since(w.t0)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.s.mallocs = ms.Mallocs - w.mallocs0
}

func (w *windowSampler) Interval(results.Interval) {}
func (w *windowSampler) Progress(Progress)         {}

func vsBareTLS(bundle *pki.Bundle, version uint16) *tls.Config {
	return &tls.Config{
		RootCAs: bundle.RootPool(), ServerName: "localhost",
		MinVersion: version, MaxVersion: version,
		CurvePreferences: []tls.CurveID{tls.X25519},
	}
}

func engineWindow(b *testing.B, addr string, bundle *pki.Bundle, version uint16, resume bool, conc int) windowSample {
	var obs windowSampler
	cfg := Config{
		Addr: addr, TLS: caseParams(version, tls.X25519), Roots: bundle.RootPool(), ServerName: "localhost",
		Identities:  bundle.ClientCertificates()[:1],
		Concurrency: conc, Warmup: vsBareWarmup, Duration: vsBareSlice, Observer: &obs,
	}
	if resume {
		cfg.TLS.Resume = tlsparams.ResumeTickets
	}
	// A window with a priming (full) handshake in it, which only a
	// machine busy enough to stretch the warm-up gives, is run again: its
	// CPU would count against the engine.
	for range 3 {
		res, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if res.Errors != 0 || (resume && res.Resumed != res.OK) || (!resume && res.Resumed != 0) {
			b.Fatalf("engine: ok %d resumed %d errors %v", res.OK, res.Resumed, res.Examples)
		}
		if res.Primed == 0 {
			obs.s.handshakes = res.OK
			return obs.s
		}
	}
	b.Fatal("engine: priming handshakes in the window three times: the warm-up is too short for this machine")
	return windowSample{}
}

func bareWindow(b *testing.B, addr string, bundle *pki.Bundle, version uint16, resume bool, conc int) windowSample {
	var obs windowSampler
	res, err := RunBare(context.Background(), BareConfig{
		Addr: addr, TLS: vsBareTLS(bundle, version), Identity: bundle.ClientCertificates()[0], Resume: resume,
		Concurrency: conc, Warmup: vsBareWarmup, Duration: vsBareSlice, Observer: &obs,
	})
	if err != nil {
		b.Fatal(err)
	}
	if (resume && res.Resumed != res.Handshakes) || (!resume && res.Resumed != 0) {
		b.Fatalf("bare: %d handshakes, %d resumed", res.Handshakes, res.Resumed)
	}
	obs.s.handshakes = res.Handshakes
	return obs.s
}

// startPinnedTarget starts the built-in target in a child process. With two
// or more CPUs it pins the child to the last CPU this process may use and
// this process to the others, restoring the affinity when b ends.
func startPinnedTarget(b *testing.B, bundle *pki.Bundle) string {
	b.Helper()
	cfg := targets.Config{Identity: bundle.Server, ClientCAs: []*x509.Certificate{bundle.Root.Cert}}
	cpus, err := cpuset.Allowed()
	if err != nil {
		b.Fatal(err)
	}
	var old cpuset.Set
	for _, c := range cpus {
		old.Set(c)
	}
	switch {
	case len(cpus) < 2:
		b.Logf("one CPU: target and generator share it")
	default:
		last := cpus[len(cpus)-1]
		gen := old
		gen.Clear(last)
		procs := runtime.GOMAXPROCS(0)
		err := cpuset.PinSelf(gen)
		if errors.Is(err, cpuset.ErrUnsupported) {
			b.Logf("target and generator not pinned: %v", err)
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		cfg.CPUs = strconv.Itoa(last)
		b.Cleanup(func() {
			_ = cpuset.PinSelf(old)
			runtime.GOMAXPROCS(procs)
		})
		b.Logf("target pinned to CPU %d, generator to the other %d", last, len(cpus)-1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg.ChildCommand = []string{os.Args[0], "-test.run=^TestTargetChildHelper$", "--", targetChildArg}
	p, err := builtin.StartProcess(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p.Addr()
}

// targetChildArg marks a run of this test binary as the benchmark's target.
const targetChildArg = "mtlsbench-loadgen-target"

// TestTargetChildHelper is not a test: it is the target child process of
// the benchmarks, and skips when run normally.
func TestTargetChildHelper(t *testing.T) {
	args := flag.Args()
	if len(args) != 1 || args[0] != targetChildArg {
		t.Skip("the target side of the benchmarks; runs only when they start it")
	}
	if err := builtin.RunChild(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// BenchmarkConnection is one connection at a time, engine (a worker's
// connection, as Run drives it) and bare loop, against the pinned built-in
// target: allocs/op is exactly the heap allocations per handshake, and
// -memprofile shows where they come from.
func BenchmarkConnection(b *testing.B) {
	bundle := bundle(b, pki.ECDSAP256)
	addr := startPinnedTarget(b, bundle)
	for _, tc := range vsBareCases {
		b.Run(tc.name+"/engine", func(b *testing.B) {
			cfg := Config{
				Addr: addr, TLS: caseParams(tc.version, tls.X25519), Roots: bundle.RootPool(), ServerName: "localhost",
				Identities: bundle.ClientCertificates()[:1],
			}
			if tc.resume {
				cfg.TLS.Resume = tlsparams.ResumeTickets
			}
			cfg = cfg.withDefaults()
			target, err := resolveTarget(cfg.Addr, cfg.SourceAddrs)
			if err != nil {
				b.Fatal(err)
			}
			e := newEngine(cfg, target)
			e.t0 = time.Now()
			e.wsOff.Store(0)
			w := e.addWorker()
			w.connection(time.Time{}) // priming
			b.ReportAllocs()
			for b.Loop() {
				w.connection(time.Time{})
			}
			if n := w.failed.Load(); n != 0 {
				b.Fatalf("%d failed: %v", n, w.examples)
			}
			if tc.resume && w.resumed != w.ok.Load() {
				b.Fatalf("resumed %d of %d", w.resumed, w.ok.Load())
			}
		})
		b.Run(tc.name+"/bare", func(b *testing.B) {
			c := BareConfig{Addr: addr, TLS: vsBareTLS(bundle, tc.version), Identity: bundle.ClientCertificates()[0], Resume: tc.resume}
			cfg := c.TLS.Clone()
			cfg.Certificates = []tls.Certificate{c.Identity}
			cfg.ClientSessionCache = discardSessions{}
			if tc.resume {
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
			}
			var rc recordConn
			buf := make([]byte, 4096)
			if _, err := bareConnection(c, cfg, &rc, buf); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				resumed, err := bareConnection(c, cfg, &rc, buf)
				if err != nil || resumed != tc.resume {
					b.Fatalf("resumed %v, error %v", resumed, err)
				}
			}
		})
	}
}
