package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/capacity"
	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/internal/testenv"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// requireServer ends a test when kind's server cannot run here (nginx:
// with its stream module, for handshake mode): testenv skips with the
// command that installs it, or fails under MTLSBENCH_REQUIRE_SERVERS=1.
func requireServer(t *testing.T, kind string) {
	t.Helper()
	if kind == scenarios.KindNginx {
		testenv.NginxStream(t)
		return
	}
	testenv.Program(t, kind, kind) // haproxy, openssl: binary and package share the name
}

// capacityTestCase is a case whose target, not the generator, should be
// the limit: the server signs with RSA-3072 (milliseconds per handshake)
// on one CPU of its own, while the client signs with ECDSA P-256 (tens of
// µs). Even so, on a busy two-core machine the generator may run short of
// CPU first; the tests accept that answer when it is reported as a lower
// bound.
func capacityTestCase(t *testing.T, kind string) scenarios.Case {
	t.Helper()
	spec := &scenarios.Spec{
		Name:   "capacity-test",
		Target: scenarios.TargetSpec{Kind: kind},
		Matrix: scenarios.Matrix{TLS: []string{"1.3"}, ServerKey: []string{"rsa3072"}, ClientKey: []string{"ecdsa-p256"}},
	}
	if runtime.NumCPU() >= 2 {
		spec.Target.CPUs = fmt.Sprint(runtime.NumCPU() - 1)
	}
	if kind != scenarios.KindBuiltin {
		spec.Target.Workers = 1
	}
	cases, _, err := scenarios.Expand(*spec)
	if err != nil || len(cases) != 1 {
		t.Fatalf("expand: %v (%d cases)", err, len(cases))
	}
	cases[0].Load.Timeout = scenarios.Duration(3 * time.Second)
	return cases[0]
}

// testSearch is short: 1 s windows after 300 ms warm-ups, 10% resolution,
// at most 12 steps (about 20 s with the start-up), with a 5% margin under
// the SLO's 100 ms p99 that the verification runs use.
func testSearch(t *testing.T) scenarios.CapacitySearch {
	slo, err := capacity.ParseSLO("p99<100ms,errors<1%")
	if err != nil {
		t.Fatal(err)
	}
	return scenarios.CapacitySearch{
		Config:       capacity.Config{SLO: slo, Start: 50, Max: 5000, Resolution: 0.1, MaxSteps: 12},
		StepDuration: time.Second,
		StepWarmup:   300 * time.Millisecond,
		Project:      []float64{20000},
	}
}

// liveSearch bounds the tests that run a real search to about ten seconds
// each (make test runs them alone, after the parallel packages): 1 s
// windows after 300 ms warm-ups, starting at 100/s, at most 10 steps
// (room for the confirmation after a 100→800/s growth and its bisection); the
// 10% resolution stays, so a rate 50% above the answer is well above the
// first failure. A search that runs out of steps is a lower bound, which the
// tests accept when it says so. Shorter steps made the answer noise: at
// 100/s a 500 ms window holds 50 starts, so a start or two slipping past
// its edge, or the first step's cold start after 150 ms of warm-up, read
// as "achieved 92%" and failed a rate the target sustains.
func liveSearch(t *testing.T) scenarios.CapacitySearch {
	s := testSearch(t)
	s.Config.Start = 100
	s.Config.MaxSteps = 10
	s.StepDuration = time.Second
	s.StepWarmup = 300 * time.Millisecond
	return s
}

// TestCapacityBuiltin and TestCapacityNginx run a real search and then
// check its answer the way a user would: a repeat run at the rate found,
// less the search's resolution, meets the SLO, and a run 50% above it does not — or, when the generator
// saturated first, that the answer says it is a lower bound and is one.
func TestCapacityBuiltin(t *testing.T) { testCapacity(t, scenarios.KindBuiltin) }

func TestCapacityNginx(t *testing.T) {
	requireServer(t, "nginx")
	testCapacity(t, scenarios.KindNginx)
}

func testCapacity(t *testing.T, kind string) {
	if testing.Short() {
		t.Skip("a capacity search runs load for about 10 s: make test runs it alone")
	}
	c := capacityTestCase(t, kind)
	search := liveSearch(t)
	var progress strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := Capacity(ctx, CapacityOptions{
		Options: Options{Cases: []scenarios.Case{c}, ChildCommand: childCommand(), Progress: &progress},
		Search:  search,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("search:\n%s", progress.String())
	if len(run.Cases) != 1 || run.Cases[0].Capacity == nil {
		t.Fatalf("result: %+v", run.Cases)
	}
	out := &run.Cases[0]
	cp := out.Capacity
	if out.Status != results.StatusOK {
		t.Fatalf("case %s: %s", out.Status, out.Failure)
	}
	checkCapacityResult(t, cp, search)

	switch cp.Verdict {
	case string(capacity.VerdictCapacity):
		verifyCapacity(t, c, search, cp.MaxSustainableRate)
	case string(capacity.VerdictLowerBound):
		// The generator (or the machine it shares) ran out first: the
		// answer must say so, and the rate it does give must hold.
		switch cp.StopReason {
		case string(capacity.StopGeneratorBound):
			saturated := false
			for _, st := range cp.Steps {
				saturated = saturated || st.Phase == string(capacity.PhaseRetry) && (st.GeneratorBound || st.Disturbed) && !st.Passed
			}
			if !saturated {
				t.Errorf("a generator-bound stop without a failed, saturated retry: %+v", cp.Steps)
			}
			if !hasWarning(out, "lower bound") {
				t.Errorf("no warning about the lower bound: %q", out.Warnings)
			}
		case string(capacity.StopStepLimit):
			// Growing through saturated passes on a busy machine.
		default:
			t.Fatalf("lower bound for %s, want generator_bound or step_limit in this test (max %v)", cp.StopReason, search.Config.Max)
		}
		if !strings.Contains(cp.Explanation, "lower bound") {
			t.Errorf("a lower bound must say so: %q", cp.Explanation)
		}
		t.Logf("the generator saturated first: a lower bound of %v/s (%s)", cp.MaxSustainableRate, cp.Explanation)
		if cp.MaxSustainableRate > 0 {
			verifyRate(t, c, search, cp.MaxSustainableRate, true)
		}
	default:
		// No answer is acceptable only when the generator saturated at
		// once (a very busy machine), and then it must say so.
		if cp.StopReason != string(capacity.StopGeneratorBound) {
			t.Fatalf("verdict %s (%s): the target should sustain at least %v/s", cp.Verdict, cp.Explanation, search.Config.Start)
		}
		if !strings.Contains(cp.Explanation, "generator short of CPU or the machine busy") {
			t.Errorf("no answer for a generator-bound search must say why: %q", cp.Explanation)
		}
		t.Logf("the generator saturated at the first rate: %s", cp.Explanation)
	}
}

func hasWarning(c *results.Case, s string) bool {
	for _, w := range c.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

// checkCapacityResult checks the result's internal consistency: the path
// is the search's, the answer is the highest passing rate below every
// failure, and the CPU and projection figures agree.
func checkCapacityResult(t *testing.T, cp *results.Capacity, search scenarios.CapacitySearch) {
	t.Helper()
	if cp.SLO != search.Config.SLO.String() || len(cp.Steps) == 0 || len(cp.Steps) > search.Config.MaxSteps {
		t.Fatalf("capacity %+v", cp)
	}
	if cp.Steps[0].Rate != search.Config.Start {
		t.Errorf("first step at %v, want the start rate %v", cp.Steps[0].Rate, search.Config.Start)
	}
	lowestFail := 0.0
	for _, st := range cp.Steps {
		if st.DurationS < 0.9*search.StepDuration.Seconds() || st.Attempted == 0 {
			t.Errorf("step %+v: want a %v window with handshakes", st, search.StepDuration)
		}
		if !st.Passed && !st.GeneratorBound && !st.Disturbed && (lowestFail == 0 || st.Rate < lowestFail) {
			lowestFail = st.Rate
		}
		if st.Passed != (len(st.Violations) == 0) {
			t.Errorf("step at %v: passed %v with violations %q", st.Rate, st.Passed, st.Violations)
		}
	}
	if cp.FirstFailingRate != lowestFail {
		t.Errorf("first failing %v, want the lowest failing rate %v", cp.FirstFailingRate, lowestFail)
	}
	if cp.MaxSustainableRate == 0 {
		return
	}
	if cp.AtMax == nil || cp.AtMax.Rate != cp.MaxSustainableRate || !cp.AtMax.Passed {
		t.Errorf("at max %+v for %v", cp.AtMax, cp.MaxSustainableRate)
	}
	if lowestFail > 0 && cp.MaxSustainableRate >= lowestFail {
		t.Errorf("max sustainable %v is not below the lowest failure %v", cp.MaxSustainableRate, lowestFail)
	}
	if cp.TargetUsPerHandshake <= 0 || len(cp.Projections) != 1 {
		t.Fatalf("server CPU %v µs/hs, projections %+v: want both (the target runs here)", cp.TargetUsPerHandshake, cp.Projections)
	}
	p := cp.Projections[0]
	if want := 20000 * cp.TargetUsPerHandshake / 1e6; p.Rate != 20000 || p.Cores < want*0.999 || p.Cores > want*1.001 || float64(p.WholeCores) < p.Cores {
		t.Errorf("projection %+v, want %.2f cores", p, want)
	}
	// RSA-3072 signing costs the server at least half a millisecond.
	if cp.TargetUsPerHandshake < 500 {
		t.Errorf("server CPU %v µs per RSA-3072 handshake: implausibly low", cp.TargetUsPerHandshake)
	}
	rates := map[float64]bool{}
	for _, st := range cp.Steps {
		rates[st.Rate] = true
	}
	if (cp.Knee != nil) != (len(rates) > 1) {
		t.Errorf("knee %+v with %d rates tried: want one exactly when there are two or more", cp.Knee, len(rates))
	}
}

// verifyCapacity runs the answer less the search's resolution again, and
// 50% above it, each against a fresh target: the first must meet the SLO,
// the second must not. Less the resolution: the answer is within it of the
// knee, where p99 is a coin toss (nginx passed 450/s with p99 68 ms in the
// search, then failed three repeats at 128–179 ms). On a
// shared machine a single 1 s run can be unlucky either way, so each gets
// up to two more tries; a run whose generator saturated proves nothing and
// is tried again too. 50%, not the search's 10% resolution: on the 2-core
// CI VM one rate's steps were seen to fail twice and pass the third time
// (p99 83–127 ms against 29 ms), so a search can stop at a false failure
// 20% under what a later run sustains; an answer off by half still fails.
func verifyCapacity(t *testing.T, c scenarios.Case, search scenarios.CapacitySearch, rate float64) {
	t.Helper()
	verifyRate(t, c, search, capacity.RoundRate(rate*(1-search.Config.Resolution)), true)
	verifyRate(t, c, search, capacity.RoundRate(rate*1.5), false)
}

func verifyRate(t *testing.T, c scenarios.Case, search scenarios.CapacitySearch, rate float64, wantPass bool) {
	t.Helper()
	var last capacity.Step
	for attempt := range 3 {
		st, err := runOneStep(t, c, search, rate)
		if err != nil {
			t.Fatal(err)
		}
		last = st
		t.Logf("verify %v/s (attempt %d): passed %v, generator bound %v, disturbed %v, p99 %dµs, achieved %.0f/s, %v", rate, attempt+1, st.Passed, st.GeneratorBound, st.Disturbed, st.P99, st.Achieved, st.Violations)
		// A pass counts even with the generator saturated or the machine
		// disturbed (the target kept up regardless); a failure counts
		// only without.
		if wantPass && st.Passed || !wantPass && !st.Passed && !st.Inconclusive() {
			return
		}
	}
	switch {
	case !last.Passed && last.Inconclusive():
		t.Logf("verify %v/s: the last try failed with the generator saturated or the machine disturbed; nothing to conclude", rate)
	case wantPass:
		t.Errorf("a repeat run at the answer, %v/s, failed the SLO: %v", rate, last.Violations)
	default:
		t.Errorf("a run 50%% above the answer, at %v/s, met the SLO (p99 %dµs, achieved %.0f/s)", rate, last.P99, last.Achieved)
	}
}

// runOneStep runs one step at rate against a fresh target, as a search's
// step, and judges it against the search's SLO.
func runOneStep(t *testing.T, c scenarios.Case, search scenarios.CapacitySearch, rate float64) (capacity.Step, error) {
	t.Helper()
	opts := Options{Cases: []scenarios.Case{c}, ChildCommand: childCommand()}
	r, err := prepare(context.Background(), &opts)
	if err != nil {
		return capacity.Step{}, err
	}
	m, err := r.material(context.Background(), &c)
	if err != nil {
		return capacity.Step{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tgt, err := r.startTarget(ctx, &c, m)
	if err != nil {
		return capacity.Step{}, err
	}
	defer tgt.Close()
	cpus, cpuErr := cpuset.Allowed()
	sc, meas, _, err := r.capacityStep(ctx, &stepRun{base: &c, material: m, target: tgt, rate: rate,
		phase: capacity.PhaseConfirm, index: 1, n: 1, total: 1, search: search, cpus: cpus, cpuErr: cpuErr})
	if err != nil {
		return capacity.Step{}, err
	}
	if sc.Status != results.StatusOK {
		return capacity.Step{}, errors.New("verification run: " + string(sc.Status) + ": " + sc.Failure)
	}
	v := search.Config.SLO.Check(meas)
	return capacity.Step{Rate: rate, Measurement: meas, Violations: v, Passed: len(v) == 0}, nil
}

// TestCapacityRefusesBeforeLoad: a search that cannot run is refused as
// input, before any target starts.
func TestCapacityRefusesBeforeLoad(t *testing.T) {
	c := capacityTestCase(t, scenarios.KindBuiltin)
	search := testSearch(t)
	bad := search
	bad.Config.Start = 10_000 // above max 5000
	_, err := Capacity(context.Background(), CapacityOptions{Options: Options{Cases: []scenarios.Case{c}, ChildCommand: []string{"/nonexistent"}}, Search: bad})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "above the max rate") {
		t.Errorf("err = %v, want an *InputError about the start rate", err)
	}
	zero := search
	zero.StepDuration = 0
	if _, err := Capacity(context.Background(), CapacityOptions{Options: Options{Cases: []scenarios.Case{c}}, Search: zero}); !errors.As(err, &ie) {
		t.Errorf("err = %v, want an *InputError about the step duration", err)
	}
}

// cancelOnMeasure is a live progress writer that cancels the run once the
// first step's measured window has begun (the status line shows a rate).
type cancelOnMeasure struct {
	mu     sync.Mutex // guards cancel
	cancel context.CancelFunc
}

func (w *cancelOnMeasure) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil && strings.Contains(string(p), " hs/s") {
		w.cancel()
		w.cancel = nil
	}
	return len(p), nil
}

// TestCapacityInterrupted: cancelling mid-step ends the search at once,
// marks the case and the run interrupted, and gives no capacity figure.
func TestCapacityInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs load")
	}
	c := capacityTestCase(t, scenarios.KindBuiltin)
	search := testSearch(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnMeasure{cancel: cancel}
	start := time.Now()
	run, err := Capacity(ctx, CapacityOptions{
		Options: Options{Cases: []scenarios.Case{c}, ChildCommand: childCommand(), Progress: w, Live: true},
		Search:  search,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !run.Interrupted || len(run.Cases) != 1 || run.Cases[0].Status != results.StatusInterrupted {
		t.Fatalf("interrupted run: %v, cases %+v", run.Interrupted, run.Cases)
	}
	cp := run.Cases[0].Capacity
	if cp == nil || cp.StopReason != string(capacity.StopAborted) || cp.Verdict != string(capacity.VerdictNone) || len(cp.Steps) != 0 {
		t.Fatalf("capacity %+v: want no steps, stopped as aborted, no answer", cp)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the interrupted search took %v", took)
	}
}

func TestDisturbedCores(t *testing.T) {
	if disturbedCores(2) != 0.25 || disturbedCores(64) != 3.2 {
		t.Errorf("disturbedCores: %v on 2 CPUs, %v on 64", disturbedCores(2), disturbedCores(64))
	}
}

// TestAssembleCapacity builds a case's result from a known search: the
// figures are the confirmation's, CPU is pooled over the steps at the
// answer, and the projection and knee follow.
func TestAssembleCapacity(t *testing.T) {
	search := testSearch(t) // start 50, p99<100ms, errors<1%, project 20000
	s, err := capacity.NewSearch(search.Config)
	if err != nil {
		t.Fatal(err)
	}
	c := capacityTestCase(t, scenarios.KindBuiltin)
	var stepCases []*results.Case
	var steps []results.CapacityStep
	// Capacity 300/s: 50, 100, 200, 400 ✗, 300, 350 ✗, 325 ✗, 300 (confirm).
	for {
		rate, _, ok := s.Next()
		if !ok {
			break
		}
		p99, ok99 := int64(20_000), rate <= 300
		if !ok99 {
			p99 = 400_000
		}
		m := capacity.Measurement{Achieved: rate, Attempted: int64(rate), P50: int64(2000 + rate*10), P99: p99}
		judged := s.Record(m)
		targetUs := 3000.0
		if len(steps) == 7 {
			targetUs = 3400 // the confirmation cost more
		}
		sc := &results.Case{
			Name: c.Name, Status: results.StatusOK, DurationS: 1, HandshakesPerS: rate,
			Counts: results.Counts{Attempted: int64(rate), OK: int64(rate)},
			CPU:    results.CPU{TargetMeasured: true, TargetUsPerHandshake: targetUs, ClientUtilization: 0.2},
			Load:   &results.LoadReport{Model: "open", AchievedRate: rate}, Params: results.Params{Rate: rate},
		}
		stepCases = append(stepCases, sc)
		steps = append(steps, stepRecord(judged, sc, stepCPU{busy: 0.4}))
	}
	if len(steps) != 8 {
		t.Fatalf("%d steps: %+v", len(steps), steps)
	}
	out := assembleCapacity(&c, s.Result(), stepCases, steps, search)
	cp := out.Capacity
	if cp.Verdict != "capacity" || cp.MaxSustainableRate != 300 || cp.FirstFailingRate != 325 || out.Params.Rate != 300 {
		t.Errorf("answer %s %v (first failing %v), case rate %v", cp.Verdict, cp.MaxSustainableRate, cp.FirstFailingRate, out.Params.Rate)
	}
	if cp.AtMax == nil || cp.AtMax.Phase != "confirm" || out.CPU.TargetUsPerHandshake != 3400 {
		t.Errorf("at max %+v: want the confirmation's figures", cp.AtMax)
	}
	// 300 handshakes at 3000 µs and 300 at 3400 µs: 3200 µs; 20000/s
	// then needs 64 cores.
	if cp.TargetUsPerHandshake != 3200 || cp.PerCoreRate != 312.5 || len(cp.Projections) != 1 || cp.Projections[0].Cores != 64 || cp.Projections[0].WholeCores != 64 {
		t.Errorf("CPU %v µs/hs, %v/core, projections %+v", cp.TargetUsPerHandshake, cp.PerCoreRate, cp.Projections)
	}
	if len(cp.FirstFailingTerms) != 1 || !strings.HasPrefix(cp.FirstFailingTerms[0], "p99 400ms") {
		t.Errorf("first failing terms %q", cp.FirstFailingTerms)
	}
	// p50 = 2000 + 10·rate µs: 2500 at 50/s, doubled (> 5000) first at 325/s.
	if cp.Knee == nil || cp.Knee.Rate != 300 || cp.Knee.AboveRate != 325 || cp.Knee.BaselineP50Us != 2500 {
		t.Errorf("knee %+v", cp.Knee)
	}
	if cp.ProjectionAssumption == "" || cp.Search.StepDurationS != 1 || !cp.Search.Confirm {
		t.Errorf("capacity %+v", cp)
	}
}
