package results

// Capacity is the answer of a capacity search for one case ('mtlsbench
// capacity'): open-loop steps at rates the search chose, each with its own
// warm-up and window, against one target started for the case. The case's
// other figures (latency, counts, CPU, intervals) are those of the step at
// MaxSustainableRate that met the SLO last (its confirmation when there was
// one), or of the last step when none met it.
type Capacity struct {
	// SLO is the objective as parsed, every term spelled out (with the
	// achieved-rate term the search adds when none is given).
	SLO string `json:"slo"`
	// Verdict is "capacity" (the SLO holds at MaxSustainableRate and fails
	// at FirstFailingRate with the generator keeping up), "lower_bound"
	// (it holds at MaxSustainableRate, but where it breaks was not
	// measured: it failed only with the generator saturated, the search
	// reached its max rate, ran out of steps or was stopped) or "none" (no
	// rate tried met it).
	Verdict string `json:"verdict"`
	// StopReason says why the search ended: converged, generator_bound,
	// max_rate, min_rate, step_limit or aborted.
	StopReason string `json:"stop_reason"`
	// Explanation says in one sentence what the answer means.
	Explanation string `json:"explanation"`
	// MaxSustainableRate is the highest rate (handshakes/s) that met the
	// SLO below every rate that failed it; 0 when none did. Only a
	// capacity figure when Verdict is "capacity".
	MaxSustainableRate float64 `json:"max_sustainable_rate"`
	// AtMax is the step whose figures the case shows: the last one at
	// MaxSustainableRate. Absent when no rate met the SLO.
	AtMax *CapacityStep `json:"at_max,omitempty"`
	// FirstFailingRate is the lowest rate that failed the SLO with the
	// generator keeping up, and FirstFailingTerms the terms that failed
	// there with the values measured; absent when no rate failed.
	FirstFailingRate  float64  `json:"first_failing_rate,omitempty"`
	FirstFailingTerms []string `json:"first_failing_terms,omitempty"`
	// TargetUsPerHandshake is the target's CPU per successful handshake at
	// MaxSustainableRate (every step run there, pooled), and PerCoreRate
	// the handshakes per second one busy core does at that cost. Absent
	// when the target's CPU was not measured.
	TargetUsPerHandshake float64 `json:"target_us_per_handshake,omitempty"`
	PerCoreRate          float64 `json:"per_core_rate,omitempty"`
	// Knee is where latency starts to climb; absent with fewer than two
	// rates tried.
	Knee *Knee `json:"knee,omitempty"`
	// Projections are the server cores each requested rate needs, from
	// TargetUsPerHandshake; ProjectionAssumption states what they assume.
	Projections          []Projection `json:"projections,omitempty"`
	ProjectionAssumption string       `json:"projection_assumption,omitempty"`
	// Search is how the search was set up.
	Search CapacitySearch `json:"search"`
	// Steps are every step in the order run: the search path.
	Steps []CapacityStep `json:"steps"`
}

// CapacitySearch records a capacity search's settings.
type CapacitySearch struct {
	// StartRate is the first rate tried; MaxRate and MinRate bound the
	// rates tried (handshakes/s).
	StartRate float64 `json:"start_rate"`
	MaxRate   float64 `json:"max_rate"`
	MinRate   float64 `json:"min_rate"`
	// Growth multiplies the rate after each sustainable step until one
	// fails.
	Growth float64 `json:"growth"`
	// Resolution ends the bisection once the lowest failing rate is within
	// this fraction above the highest sustainable one.
	Resolution float64 `json:"resolution"`
	// MaxSteps bounds the number of steps.
	MaxSteps int `json:"max_steps"`
	// Confirm: the rate found was run a second time and had to meet the
	// SLO again.
	Confirm bool `json:"confirm"`
	// StepDurationS is each step's measured window and StepWarmupS the
	// load run before it at the same rate, in seconds.
	StepDurationS float64 `json:"step_duration_s"`
	StepWarmupS   float64 `json:"step_warmup_s"`
}

// CapacityStep is one rate of a capacity search.
type CapacityStep struct {
	// Rate is the rate asked for (handshakes/s); Phase why it was chosen:
	// grow, back-off, bisect, confirm (the answer run again) or retry
	// (the previous step failed with the generator saturated).
	Rate  float64 `json:"rate"`
	Phase string  `json:"phase"`
	// Passed: every SLO term held. Violations lists the terms that did
	// not, with the values measured.
	Passed     bool     `json:"passed"`
	Violations []string `json:"violations,omitempty"`
	// Status is the step's verdict on its own checks, as a case's.
	Status Status `json:"status"`
	// DurationS is the measured window.
	DurationS float64 `json:"duration_s"`
	// AchievedRate is handshakes completed (successfully or not) in the
	// window per second; HandshakesPerS the successful ones.
	AchievedRate   float64 `json:"achieved_rate"`
	HandshakesPerS float64 `json:"handshakes_per_s"`
	Attempted      int64   `json:"attempted"`
	Errors         int64   `json:"errors"`
	// Latency percentiles in µs of the total latency measured from each
	// handshake's intended start (coordinated-omission corrected).
	P50Us  int64 `json:"p50_us"`
	P90Us  int64 `json:"p90_us"`
	P99Us  int64 `json:"p99_us"`
	P999Us int64 `json:"p999_us"`
	// ClientUtilization is the generator's CPU over what it may use (1.0:
	// all of its cores); ClientUsPerHandshake its CPU per handshake.
	ClientUtilization    float64 `json:"client_utilization"`
	ClientUsPerHandshake float64 `json:"client_us_per_handshake"`
	// TargetUtilization is the target's CPU in cores (1.0: one core busy);
	// TargetUsPerHandshake its CPU per successful handshake. Absent when
	// not measured.
	TargetUtilization    float64 `json:"target_utilization,omitempty"`
	TargetUsPerHandshake float64 `json:"target_us_per_handshake,omitempty"`
	// GeneratorCPUsBusy is how busy the CPUs the generator may run on
	// were, by any process (the generator, a target sharing them, anything
	// else), from 0 to 1. Absent when it could not be read.
	GeneratorCPUsBusy float64 `json:"generator_cpus_busy,omitempty"`
	// GeneratorBound: the generator ran short of CPU (its own use, or how
	// busy its CPUs were, above 85%). Meeting the SLO even so counts; a
	// failure may be the generator's: the search runs the rate once more,
	// and stops if that fails saturated too.
	GeneratorBound bool `json:"generator_bound,omitempty"`
	// OtherCores is how many cores, on average over the window, went to
	// anything but the generator and the target: other processes, and the
	// hypervisor's steal. Absent when it cannot be known (an external
	// target whose CPU is not measured). Disturbed: it was more than a
	// quarter of a core (or 5% of a large machine), so a failure may be
	// theirs; the search treats it as a generator-bound one.
	OtherCores float64 `json:"other_cores,omitempty"`
	Disturbed  bool    `json:"disturbed,omitempty"`
	// InFlightLimitHits counts starts that found the in-flight cap reached.
	InFlightLimitHits int64 `json:"in_flight_limit_hits,omitempty"`
}

// Knee is where latency starts to climb with the rate: Rate is the highest
// rate tried before the median latency (p50, coordinated-omission
// corrected) first exceeded Factor times its value at the lowest rate
// tried, and AboveRate the rate where it did.
type Knee struct {
	Rate float64 `json:"rate"`
	// AboveRate is 0 when the median never climbed that far: the knee is
	// then at or above Rate, the highest rate tried.
	AboveRate     float64 `json:"above_rate,omitempty"`
	BaselineRate  float64 `json:"baseline_rate"`
	BaselineP50Us int64   `json:"baseline_p50_us"`
	Factor        float64 `json:"factor"`
}

// Projection is the server cores a rate needs at the measured CPU per
// handshake.
type Projection struct {
	// Rate in handshakes per second.
	Rate float64 `json:"rate"`
	// Cores is busy cores (fractional); WholeCores rounds it up.
	Cores      float64 `json:"cores"`
	WholeCores int     `json:"whole_cores"`
}

// HasCapacity reports whether any case of the run is a capacity search.
func (r *Run) HasCapacity() bool {
	for i := range r.Cases {
		if r.Cases[i].Capacity != nil {
			return true
		}
	}
	return false
}
