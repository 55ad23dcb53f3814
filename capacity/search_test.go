package capacity

import (
	"reflect"
	"testing"
)

// Step outcomes for the tables: a rate that met the SLO or failed it, with
// the generator keeping up or saturated.
func pass(r float64) Step    { return Step{Rate: r, Passed: true} }
func fail(r float64) Step    { return Step{Rate: r} }
func genPass(r float64) Step { s := pass(r); s.GeneratorBound = true; return s }
func genFail(r float64) Step { s := fail(r); s.GeneratorBound = true; return s }
func retry(s Step) Step      { s.Phase = PhaseRetry; return s }
func disturbed(s Step) Step  { s.Disturbed = true; return s }

func testConfig() Config {
	slo, _ := ParseSLO("p99<50ms")
	return Config{SLO: slo}.withDefaults()
}

// TestDecide: given the steps so far, the next rate or the reason to stop.
func TestDecide(t *testing.T) {
	cfg := testConfig() // start 100, max 100000, growth 2, resolution 5%, 20 steps
	skip := cfg
	skip.SkipConfirm = true
	low := cfg
	low.Max = 1000
	for _, tc := range []struct {
		name  string
		cfg   Config
		steps []Step
		want  Decision
	}{
		// Nothing run yet: the start rate.
		{"first step", cfg, nil, Decision{Rate: 100, Phase: PhaseGrow}},
		// Every step so far met the SLO: double the highest.
		{"grow", cfg, []Step{pass(100), pass(200)}, Decision{Rate: 400, Phase: PhaseGrow}},
		// Growth is capped at max...
		{"grow to max", low, []Step{pass(100), pass(200), pass(400), pass(800)}, Decision{Rate: 1000, Phase: PhaseGrow}},
		// ...and meeting the SLO at max ends the search (a lower bound).
		{"max reached", low, []Step{pass(800), pass(1000)}, Decision{Stop: StopMaxRate}},
		// The first failure starts the bisection between the last pass and it.
		{"first failure", cfg, []Step{pass(100), pass(200), pass(400), pass(800), fail(1600)}, Decision{Rate: 1200, Phase: PhaseBisect}},
		// Bisection narrows from above...
		{"bisect down", cfg, []Step{pass(800), fail(1600), fail(1200)}, Decision{Rate: 1000, Phase: PhaseBisect}},
		// ...and from below.
		{"bisect up", cfg, []Step{pass(800), fail(1600), fail(1200), pass(1000)}, Decision{Rate: 1100, Phase: PhaseBisect}},
		// Within 5%: run the rate found again before trusting it.
		{"confirm", cfg, []Step{pass(1000), fail(1100), pass(1050)}, Decision{Rate: 1050, Phase: PhaseConfirm}},
		// It met the SLO twice: done.
		{"confirmed", cfg, []Step{pass(1000), fail(1100), pass(1050), pass(1050)}, Decision{Stop: StopConverged}},
		// The confirmation failed: 1050 is now the lowest failure, 1000
		// the answer so far, and it still needs its second pass.
		{"confirmation failed", cfg, []Step{pass(1000), fail(1100), pass(1050), fail(1050)}, Decision{Rate: 1000, Phase: PhaseConfirm}},
		// A failed confirmation can reopen the bisection: 1200 was within
		// 5% of 1250, but failing its confirmation leaves 800 below it.
		{"confirmation failed far", cfg, []Step{pass(800), fail(1600), pass(1200), fail(1250), fail(1200)}, Decision{Rate: 1000, Phase: PhaseBisect}},
		// Without confirmation, converging ends the search at once.
		{"converged, no confirm", skip, []Step{pass(1000), fail(1100), pass(1050)}, Decision{Stop: StopConverged}},
		// A failure below a pass lowers the bracket: the noisy pass above
		// it never counts.
		{"noisy pass above a failure", cfg, []Step{pass(400), fail(800), pass(1200), fail(1600)}, Decision{Rate: 600, Phase: PhaseBisect}},
		// The first rate failed: back off by the growth factor.
		{"back off", cfg, []Step{fail(100)}, Decision{Rate: 50, Phase: PhaseBackOff}},
		// Rates round to whole handshakes per second (12.5 → 13)...
		{"back off again", cfg, []Step{fail(100), fail(50), fail(25)}, Decision{Rate: 13, Phase: PhaseBackOff}},
		// ...and below 10/s to tenths.
		{"back off small", cfg, []Step{fail(100), fail(50), fail(25), fail(13), fail(6.5)}, Decision{Rate: 3.3, Phase: PhaseBackOff}},
		// Backing off is floored at min...
		{"back off to min", cfg, []Step{fail(1.5)}, Decision{Rate: 1, Phase: PhaseBackOff}},
		// ...and failing there means no rate meets the SLO.
		{"min failed", cfg, []Step{fail(1.5), fail(1)}, Decision{Stop: StopMinRate}},
		// After backing off to a pass, bisect upwards.
		{"backed off to a pass", cfg, []Step{fail(100), pass(50)}, Decision{Rate: 75, Phase: PhaseBisect}},
		// A step that met the SLO with the generator saturated counts as
		// any pass: the target kept up even so.
		{"generator bound, passing", cfg, []Step{pass(100), genPass(200)}, Decision{Rate: 400, Phase: PhaseGrow}},
		// A failure with the generator saturated may be the generator's:
		// run the same rate again, in case it was a burst of something
		// else's work...
		{"generator bound, failing", cfg, []Step{pass(100), genFail(200)}, Decision{Rate: 200, Phase: PhaseRetry}},
		// ...and failing saturated again: stop (a lower bound).
		{"generator bound twice", cfg, []Step{pass(100), genFail(200), retry(genFail(200))}, Decision{Stop: StopGeneratorBound}},
		// The retry went through: the search goes on from it, ignoring
		// the saturated failure...
		{"retry went through", cfg, []Step{pass(100), genFail(200), retry(pass(200))}, Decision{Rate: 400, Phase: PhaseGrow}},
		{"retry went through, saturated", cfg, []Step{pass(100), genFail(200), retry(genPass(200))}, Decision{Rate: 400, Phase: PhaseGrow}},
		// ...or failed with the generator keeping up: a real failure.
		{"retry failed for real", cfg, []Step{pass(100), genFail(200), retry(fail(200))}, Decision{Rate: 150, Phase: PhaseBisect}},
		// Failing saturated twice before anything passed: back off to
		// find at least a lower bound...
		{"saturated at the start", cfg, []Step{genFail(100), retry(genFail(100))}, Decision{Rate: 50, Phase: PhaseBackOff}},
		// ...and having found one, do not grow back into the saturated
		// rate: stop with it.
		{"no growing into saturation", cfg, []Step{genFail(100), retry(genFail(100)), pass(50)}, Decision{Stop: StopGeneratorBound}},
		// Saturated down to the minimum: stop, with no answer.
		{"saturated down to min", Config{SLO: cfg.SLO, Start: 2}.withDefaults(), []Step{genFail(2), retry(genFail(2)), genFail(1), retry(genFail(1))}, Decision{Stop: StopGeneratorBound}},
		// A failure while other work disturbed the machine is as
		// inconclusive as a saturated generator's: retried, and not a
		// bound on the bracket.
		{"disturbed, failing", cfg, []Step{pass(100), disturbed(fail(200))}, Decision{Rate: 200, Phase: PhaseRetry}},
		{"disturbed, then for real", cfg, []Step{pass(100), disturbed(fail(200)), retry(fail(200))}, Decision{Rate: 150, Phase: PhaseBisect}},
		{"disturbed, passing", cfg, []Step{pass(100), disturbed(pass(200))}, Decision{Rate: 400, Phase: PhaseGrow}},
		// Even in the middle of a bisection.
		{"generator bound in bisection", cfg, []Step{pass(800), fail(1600), genFail(1200), retry(genFail(1200))}, Decision{Stop: StopGeneratorBound}},
		// The last step allowed failed saturated: stop as generator-bound,
		// not for the step limit.
		{"generator bound at the limit", Config{SLO: cfg.SLO, MaxSteps: 2}.withDefaults(), []Step{pass(100), genFail(200)}, Decision{Stop: StopGeneratorBound}},
		// The step limit ends any search.
		{"step limit", Config{SLO: cfg.SLO, MaxSteps: 3}.withDefaults(), []Step{pass(100), pass(200), pass(400)}, Decision{Stop: StopStepLimit}},
		// No whole rate left between the bounds: converged even though
		// the bounds are more than 5% apart.
		{"no whole rate between", cfg, []Step{pass(10), fail(11), pass(10)}, Decision{Stop: StopConverged}},
		// Below 10/s rates go by tenths.
		{"tenths", cfg, []Step{pass(2), fail(3)}, Decision{Rate: 2.5, Phase: PhaseBisect}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.cfg, tc.steps); got != tc.want {
				t.Errorf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// simulated is a target for whole searches: rates up to capacity meet
// the SLO; the generator saturates at saturate and above (0: never);
// flaky maps a rate to the one run of it (1 the first) that fails anyway.
type simulated struct {
	capacity, saturate float64
	flaky              map[float64]int
	// burst maps a rate to the one run of it whose generator is
	// saturated by something else's work.
	burst map[float64]int
	seen  map[float64]int
}

func (s *simulated) measure(rate float64) Measurement {
	if s.seen == nil {
		s.seen = map[float64]int{}
	}
	s.seen[rate]++
	m := Measurement{Rate: rate, Achieved: rate, Attempted: 1000, P50: 1000, P90: 2000, P99: 5000, P999: 8000}
	if rate > s.capacity || s.flaky[rate] == s.seen[rate] {
		m.P99 = 900_000
	}
	m.GeneratorBound = s.saturate > 0 && rate >= s.saturate || s.burst[rate] == s.seen[rate]
	return m
}

// TestSearch runs whole searches against simulated targets.
func TestSearch(t *testing.T) {
	slo, _ := ParseSLO("p99<50ms")
	for _, tc := range []struct {
		name    string
		cfg     Config
		target  simulated
		rates   []float64
		verdict Verdict
		stop    StopReason
		good    float64
		bad     float64
	}{
		{
			// Grows 100→1600, bisects down to within 5% of 1000, confirms.
			name: "capacity 1000", cfg: Config{SLO: slo}, target: simulated{capacity: 1000},
			rates:   []float64{100, 200, 400, 800, 1600, 1200, 1000, 1100, 1050, 1000},
			verdict: VerdictCapacity, stop: StopConverged, good: 1000, bad: 1050,
		},
		{
			// The generator saturates at 800, where the SLO fails: the
			// failure may be the generator's, so the answer is a lower
			// bound at 400, never a capacity figure.
			name: "generator saturates first", cfg: Config{SLO: slo}, target: simulated{capacity: 600, saturate: 700},
			rates:   []float64{100, 200, 400, 800, 800},
			verdict: VerdictLowerBound, stop: StopGeneratorBound, good: 400,
		},
		{
			// The generator saturates from 750, yet the SLO holds at 800:
			// the search carries on; 1600 and 1200 fail saturated (and
			// again on their retries), so the answer is a lower bound.
			name: "generator saturates while passing", cfg: Config{SLO: slo}, target: simulated{capacity: 1000, saturate: 750},
			rates:   []float64{100, 200, 400, 800, 1600, 1600},
			verdict: VerdictLowerBound, stop: StopGeneratorBound, good: 800,
		},
		{
			// A machine busy with other work throughout: every step is
			// saturated, but passes still count, so the search grows until
			// a rate fails (twice) and gives the last pass as a lower bound.
			name: "busy machine", cfg: Config{SLO: slo}, target: simulated{capacity: 1000, saturate: 1},
			rates:   []float64{100, 200, 400, 800, 1600, 1600},
			verdict: VerdictLowerBound, stop: StopGeneratorBound, good: 800,
		},
		{
			// A burst of other work saturates the generator at 400 once,
			// and 400 fails: the retry goes through and the search carries
			// on.
			name: "a burst", cfg: Config{SLO: slo}, target: simulated{capacity: 1000, burst: map[float64]int{400: 1}, flaky: map[float64]int{400: 1}},
			rates:   []float64{100, 200, 400, 400, 800, 1600, 1200, 1000, 1100, 1050, 1000},
			verdict: VerdictCapacity, stop: StopConverged, good: 1000, bad: 1050,
		},
		{
			// Other work saturates the generator's CPUs from 80/s and the
			// SLO fails there: the search backs off from 100 to 50, which
			// passes, and gives it as a lower bound.
			name: "saturated from the start", cfg: Config{SLO: slo}, target: simulated{capacity: 60, saturate: 80},
			rates:   []float64{100, 100, 50},
			verdict: VerdictLowerBound, stop: StopGeneratorBound, good: 50,
		},
		{
			// The SLO holds up to the max: a lower bound.
			name: "max reached", cfg: Config{SLO: slo, Max: 500}, target: simulated{capacity: 1000},
			rates:   []float64{100, 200, 400, 500},
			verdict: VerdictLowerBound, stop: StopMaxRate, good: 500,
		},
		{
			// A start above the capacity: back off, then bisect up.
			name: "start too high", cfg: Config{SLO: slo, Start: 4000}, target: simulated{capacity: 1000},
			rates:   []float64{4000, 2000, 1000, 1500, 1250, 1125, 1063, 1032, 1000},
			verdict: VerdictCapacity, stop: StopConverged, good: 1000, bad: 1032,
		},
		{
			// Nothing meets the SLO down to the minimum.
			name: "nothing sustainable", cfg: Config{SLO: slo, Start: 8, Min: 2}, target: simulated{capacity: 1},
			rates:   []float64{8, 4, 2},
			verdict: VerdictNone, stop: StopMinRate, bad: 2,
		},
		{
			// Capacity 1060: 1050 passes and confirms, 1100 fails.
			name: "capacity 1060", cfg: Config{SLO: slo}, target: simulated{capacity: 1060},
			rates:   []float64{100, 200, 400, 800, 1600, 1200, 1000, 1100, 1050, 1050},
			verdict: VerdictCapacity, stop: StopConverged, good: 1050, bad: 1100,
		},
		{
			// A noisy failure during the growth: 400 fails its first run.
			// The search never goes above a failure, so it settles under
			// 400: an underestimate, which is the safe side.
			name: "noisy failure", cfg: Config{SLO: slo}, target: simulated{capacity: 1000, flaky: map[float64]int{400: 1}},
			rates:   []float64{100, 200, 400, 300, 350, 375, 388, 388},
			verdict: VerdictCapacity, stop: StopConverged, good: 388, bad: 400,
		},
		{
			// A flaky confirmation: 1050 fails its second run, so it
			// counts as failing and 1000 is confirmed instead.
			name: "flaky confirmation", cfg: Config{SLO: slo}, target: simulated{capacity: 1060, flaky: map[float64]int{1050: 2}},
			rates:   []float64{100, 200, 400, 800, 1600, 1200, 1000, 1100, 1050, 1050, 1000},
			verdict: VerdictCapacity, stop: StopConverged, good: 1000, bad: 1050,
		},
		{
			// The step limit comes first: the bracket so far is the answer.
			name: "step limit", cfg: Config{SLO: slo, MaxSteps: 6}, target: simulated{capacity: 1000},
			rates:   []float64{100, 200, 400, 800, 1600, 1200},
			verdict: VerdictCapacity, stop: StopStepLimit, good: 800, bad: 1200,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSearch(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var rates []float64
			for {
				rate, _, ok := s.Next()
				if !ok {
					break
				}
				rates = append(rates, rate)
				s.Record(tc.target.measure(rate))
				if len(rates) > 50 {
					t.Fatal("the search does not end")
				}
			}
			r := s.Result()
			if !reflect.DeepEqual(rates, tc.rates) {
				t.Errorf("rates %v, want %v", rates, tc.rates)
			}
			if r.Verdict != tc.verdict || r.Stop != tc.stop || r.MaxSustainable != tc.good || r.FirstFailing != tc.bad {
				t.Errorf("result %s/%s good %v bad %v, want %s/%s good %v bad %v",
					r.Verdict, r.Stop, r.MaxSustainable, r.FirstFailing, tc.verdict, tc.stop, tc.good, tc.bad)
			}
			for _, i := range r.AtMax {
				if st := r.Steps[i]; !st.Passed || st.Rate != r.MaxSustainable {
					t.Errorf("AtMax step %d: %+v", i, st)
				}
			}
			if r.FirstFailing > 0 && (r.FailedAt < 0 || r.Steps[r.FailedAt].Rate != r.FirstFailing) {
				t.Errorf("FailedAt %d does not index a step at %v", r.FailedAt, r.FirstFailing)
			}
			if r.Explain() == "" {
				t.Error("no explanation")
			}
		})
	}
}

func TestSearchRecordJudges(t *testing.T) {
	slo, _ := ParseSLO("p99<50ms,errors<1%")
	s, _ := NewSearch(Config{SLO: slo})
	st := s.Record(Measurement{Achieved: 100, Attempted: 1000, Errors: 20, P99: 60_000})
	if st.Passed || len(st.Violations) != 2 || st.Rate != 100 || st.Phase != PhaseGrow {
		t.Errorf("step %+v: want a failure on p99 and errors at 100/s", st)
	}
	if rate, phase, _ := s.Next(); rate != 50 || phase != PhaseBackOff {
		t.Errorf("next %v %s, want 50 back-off", rate, phase)
	}
	s.Abort()
	if _, _, ok := s.Next(); ok {
		t.Error("Next after Abort: want the search over")
	}
	if r := s.Result(); r.Stop != StopAborted || r.Verdict != VerdictNone {
		t.Errorf("aborted result %s/%s", r.Stop, r.Verdict)
	}
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	slo, _ := ParseSLO("p99<50ms")
	s, err := NewSearch(Config{SLO: slo, Max: 50})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Config(); c.Start != 50 || c.Min != 1 || c.Growth != 2 || c.Resolution != 0.05 || c.MaxSteps != 20 {
		t.Errorf("defaults %+v: want start capped at max 50", c)
	}
	for _, bad := range []Config{
		{},                               // no SLO
		{SLO: slo, Start: 200, Max: 100}, // start above max
		{SLO: slo, Growth: 1},            // no growth
		{SLO: slo, Resolution: 1.5},      // resolution not a fraction
		{SLO: slo, MaxSteps: 1},          // too few steps
		{SLO: slo, Start: 10, Min: 20},   // min above start
		{SLO: slo, Start: -5},            // negative
	} {
		if _, err := NewSearch(bad); err == nil {
			t.Errorf("NewSearch(%+v): want an error", bad)
		}
	}
}

func TestRoundRate(t *testing.T) {
	for in, want := range map[float64]float64{1066.67: 1067, 10: 10, 9.96: 10, 2.54: 2.5, 0.75: 0.8} {
		if got := RoundRate(in); got != want {
			t.Errorf("RoundRate(%v) = %v, want %v", in, got, want)
		}
	}
}
