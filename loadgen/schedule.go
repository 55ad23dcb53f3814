package loadgen

import (
	"fmt"
	"math"
	"time"
)

// A Schedule paces open-loop starts. It is a pure function of its inputs,
// so it can be table-tested apart from any load:
//
//	Pace(elapsed, started) → (wait, stop)
//
// elapsed is the time since the schedule began and started the number of
// starts already made; wait is how long from elapsed until the next start
// is due (negative when it is already late: the start is then made at once
// and its lateness recorded as schedule lag), stop is true when the
// schedule has no more starts.
//
// Every schedule here is defined by when its n-th start is due (At), and
// Pace follows from it. Latency in an open loop is measured from that due
// time, not from when the start actually happened, so a stalled target or a
// saturated generator shows up in the percentiles instead of being hidden
// (coordinated omission).
type Schedule interface {
	Pace(elapsed time.Duration, started uint64) (wait time.Duration, stop bool)
	// At returns when start n (0-based) is due, measured from the
	// schedule's beginning; ok is false past the end of the schedule.
	At(n uint64) (due time.Duration, ok bool)
	// RateAt is the intended rate (starts per second) at t.
	RateAt(t time.Duration) float64
	// Duration is the schedule's length; 0 means it never ends by itself.
	Duration() time.Duration
	// Segment returns which segment t falls in (a step index; 0 for
	// schedules without steps) and how many segments there are.
	Segment(t time.Duration) (index, count int)
}

func pace(s Schedule, elapsed time.Duration, started uint64) (time.Duration, bool) {
	due, ok := s.At(started)
	if !ok {
		return 0, true
	}
	return due - elapsed, false
}

// seconds converts a start count at a rate into a duration without the
// rounding drift of repeated addition.
func seconds(x float64) time.Duration {
	return time.Duration(math.Round(x * float64(time.Second)))
}

// Constant starts Rate handshakes per second, evenly spaced, for Length
// (0: until stopped).
type Constant struct {
	Rate   float64
	Length time.Duration
}

// At: start n is due at n/Rate.
func (c Constant) At(n uint64) (time.Duration, bool) {
	due := seconds(float64(n) / c.Rate)
	if c.Length > 0 && due >= c.Length {
		return 0, false
	}
	return due, true
}

func (c Constant) Pace(elapsed time.Duration, started uint64) (time.Duration, bool) {
	return pace(c, elapsed, started)
}
func (c Constant) RateAt(time.Duration) float64             { return c.Rate }
func (c Constant) Duration() time.Duration                  { return c.Length }
func (c Constant) Segment(time.Duration) (index, count int) { return 0, 1 }

// Ramp grows the rate linearly from 0 to Rate over Up, then holds Rate
// until Length (measured from the start of the ramp; 0: until stopped).
type Ramp struct {
	Rate   float64
	Up     time.Duration
	Length time.Duration
}

// At inverts the cumulative start count N(t): during the ramp
// N(t) = Rate·t²/(2·Up), so start n is due at sqrt(2·n·Up/Rate); after it
// N(t) = Rate·Up/2 + Rate·(t−Up).
func (r Ramp) At(n uint64) (time.Duration, bool) {
	up := r.Up.Seconds()
	rampStarts := r.Rate * up / 2
	var t float64
	if float64(n) < rampStarts {
		t = math.Sqrt(2 * float64(n) * up / r.Rate)
	} else {
		t = up + (float64(n)-rampStarts)/r.Rate
	}
	due := seconds(t)
	if r.Length > 0 && due >= r.Length {
		return 0, false
	}
	return due, true
}

func (r Ramp) Pace(elapsed time.Duration, started uint64) (time.Duration, bool) {
	return pace(r, elapsed, started)
}

func (r Ramp) RateAt(t time.Duration) float64 {
	if t >= r.Up {
		return r.Rate
	}
	return r.Rate * t.Seconds() / r.Up.Seconds()
}
func (r Ramp) Duration() time.Duration { return r.Length }
func (r Ramp) Segment(t time.Duration) (index, count int) {
	if t < r.Up {
		return 0, 2
	}
	return 1, 2
}

// Steps holds each of Rates for StepLength in turn, then stops. A step
// begins exactly at its boundary: its first start is due at the boundary
// and the previous step's starts never spill into it.
type Steps struct {
	Rates      []float64
	StepLength time.Duration
}

// At walks the steps: step i contributes floor-free Rates[i]·StepLength
// starts, and start n falls in the first step whose cumulative count
// exceeds n.
func (s Steps) At(n uint64) (time.Duration, bool) {
	step := s.StepLength.Seconds()
	before := 0.0 // starts due before the current step
	for i, rate := range s.Rates {
		inStep := math.Ceil(rate*step - 1e-9) // starts at k/rate for k/rate < step
		if float64(n) < before+inStep {
			t := float64(i)*step + (float64(n)-before)/rate
			return seconds(t), true
		}
		before += inStep
	}
	return 0, false
}

func (s Steps) Pace(elapsed time.Duration, started uint64) (time.Duration, bool) {
	return pace(s, elapsed, started)
}

func (s Steps) RateAt(t time.Duration) float64 {
	i, _ := s.Segment(t)
	return s.Rates[i]
}
func (s Steps) Duration() time.Duration { return time.Duration(len(s.Rates)) * s.StepLength }
func (s Steps) Segment(t time.Duration) (index, count int) {
	i := int(t / s.StepLength)
	if i >= len(s.Rates) {
		i = len(s.Rates) - 1
	}
	if i < 0 {
		i = 0
	}
	return i, len(s.Rates)
}

// validateSchedule reports a schedule that cannot run.
func validateSchedule(s Schedule) error {
	switch s := s.(type) {
	case Constant:
		if !(s.Rate > 0) || math.IsInf(s.Rate, 0) {
			return &ConfigError{fmt.Sprintf("rate must be a positive number of handshakes per second, got %v", s.Rate)}
		}
	case Ramp:
		if !(s.Rate > 0) || math.IsInf(s.Rate, 0) {
			return &ConfigError{fmt.Sprintf("rate must be a positive number of handshakes per second, got %v", s.Rate)}
		}
		if s.Up <= 0 {
			return &ConfigError{fmt.Sprintf("ramp-up must be positive, got %s", s.Up)}
		}
	case Steps:
		if len(s.Rates) == 0 {
			return &ConfigError{"steps need at least one rate"}
		}
		for _, r := range s.Rates {
			if !(r > 0) || math.IsInf(r, 0) {
				return &ConfigError{fmt.Sprintf("every step rate must be positive, got %v", r)}
			}
		}
		if s.StepLength <= 0 {
			return &ConfigError{fmt.Sprintf("step duration must be positive, got %s", s.StepLength)}
		}
	}
	return nil
}
