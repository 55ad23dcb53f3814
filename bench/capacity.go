package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/capacity"
	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
)

// CapacityOptions configure a capacity run: Options say what to run and
// where to report (Repeat is ignored: a search repeats what it needs to),
// Search how each case's search goes.
type CapacityOptions struct {
	Options
	Search scenarios.CapacitySearch
}

// Capacity runs a capacity search for every case: it starts the case's
// target once, then runs open-loop steps against it at the rates the
// search (package capacity) asks for, each with its own warm-up and
// window, until the search stops. Each case in the result carries the
// answer in Capacity; its other figures are those of the step at the
// answer. Errors and interrupts are handled as by Run.
func Capacity(ctx context.Context, opts CapacityOptions) (*results.Run, error) {
	if _, err := capacity.NewSearch(opts.Search.Config); err != nil {
		return nil, &InputError{Err: err}
	}
	if opts.Search.StepDuration <= 0 {
		return nil, &InputError{Err: fmt.Errorf("bench: capacity step duration must be positive, got %s", opts.Search.StepDuration)}
	}
	for _, c := range opts.Cases {
		if len(c.Target.RotateAt) > 0 {
			// Its steps are windows of their own: an offset into "the"
			// window means nothing there.
			return nil, &InputError{Err: fmt.Errorf("bench: case %s: a certificate rotation (--rotate-at) is for 'mtlsbench run', not a capacity search; run it at the rate the search found", c.Name)}
		}
	}
	r, err := prepare(ctx, &opts.Options)
	if err != nil {
		return nil, err
	}
	run := newRun(&opts.Options)
	r.search = true
	search := func(ctx context.Context, c *scenarios.Case, _, n, total int) (*results.Case, error) {
		return r.capacityCase(ctx, c, n, total, opts.Search)
	}
	if err := r.eachCase(ctx, run, 1, search); err != nil {
		return nil, err
	}
	return run, nil
}

// newRun starts the result of a run or search of opts.Cases.
func newRun(opts *Options) *results.Run {
	return &results.Run{
		Schema:      results.Schema,
		Tool:        results.Tool{Name: "mtlsbench", Version: Version, GoVersion: runtime.Version()},
		Start:       time.Now(),
		Environment: environment(opts.Cases),
		Scenario:    opts.Scenario,
		Cases:       []results.Case{},
	}
}

// prepare applies Options' defaults, pins the generator, and refuses before
// any load what cannot run: the set-up of Run and Capacity.
func prepare(ctx context.Context, opts *Options) (*runner, error) {
	if len(opts.ChildCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("bench: find this executable to start the built-in target: %w", err)
		}
		opts.ChildCommand = []string{exe, "serve", "--child"}
	}
	r := &runner{opts: *opts, pki: newPKICache()}
	if len(opts.Cases) > 0 && opts.Cases[0].Target.ClientCPUs != "" {
		set, err := cpuset.Parse(opts.Cases[0].Target.ClientCPUs)
		if err != nil {
			return nil, &InputError{Err: err}
		}
		if err := cpuset.PinSelf(set); err != nil {
			return nil, err
		}
	}
	for i := range opts.Cases {
		if err := r.preflight(ctx, &opts.Cases[i]); err != nil {
			return nil, &InputError{Err: fmt.Errorf("bench: case %s: %w", opts.Cases[i].Name, err)}
		}
	}
	return r, nil
}

// capacityCase runs one case's search against one target.
func (r *runner) capacityCase(ctx context.Context, c *scenarios.Case, n, total int, search scenarios.CapacitySearch) (*results.Case, error) {
	m, tgt, err := r.setUp(ctx, c)
	if err != nil {
		return nil, err
	}
	defer tgt.Close()

	s, err := capacity.NewSearch(search.Config)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	cpus, cpuErr := cpuset.Allowed()
	var (
		stepCases []*results.Case
		steps     []results.CapacityStep
		failure   string
		status    = results.StatusOK
	)
	for {
		rate, phase, ok := s.Next()
		if !ok {
			break
		}
		st := stepRun{base: c, material: m, target: tgt, rate: rate, phase: phase,
			index: len(steps) + 1, n: n, total: total, search: search, cpus: cpus, cpuErr: cpuErr}
		sc, meas, cpu, err := r.capacityStep(ctx, &st)
		if err != nil {
			if loadgen.IsConfigError(err) {
				return nil, &InputError{Err: err}
			}
			return nil, err
		}
		if sc.Status == results.StatusInterrupted {
			s.Abort()
			status = results.StatusInterrupted
			break
		}
		if why := abortive(sc, len(steps) == 0); why != "" {
			s.Abort()
			status, failure = results.StatusFailed, why
			stepCases = append(stepCases, sc)
			steps = append(steps, stepRecord(capacity.Step{Rate: rate, Phase: phase, Measurement: meas}, sc, cpu))
			break
		}
		judged := s.Record(meas)
		stepCases = append(stepCases, sc)
		steps = append(steps, stepRecord(judged, sc, cpu))
		r.reportStep(n, total, c.Name, &steps[len(steps)-1])
	}
	res := s.Result()
	out := assembleCapacity(c, res, stepCases, steps, search)
	if status != results.StatusOK {
		out.Status = status
		if failure != "" {
			out.Failure = failure
		}
	}
	if note := clientVerifyNote(c); note != "" {
		out.Warnings = append(out.Warnings, note)
	}
	for _, w := range out.Warnings {
		r.warn(out.Name, w)
	}
	return out, nil
}

// abortive says why a step ends the search with the case failed, or "":
// a handshake that did not negotiate what the case asks makes the case
// fail whatever the rate (a case measures what it says or fails), and so
// does a first step in which no handshake succeeded (the set-up is wrong,
// or the start rate far too high: the message says both).
func abortive(sc *results.Case, first bool) string {
	if sc.Status != results.StatusFailed {
		return ""
	}
	for _, cls := range []string{"param_mismatch", "resume_miss"} {
		if sc.Errors[cls] > 0 {
			return sc.Failure
		}
	}
	if first && sc.Counts.OK == 0 {
		return sc.Failure + " (at the first rate of the search, " + units.AskedRate(sc.Params.Rate) + "/s: fix the set-up, or lower --start)"
	}
	return ""
}

// stepRun is one step's inputs.
type stepRun struct {
	base     *scenarios.Case
	material *material
	target   targets.Target
	rate     float64
	phase    capacity.Phase
	index    int
	n, total int
	search   scenarios.CapacitySearch
	cpus     []int
	cpuErr   error
}

// capacityStep runs one step: the case's load at the step's rate, open
// loop, with the step's warm-up and window, and returns its result as a
// case, the measurement the search judges, and what it saw of the CPUs.
func (r *runner) capacityStep(ctx context.Context, st *stepRun) (*results.Case, capacity.Measurement, stepCPU, error) {
	sc := *st.base
	l := &sc.Load
	l.Rate, l.Steps, l.StepDuration, l.RampUp, l.Count = st.rate, nil, 0, 0, 0
	l.Duration = scenarios.Duration(st.search.StepDuration)
	l.Warmup = scenarios.Duration(st.search.StepWarmup)
	l.Concurrency = 0
	if l.MaxInFlight == 0 {
		l.MaxInFlight = loadgen.DefaultMaxInFlight
	}
	label := sc
	label.Name = fmt.Sprintf("%s · step %d %s/s", st.base.Name, st.index, units.AskedRate(st.rate))
	cfg := loadConfig(&sc, st.material, st.target)
	observed := st.target
	if !countsAreCheap(&sc, st.target) {
		observed = withoutCounts{st.target}
	}
	obs := &capacityObserver{
		observer: newObserver(ctx, observed, r.opts, &label, st.n, st.total, pidsOf(&sc, st.target)),
		cpus:     st.cpus, err: st.cpuErr,
	}
	obs.forStep(st.index, st.rate)
	if !r.opts.Live {
		// Plain progress: the step lines say what each step did; a status
		// line only for a step still running after 10 s.
		obs.lastPlain = time.Now()
	}
	cfg.Observer = obs
	res, err := loadgen.Run(ctx, cfg)
	obs.finish()
	if err != nil {
		return nil, capacity.Measurement{}, stepCPU{}, err
	}
	out := caseResult(&sc, 0, res)
	obs.apply(out, res, &sc)
	judge(out, res, &sc, false)
	cpu := stepCPU{busy: obs.busy(), others: -1}
	if out.CPU.TargetMeasured || !isExternal(&sc) {
		// An external target's CPU, unless measured, is not to be told
		// from anything else's; it may even run here.
		cpu.others = obs.others(out.CPU.ClientUtilization*out.CPU.ClientCores, out.CPU.TargetUtilization)
	}
	m := capacity.Measurement{
		Rate: st.rate, Achieved: res.Load.AchievedRate, Attempted: out.Counts.Attempted, Errors: out.Counts.Errors,
		GeneratorBound: out.GeneratorBound || cpu.busy > loadgen.GeneratorBoundUtilization || out.Errors["generator_limit"] > 0,
		Disturbed:      cpu.others > disturbedCores(runtime.NumCPU()),
	}
	if t := out.Latency.Total; t != nil {
		m.P50, m.P90, m.P99, m.P999 = t.P50Us, t.P90Us, t.P99Us, t.P999Us
	}
	return out, m, cpu, nil
}

// stepCPU is what a step saw of the machine's CPUs: how busy the
// generator's were (0 to 1), and how many cores went to other processes
// (-1: unknown).
type stepCPU struct{ busy, others float64 }

// disturbedCores is how many cores other processes may use during a step
// before it counts as disturbed: a quarter of a core, or 5% of a large
// machine (daemons, monitoring).
func disturbedCores(cpus int) float64 {
	return max(0.25, 0.05*float64(cpus))
}

// countsAreCheap reports whether the target's own counts can be read for
// every step. The built-in target answers at once at the window's edges; a
// targets.WindowCounter (nginx, HAProxy) is asked after the step for the
// connections it accepted in its window. openssl s_server's statistics
// page has no times and is read by a probe connection that waits its turn
// under a continuous open loop, which would move each step's window:
// capacity steps against it skip the cross-check (the client still checks
// every handshake's parameters); a plain run at the rate found does it.
func countsAreCheap(c *scenarios.Case, tgt targets.Target) bool {
	if _, ok := tgt.(targets.WindowCounter); ok {
		return true
	}
	return c.Target.Kind == "" || c.Target.Kind == string(targets.KindBuiltin)
}

// withoutCounts is a target whose counts are not read.
type withoutCounts struct{ targets.Target }

func (withoutCounts) Counts(context.Context) (targets.Counts, error) {
	return targets.Counts{}, targets.ErrNoCounts
}

// capacityObserver is the case observer plus a sample of how busy the
// generator's CPUs were at the window's edges.
type capacityObserver struct {
	*observer
	cpus []int

	mu         sync.Mutex // guards the fields below (the engine's controller writes, busy reads)
	start, end procstat.CPUTimes
	err        error
	// machine: every CPU, for the other processes' share.
	machineStart, machineEnd procstat.CPUTimes
	machineErr               error
}

func (o *capacityObserver) WindowStart(t time.Time) {
	o.observer.WindowStart(t)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		o.start, o.err = procstat.ReadCPUTimes(o.cpus)
	}
	o.machineStart, o.machineErr = procstat.ReadCPUTimes(nil)
}

func (o *capacityObserver) WindowEnd(t time.Time) {
	o.mu.Lock()
	if o.err == nil {
		o.end, o.err = procstat.ReadCPUTimes(o.cpus)
	}
	if o.machineErr == nil {
		o.machineEnd, o.machineErr = procstat.ReadCPUTimes(nil)
	}
	o.mu.Unlock()
	o.observer.WindowEnd(t)
}

// busy is the share of the generator's CPUs that was busy over the
// window; 0 when it could not be read.
func (o *capacityObserver) busy() float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return 0
	}
	return procstat.BusyShare(o.start, o.end)
}

// others is how many cores went to other processes over the window, given
// the generator's and the target's use; -1 when it cannot be known.
func (o *capacityObserver) others(generator, target float64) float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.machineErr != nil {
		return -1
	}
	return procstat.OtherCores(o.machineStart, o.machineEnd, runtime.NumCPU(), generator, target)
}

var _ loadgen.Observer = (*capacityObserver)(nil)

// stepRecord turns a judged step and its case into the result's step.
func stepRecord(st capacity.Step, sc *results.Case, cpu stepCPU) results.CapacityStep {
	out := results.CapacityStep{
		Rate: st.Rate, Phase: string(st.Phase), Passed: st.Passed, Status: sc.Status, DurationS: sc.DurationS,
		HandshakesPerS: sc.HandshakesPerS, Attempted: sc.Counts.Attempted, Errors: sc.Counts.Errors,
		P50Us: st.P50, P90Us: st.P90, P99Us: st.P99, P999Us: st.P999,
		ClientUtilization: sc.CPU.ClientUtilization, ClientUsPerHandshake: sc.CPU.ClientUsPerHandshake,
		GeneratorCPUsBusy: cpu.busy, GeneratorBound: st.GeneratorBound, Disturbed: st.Disturbed,
	}
	if cpu.others >= 0 {
		out.OtherCores = cpu.others
	}
	if sc.Load != nil {
		out.AchievedRate = sc.Load.AchievedRate
		out.InFlightLimitHits = sc.Load.InFlightLimitHits
	}
	if sc.CPU.TargetMeasured {
		out.TargetUtilization = sc.CPU.TargetUtilization
		out.TargetUsPerHandshake = sc.CPU.TargetUsPerHandshake
	}
	for _, v := range st.Violations {
		out.Violations = append(out.Violations, v.String())
	}
	return out
}

// assembleCapacity builds the case's result: the figures of the step at
// the answer (the last one there; else the last step), and the search.
func assembleCapacity(c *scenarios.Case, res capacity.Result, stepCases []*results.Case, steps []results.CapacityStep, search scenarios.CapacitySearch) *results.Case {
	var out results.Case
	switch {
	case len(res.AtMax) > 0:
		out = *stepCases[res.AtMax[len(res.AtMax)-1]]
	case len(stepCases) > 0:
		out = *stepCases[len(stepCases)-1]
	default:
		out = *failedCase(c, 0, errors.New("no step ran"))
		out.Status = results.StatusInterrupted
		out.Failure = "interrupted before the first step"
	}
	cfg := search.Config
	cp := &results.Capacity{
		SLO: cfg.SLO.String(), Verdict: string(res.Verdict), StopReason: string(res.Stop), Explanation: res.Explain(),
		MaxSustainableRate: res.MaxSustainable, FirstFailingRate: res.FirstFailing,
		Search: capacitySearchRecord(search),
		Steps:  steps,
	}
	if len(res.AtMax) > 0 {
		at := steps[res.AtMax[len(res.AtMax)-1]]
		cp.AtMax = &at
		var us []float64
		var n []int64
		for _, i := range res.AtMax {
			us = append(us, steps[i].TargetUsPerHandshake)
			n = append(n, stepCases[i].Counts.OK)
		}
		cp.TargetUsPerHandshake = capacity.CPUPerHandshake(us, n)
		cp.PerCoreRate = capacity.PerCore(cp.TargetUsPerHandshake)
	}
	if res.FailedAt >= 0 {
		cp.FirstFailingTerms = steps[res.FailedAt].Violations
	}
	if k, ok := capacity.FindKnee(res.Steps); ok {
		cp.Knee = &results.Knee{Rate: k.Rate, AboveRate: k.Above, BaselineRate: k.BaselineRate, BaselineP50Us: k.BaselineP50, Factor: capacity.KneeFactor}
	}
	for _, p := range capacity.Project(cp.TargetUsPerHandshake, search.Project) {
		cp.Projections = append(cp.Projections, results.Projection{Rate: p.Rate, Cores: p.Cores, WholeCores: p.WholeCores()})
	}
	if len(cp.Projections) > 0 {
		cp.ProjectionAssumption = capacity.Assumption
	}
	out.Capacity = cp
	out.Warnings = append([]string(nil), out.Warnings...)
	if res.Stop == capacity.StopGeneratorBound {
		last := steps[len(steps)-1]
		for i := len(steps) - 1; i >= 0; i-- {
			if (steps[i].GeneratorBound || steps[i].Disturbed) && !steps[i].Passed {
				last = steps[i] // the inconclusive failure that ended the search
				break
			}
		}
		what := "capacity is a lower bound"
		if res.Verdict == capacity.VerdictNone {
			what = "no capacity figure"
		}
		var why, fix string
		if last.GeneratorBound {
			why = fmt.Sprintf("the generator used %.0f%% of its cores and its CPUs were %.0f%% busy (by any process)", 100*last.ClientUtilization, 100*last.GeneratorCPUsBusy)
			fix = "give it CPUs of its own (--client-cpus, --target-cpus) or more cores"
		}
		if last.Disturbed {
			if why != "" {
				why += ", and "
			}
			why += fmt.Sprintf("other processes used %.1f cores", last.OtherCores)
			if fix != "" {
				fix += "; "
			}
			fix += "run it on a quieter machine"
		}
		out.Warnings = append(out.Warnings, fmt.Sprintf("%s: at %s/s %s; %s, and run again", what, units.AskedRate(last.Rate), why, fix))
	}
	if !isExternal(c) && slices.ContainsFunc(stepCases, func(sc *results.Case) bool { return sc.TargetCounts == nil }) {
		kind := cmp.Or(c.Target.Kind, string(targets.KindBuiltin))
		out.Warnings = append(out.Warnings, fmt.Sprintf(
			"%s's own record was not cross-checked in some of the search's steps; "+
				"'mtlsbench run --target %s -r RATE' at the answer cross-checks it", kind, kind))
	}
	if len(search.Project) > 0 && len(cp.Projections) == 0 && res.MaxSustainable > 0 {
		why := "the target's CPU was not measured"
		switch {
		case c.Target.InProcess:
			why = "the built-in target ran inside the generator (in_process), so its CPU cannot be told apart"
		case isExternal(c):
			why = "the target's CPU was not measured (name its processes with --target-pid)"
		}
		out.Warnings = append(out.Warnings, "no projection: "+why)
	}
	return &out
}

func capacitySearchRecord(s scenarios.CapacitySearch) results.CapacitySearch {
	search, _ := capacity.NewSearch(s.Config)
	cfg := search.Config()
	return results.CapacitySearch{
		StartRate: cfg.Start, MaxRate: cfg.Max, MinRate: cfg.Min, Growth: cfg.Growth, Resolution: cfg.Resolution,
		MaxSteps: cfg.MaxSteps, Confirm: !cfg.SkipConfirm,
		StepDurationS: s.StepDuration.Seconds(), StepWarmupS: s.StepWarmup.Seconds(),
	}
}

// reportStep prints one line per step where progress goes: the search's
// trail, which the live status line does not keep.
func (r *runner) reportStep(n, total int, name string, st *results.CapacityStep) {
	w := r.opts.Progress
	if w == nil {
		return
	}
	verdict := "meets the SLO"
	if !st.Passed {
		verdict = "fails: " + strings.Join(st.Violations, "; ")
	}
	if st.GeneratorBound {
		verdict += " [generator bound]"
	}
	if st.Disturbed {
		verdict += " [disturbed]"
	}
	fmt.Fprintf(w, "[%d/%d] %s  %-7s %6s/s  achieved %s/s  p99 %s  errors %d  cpus busy %.0f%%  others %.1f cores  → %s\n",
		n, total, name, st.Phase, units.AskedRate(st.Rate), units.MeasuredRate(st.AchievedRate),
		units.Latency(float64(st.P99Us)), st.Errors, 100*st.GeneratorCPUsBusy, st.OtherCores, verdict)
}
