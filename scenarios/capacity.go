package scenarios

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/capacity"
)

// CapacitySpec configures 'mtlsbench capacity' ('run' ignores it): for each
// case, an open-loop search for the highest handshake rate that meets an
// SLO, against one target started for the case. The search replaces the
// load model: each step runs at a rate the search picks, for StepWarmup and
// then a measured window of StepDuration. Of load, max_in_flight, interval,
// hold, timeout, linger0 and insecure_skip_verify still apply; the rest
// (concurrency, rate, steps, duration, count, warmup, ramp_up) does not.
type CapacitySpec struct {
	// SLO is what a rate must meet to be sustainable, e.g.
	// "p99<50ms,errors<0.1%" (see capacity.ParseSLO; an achieved>=95% term
	// is added unless one is given). Zero means DefaultSLO.
	SLO string `yaml:"slo" json:"slo,omitempty"`
	// Start is the first rate tried, in handshakes per second. Zero means
	// 100 (or Max, if lower).
	Start float64 `yaml:"start" json:"start,omitempty"`
	// Max is the highest rate tried; meeting the SLO there gives a lower
	// bound. Zero means 100000.
	Max float64 `yaml:"max" json:"max,omitempty"`
	// StepDuration is each step's measured window. Zero means 10s.
	StepDuration Duration `yaml:"step_duration" json:"step_duration,omitempty"`
	// StepWarmup is the load run at the step's rate before its window, so
	// the window starts in a steady state. Zero means 2s.
	StepWarmup Duration `yaml:"step_warmup" json:"step_warmup,omitempty"`
	// Resolution ends the bisection once the lowest failing rate is within
	// this fraction above the highest sustainable one. Zero means 0.05.
	Resolution float64 `yaml:"resolution" json:"resolution,omitempty"`
	// MaxSteps bounds the steps per case. Zero means 20.
	MaxSteps int `yaml:"max_steps" json:"max_steps,omitempty"`
	// Project lists rates (handshakes/s) to project the server cores of,
	// from the CPU per handshake measured at each case's answer.
	Project []float64 `yaml:"project" json:"project,omitempty"`
}

// Capacity defaults, applied by CapacitySpec.Search.
const (
	// MaxCapacitySteps bounds a search's steps.
	MaxCapacitySteps = 200
	// DefaultSLO is the objective when a scenario and the flags give none.
	DefaultSLO          = "p99<50ms,errors<0.1%"
	DefaultStepDuration = 10 * time.Second
	DefaultStepWarmup   = 2 * time.Second
)

// CapacitySearch is a CapacitySpec with its defaults applied and its SLO
// parsed: what bench needs to run the searches.
type CapacitySearch struct {
	Config                   capacity.Config
	StepDuration, StepWarmup time.Duration
	Project                  []float64
}

// Search returns c with defaults applied (see CapacitySpec). It fails only
// on what Validate reports.
func (c CapacitySpec) Search() (CapacitySearch, error) {
	slo := c.SLO
	if strings.TrimSpace(slo) == "" {
		slo = DefaultSLO
	}
	parsed, err := capacity.ParseSLO(slo)
	if err != nil {
		return CapacitySearch{}, err
	}
	s := CapacitySearch{
		Config: capacity.Config{
			SLO: parsed, Start: c.Start, Max: c.Max, Resolution: c.Resolution, MaxSteps: c.MaxSteps,
		},
		StepDuration: c.StepDuration.D(),
		StepWarmup:   c.StepWarmup.D(),
		Project:      cloneSlice(c.Project),
	}
	if s.StepDuration == 0 {
		s.StepDuration = DefaultStepDuration
	}
	if s.StepWarmup == 0 {
		s.StepWarmup = DefaultStepWarmup
	}
	if _, err := capacity.NewSearch(s.Config); err != nil {
		return CapacitySearch{}, err
	}
	return s, nil
}

// checkCapacity reports every problem with the capacity section.
func (s *Spec) checkCapacity(p *problems) {
	c := &s.Capacity
	if strings.TrimSpace(c.SLO) != "" {
		if _, err := capacity.ParseSLO(c.SLO); err != nil {
			msg := err.Error()
			var se *capacity.SLOError
			if errors.As(err, &se) {
				msg = fmt.Sprintf("SLO %q: %s", clip(c.SLO), se.Msg)
			}
			p.add("capacity.slo", c.SLO, msg, "")
		}
	}
	rate := func(field string, v float64) bool {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			p.add("capacity."+field, v, field+" must be a rate in handshakes per second, above 0 (zero means its default)", "")
			return false
		}
		return true
	}
	if rate("start", c.Start) && rate("max", c.Max) && c.Start > 0 && c.Max > 0 && c.Start > c.Max {
		p.add("capacity.start", c.Start, fmt.Sprintf("start %v is above max %v (line %d): the search starts at start and never goes above max", c.Start, c.Max, s.line("capacity.max")), "")
	}
	if c.Max == 0 && c.Start > capacity.DefaultMax {
		p.add("capacity.start", c.Start, fmt.Sprintf("start %v is above the default max %d: raise max too", c.Start, capacity.DefaultMax), "")
	}
	if c.Resolution < 0 || c.Resolution >= 1 || math.IsNaN(c.Resolution) {
		p.add("capacity.resolution", c.Resolution, "resolution is a fraction between 0 and 1 (0.05: stop bisecting when the failing rate is within 5% of the sustainable one)", "")
	}
	if c.MaxSteps < 0 || c.MaxSteps == 1 || c.MaxSteps > MaxCapacitySteps {
		p.add("capacity.max_steps", c.MaxSteps, fmt.Sprintf("max_steps must be 2 to %d (0 means 20)", MaxCapacitySteps), "")
	}
	if c.Start > MaxRate || c.Max > MaxRate {
		p.add("capacity.max", c.Max, fmt.Sprintf("start and max are at most %s handshakes per second", units(MaxRate)), "")
	}
	for _, f := range []struct {
		name   string
		v      Duration
		lo, hi time.Duration
	}{{"step_duration", c.StepDuration, MinWindow, time.Hour}, {"step_warmup", c.StepWarmup, 0, time.Hour}} {
		if f.v < 0 || f.v.D() > f.hi || (f.v != 0 && f.v.D() < f.lo) {
			p.add("capacity."+f.name, f.v, fmt.Sprintf("%s %s is out of range: %s to %s (0 means its default)", f.name, f.v, f.lo, f.hi), "")
		}
	}
	for i, r := range c.Project {
		if !(r > 0) || math.IsInf(r, 0) {
			p.add(index("capacity.project", i), r, fmt.Sprintf("project %v is not a rate: list handshakes per second to project server cores for, e.g. project: [20000]", r), "")
		}
	}
}
