// Package capacity owns the capacity search and its arithmetic: the SLO a
// rate must meet, the search that picks the next open-loop rate from the
// outcomes so far and decides when to stop, the knee of the latency curve,
// and the projection of server cores from CPU per handshake.
//
// It is pure: it runs no load, reads no clock and prints nothing. The bench
// package drives it, running each rate it asks for as one step (warm-up,
// then a measured window) against a target started once per case:
//
//	s, _ := capacity.NewSearch(cfg)
//	for {
//		rate, phase, ok := s.Next()
//		if !ok {
//			break
//		}
//		s.Record(runStep(rate, phase))
//	}
//	res := s.Result()
package capacity

import (
	"fmt"
	"math"

	"github.com/mtlsbench/mtlsbench/internal/units"
)

// Config is one search. Zero values have defaults, noted per field;
// NewSearch applies them on a copy.
type Config struct {
	// SLO every term of which a rate must meet to be sustainable.
	// Required.
	SLO SLO
	// Start is the first rate tried, in handshakes per second. Zero means
	// 100 (or Max, if that is lower).
	Start float64
	// Max is the highest rate tried: a search that meets the SLO there
	// stops with a lower bound. Zero means 100000.
	Max float64
	// Min is the lowest rate tried when the first rate already fails and
	// the search backs off: failing there too means no rate meets the SLO.
	// Zero means 1.
	Min float64
	// Growth multiplies the rate after each step that meets the SLO, until
	// one fails; backing off divides by it. Zero means 2; otherwise it must
	// be above 1.
	Growth float64
	// Resolution ends the bisection once the lowest failing rate is within
	// this fraction above the highest sustainable one. Zero means 0.05 (5%).
	Resolution float64
	// MaxSteps bounds the number of steps, confirmation included. Zero
	// means 20.
	MaxSteps int
	// SkipConfirm skips the confirmation step. By default, once the
	// bisection has converged, the rate found is run once more and must
	// meet the SLO again; if it does not, it counts as failing and the
	// search goes on below it. So the answer has met the SLO twice.
	SkipConfirm bool
}

// Defaults.
const (
	DefaultStart      = 100
	DefaultMax        = 100_000
	DefaultMin        = 1
	DefaultGrowth     = 2
	DefaultResolution = 0.05
	DefaultMaxSteps   = 20
)

func (c Config) withDefaults() Config {
	if c.Max == 0 {
		c.Max = DefaultMax
	}
	if c.Start == 0 {
		c.Start = min(DefaultStart, c.Max)
	}
	if c.Min == 0 {
		c.Min = min(DefaultMin, c.Start)
	}
	if c.Growth == 0 {
		c.Growth = DefaultGrowth
	}
	if c.Resolution == 0 {
		c.Resolution = DefaultResolution
	}
	if c.MaxSteps == 0 {
		c.MaxSteps = DefaultMaxSteps
	}
	return c
}

// ConfigError is a Config that cannot run.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return "capacity: " + e.Msg }

func (c Config) validate() error {
	bad := func(format string, a ...any) error { return &ConfigError{fmt.Sprintf(format, a...)} }
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case len(c.SLO.Terms) == 0:
		return bad("no SLO: a rate is sustainable when it meets one (%s)", SLOSyntax)
	case !(c.Start > 0) || !finite(c.Start):
		return bad("start rate %v must be a positive number of handshakes per second", c.Start)
	case !(c.Max > 0) || !finite(c.Max):
		return bad("max rate %v must be a positive number of handshakes per second", c.Max)
	case c.Start > c.Max:
		return bad("start rate %v is above the max rate %v", c.Start, c.Max)
	case !(c.Min > 0) || c.Min > c.Start:
		return bad("min rate %v must be positive and at most the start rate %v", c.Min, c.Start)
	case !(c.Growth > 1) || !finite(c.Growth):
		return bad("growth %v must be above 1 (2 doubles the rate after each sustainable step)", c.Growth)
	case !(c.Resolution > 0) || c.Resolution >= 1:
		return bad("resolution %v must be a fraction between 0 and 1, e.g. 0.05 for 5%%", c.Resolution)
	case c.MaxSteps < 2:
		return bad("max steps %d must be at least 2", c.MaxSteps)
	}
	return nil
}

// Phase says why a rate was chosen.
type Phase string

const (
	// PhaseGrow: the first rate, or Growth times the last sustainable one.
	PhaseGrow Phase = "grow"
	// PhaseBackOff: the first rate failed; the rate is divided by Growth
	// until one is sustainable.
	PhaseBackOff Phase = "back-off"
	// PhaseBisect: halfway between the highest sustainable rate and the
	// lowest failing one.
	PhaseBisect Phase = "bisect"
	// PhaseConfirm: the rate found, run again.
	PhaseConfirm Phase = "confirm"
	// PhaseRetry: the last step failed inconclusively (the generator
	// saturated, or the machine disturbed: Measurement.Inconclusive); the
	// same rate is run once more before the search gives up, so that a
	// burst of some other process's work does not end it.
	PhaseRetry Phase = "retry"
)

// Step is one rate tried and what came of it.
type Step struct {
	Rate  float64
	Phase Phase
	Measurement
	// Violations are the SLO terms that did not hold; none means the step
	// met the SLO (Passed).
	Violations []Violation
	Passed     bool
}

// StopReason says why a search ended.
type StopReason string

const (
	// StopConverged: the lowest failing rate is within Resolution of the
	// highest sustainable one (which, unless SkipConfirm, met the SLO twice).
	StopConverged StopReason = "converged"
	// StopGeneratorBound: a rate failed the SLO twice (a step and its
	// retry) with the generator short of CPU or the machine disturbed by
	// other work; the failure may not be the target's, and going on would
	// measure the generator or the neighbours.
	StopGeneratorBound StopReason = "generator_bound"
	// StopMaxRate: the SLO held at Max.
	StopMaxRate StopReason = "max_rate"
	// StopMinRate: the SLO failed at Min.
	StopMinRate StopReason = "min_rate"
	// StopStepLimit: MaxSteps were run.
	StopStepLimit StopReason = "step_limit"
	// StopAborted: the driver stopped the search (Abort): interrupted, or
	// the case failed its own checks.
	StopAborted StopReason = "aborted"
)

// Verdict is what a search's answer is.
type Verdict string

const (
	// VerdictCapacity: the maximum sustainable rate is bracketed: it met
	// the SLO and a rate at most Resolution higher (or, after a step limit,
	// the rate in FirstFailing) did not, conclusively (the generator
	// keeping up, nothing else disturbing the machine).
	VerdictCapacity Verdict = "capacity"
	// VerdictLowerBound: the SLO held at MaxSustainable, but the search
	// could not find where it breaks (it failed only inconclusively, the
	// rate reached Max, the steps ran out or it was stopped): the target's
	// capacity is at least MaxSustainable, and may be much higher.
	VerdictLowerBound Verdict = "lower_bound"
	// VerdictNone: no rate tried met the SLO.
	VerdictNone Verdict = "none"
)

// Search is one capacity search. It is a thin wrapper around Decide, which
// is where the logic is: the next rate is a pure function of the steps so
// far.
type Search struct {
	cfg     Config
	steps   []Step
	pending *Decision
	aborted bool
}

// NewSearch checks cfg and returns a search at its first step.
func NewSearch(cfg Config) (*Search, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &Search{cfg: c}, nil
}

// Config returns the search's configuration with its defaults applied.
func (s *Search) Config() Config { return s.cfg }

// Next returns the next rate to run and why; ok is false when the search
// is over. Calling Next again before Record returns the same rate.
func (s *Search) Next() (rate float64, phase Phase, ok bool) {
	if s.aborted {
		return 0, "", false
	}
	if s.pending == nil {
		d := Decide(s.cfg, s.steps)
		s.pending = &d
	}
	if s.pending.Stop != "" {
		return 0, "", false
	}
	return s.pending.Rate, s.pending.Phase, true
}

// Record judges m, measured at the rate Next returned, against the SLO and
// adds it to the search. It returns the step as judged.
func (s *Search) Record(m Measurement) Step {
	rate, phase, ok := s.Next()
	if !ok {
		panic("capacity: Record after the search ended")
	}
	m.Rate = rate
	st := Step{Rate: rate, Phase: phase, Measurement: m, Violations: s.cfg.SLO.Check(m)}
	st.Passed = len(st.Violations) == 0
	s.steps = append(s.steps, st)
	s.pending = nil
	return st
}

// Abort ends the search early (an interrupt, or a case that failed its
// own checks); Result then reports StopAborted.
func (s *Search) Abort() { s.aborted = true }

// Steps returns the steps so far.
func (s *Search) Steps() []Step { return s.steps }

// Decision is what to do after some steps: run Rate (in Phase), or stop.
type Decision struct {
	Rate  float64
	Phase Phase
	// Stop is set when the search is over.
	Stop StopReason
}

// Decide is the search: given a configuration (with defaults applied) and
// the steps so far, it returns the next rate or why to stop.
//
//  1. The first step runs Start.
//  2. The last step failed the SLO inconclusively (the generator
//     saturated, or other work disturbed the machine): the failure may
//     not be the target's. Run the same rate again (a retry). If that
//     was the retry already, the rate is saturated: back off (÷ Growth)
//     when nothing has passed yet, to find at least a lower bound;
//     otherwise stop (a lower bound). An inconclusive step that met the
//     SLO counts as any other: the target kept up even so.
//  3. MaxSteps steps have run: stop.
//  4. Bracket the answer: bad is the lowest rate that failed the SLO (with
//     the generator keeping up), good the highest rate below bad that met
//     it. A failure anywhere lowers bad, so a noisy pass above a failure
//     never counts.
//  5. Nothing failed yet: grow to good × Growth (capped at Max); if good
//     is Max already, or the rate grown to is saturated (step 2), stop
//     (a lower bound).
//  6. Nothing below bad passed: back off to bad ÷ Growth (floored at
//     Min); if bad is Min already, stop (no rate meets the SLO).
//  7. bad ≤ good × (1 + Resolution), or no whole rate lies between them:
//     converged. Unless SkipConfirm, good is run once more first if it has
//     passed only once; a failure there makes it the new bad (step 4), and
//     the search goes on below it.
//  8. Otherwise bisect: (good + bad) / 2, rounded (see RoundRate).
func Decide(cfg Config, steps []Step) Decision {
	if len(steps) == 0 {
		return Decision{Rate: cfg.Start, Phase: PhaseGrow}
	}
	last := steps[len(steps)-1]
	good, bad := Bracket(steps)
	if last.Inconclusive() && !last.Passed {
		if last.Phase != PhaseRetry && len(steps) < cfg.MaxSteps {
			return Decision{Rate: last.Rate, Phase: PhaseRetry}
		}
		if good == 0 && last.Rate > cfg.Min && len(steps) < cfg.MaxSteps {
			return Decision{Rate: max(RoundRate(last.Rate/cfg.Growth), cfg.Min), Phase: PhaseBackOff}
		}
		return Decision{Stop: StopGeneratorBound}
	}
	if len(steps) >= cfg.MaxSteps {
		return Decision{Stop: StopStepLimit}
	}
	switch {
	case bad == 0:
		if good >= cfg.Max {
			return Decision{Stop: StopMaxRate}
		}
		next := min(RoundRate(good*cfg.Growth), cfg.Max)
		if ceiling := Saturated(steps); ceiling > 0 && next >= ceiling {
			return Decision{Stop: StopGeneratorBound}
		}
		return Decision{Rate: next, Phase: PhaseGrow}
	case good == 0:
		if bad <= cfg.Min {
			return Decision{Stop: StopMinRate}
		}
		return Decision{Rate: max(RoundRate(bad/cfg.Growth), cfg.Min), Phase: PhaseBackOff}
	}
	mid := RoundRate((good + bad) / 2)
	if bad <= good*(1+cfg.Resolution) || mid <= good || mid >= bad {
		if !cfg.SkipConfirm && passes(steps, good) < 2 {
			return Decision{Rate: good, Phase: PhaseConfirm}
		}
		return Decision{Stop: StopConverged}
	}
	return Decision{Rate: mid, Phase: PhaseBisect}
}

// Saturated returns the lowest rate that failed the SLO inconclusively
// twice in a row (a step and its retry); 0 when none did.
// The search does not grow to it again: it would measure the generator.
func Saturated(steps []Step) float64 {
	lowest := 0.0
	for _, st := range steps {
		if st.Phase == PhaseRetry && st.Inconclusive() && !st.Passed && (lowest == 0 || st.Rate < lowest) {
			lowest = st.Rate
		}
	}
	return lowest
}

// Bracket returns bad, the lowest rate that failed the SLO conclusively
// (0: none), and good, the highest rate below bad that met it (0: none).
// An inconclusive step (see Measurement.Inconclusive) counts when it
// passed (the target sustained the rate even so) but not when it failed
// (the failure may be the generator's or the neighbours').
func Bracket(steps []Step) (good, bad float64) {
	for _, st := range steps {
		if !st.Passed && !st.Inconclusive() && (bad == 0 || st.Rate < bad) {
			bad = st.Rate
		}
	}
	for _, st := range steps {
		if st.Passed && (bad == 0 || st.Rate < bad) && st.Rate > good {
			good = st.Rate
		}
	}
	return good, bad
}

// passes counts the steps at rate that met the SLO.
func passes(steps []Step, rate float64) int {
	n := 0
	for _, st := range steps {
		if st.Passed && st.Rate == rate {
			n++
		}
	}
	return n
}

// RoundRate rounds a rate the search computes to a whole number of
// handshakes per second (to 0.1/s below 10/s), so rates read well and a
// bisection ends when no whole rate is left between its bounds.
func RoundRate(r float64) float64 {
	if r >= 10 {
		return math.Round(r)
	}
	return math.Round(r*10) / 10
}

// Result is a search's answer.
type Result struct {
	Verdict Verdict
	Stop    StopReason
	// MaxSustainable is the highest rate that met the SLO below every rate
	// that failed it (good in Decide); 0 when none did.
	MaxSustainable float64
	// FirstFailing is the lowest rate that failed with the generator
	// keeping up (bad in Decide); 0 when none did.
	FirstFailing float64
	// AtMax indexes the steps run at MaxSustainable that met the SLO (the
	// confirmation among them); FailedAt indexes the first step that
	// failed at FirstFailing (-1 when there is none). Their figures are
	// the SLO figures at those rates.
	AtMax    []int
	FailedAt int
	// SaturatedAt is the lowest rate that failed inconclusively twice
	// (see Saturated); 0 when none did.
	SaturatedAt float64
	Steps       []Step
}

// Result returns the answer so far (the final one once Next has said the
// search is over).
func (s *Search) Result() Result {
	stop := StopAborted
	if !s.aborted {
		stop = Decide(s.cfg, s.steps).Stop
	}
	good, bad := Bracket(s.steps)
	r := Result{Stop: stop, MaxSustainable: good, FirstFailing: bad, FailedAt: -1, SaturatedAt: Saturated(s.steps), Steps: s.steps}
	for i, st := range s.steps {
		if st.Passed && good > 0 && st.Rate == good {
			r.AtMax = append(r.AtMax, i)
		}
		if r.FailedAt < 0 && !st.Passed && !st.Inconclusive() && bad > 0 && st.Rate == bad {
			r.FailedAt = i
		}
	}
	r.Verdict = verdict(stop, good, bad)
	return r
}

// verdict turns how a search stopped into what its answer is. Only a
// bracket the generator kept up with throughout is a capacity figure.
func verdict(stop StopReason, good, bad float64) Verdict {
	switch {
	case good == 0:
		return VerdictNone
	case stop == StopConverged, stop == StopStepLimit && bad > 0:
		return VerdictCapacity
	}
	return VerdictLowerBound
}

// Explain says in one sentence what a result means, for reports.
func (r Result) Explain() string {
	rate := units.AskedRate
	switch r.Verdict {
	case VerdictCapacity:
		s := fmt.Sprintf("the SLO holds at %s/s and fails at %s/s", rate(r.MaxSustainable), rate(r.FirstFailing))
		if r.Stop == StopStepLimit {
			s += " (the step limit ended the bisection before the resolution asked for)"
		}
		return s
	case VerdictLowerBound:
		s := fmt.Sprintf("a lower bound: the SLO holds at %s/s, ", rate(r.MaxSustainable))
		switch r.Stop {
		case StopGeneratorBound:
			s += fmt.Sprintf("and it failed at %s/s (twice) with the generator short of CPU or the machine busy with other work, so where the target's limit lies was not measured", rate(r.SaturatedAt))
		case StopMaxRate:
			s += "the highest rate the search was allowed (raise --max)"
		case StopStepLimit:
			s += "and the step limit came before any rate failed"
		default:
			s += "and the search was stopped before any rate failed"
		}
		return s
	}
	switch r.Stop {
	case StopGeneratorBound:
		return fmt.Sprintf("no answer: the SLO failed down to %s/s (twice) with the generator short of CPU or the machine busy with other work, before any rate met it", rate(r.SaturatedAt))
	case StopMinRate:
		return fmt.Sprintf("no rate meets the SLO: it fails even at %s/s", rate(r.FirstFailing))
	case StopAborted:
		return "no answer: the search was stopped before any rate met the SLO"
	}
	return "no rate tried met the SLO"
}
