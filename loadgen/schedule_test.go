package loadgen

import (
	"testing"
	"time"
)

const ms = time.Millisecond

func TestSchedulePace(t *testing.T) {
	tests := []struct {
		name     string
		s        Schedule
		elapsed  time.Duration
		started  uint64
		wantWait time.Duration
		wantStop bool
	}{
		// Constant: start n is due at n/rate, whatever the clock says.
		{"constant: first start due at once", Constant{Rate: 1000}, 0, 0, 0, false},
		{"constant: second start 1ms after the first", Constant{Rate: 1000}, 0, 1, 1 * ms, false},
		{"constant: on time after 1s", Constant{Rate: 1000}, time.Second, 1000, 0, false},
		{"constant: behind schedule gives a negative wait (lag)", Constant{Rate: 1000}, 10 * ms, 5, -5 * ms, false},
		{"constant: ahead of schedule waits the difference", Constant{Rate: 100}, 0, 3, 30 * ms, false},
		{"constant: no starts due at or after the end", Constant{Rate: 1000, Length: time.Second}, 0, 1000, 0, true},
		{"constant: last start before the end", Constant{Rate: 1000, Length: time.Second}, 0, 999, 999 * ms, false},
		{"constant: unbounded never stops", Constant{Rate: 1}, time.Hour, 1 << 20, time.Duration(1<<20)*time.Second - time.Hour, false},

		// Ramp from 0 to 1000/s over 1s: 500 starts in the ramp, start n due at sqrt(n/500) s.
		{"ramp: first start at zero", Ramp{Rate: 1000, Up: time.Second}, 0, 0, 0, false},
		{"ramp: start 125 due at 0.5s (a quarter of the ramp's starts)", Ramp{Rate: 1000, Up: time.Second}, 0, 125, 500 * ms, false},
		{"ramp: start 500 is the end of the ramp", Ramp{Rate: 1000, Up: time.Second}, 0, 500, time.Second, false},
		{"ramp: after the ramp, constant rate", Ramp{Rate: 1000, Up: time.Second}, time.Second, 1500, time.Second, false},
		{"ramp: stops at its length", Ramp{Rate: 1000, Up: time.Second, Length: 2 * time.Second}, 0, 1500, 0, true},

		// Steps 100/s then 1000/s, 1s each: 100 starts in step 0, then 1000 in step 1.
		{"steps: step 0 spacing is 10ms", Steps{Rates: []float64{100, 1000}, StepLength: time.Second}, 0, 1, 10 * ms, false},
		{"steps: first start of step 1 at its boundary", Steps{Rates: []float64{100, 1000}, StepLength: time.Second}, 0, 100, time.Second, false},
		{"steps: step 1 spacing is 1ms", Steps{Rates: []float64{100, 1000}, StepLength: time.Second}, 0, 101, time.Second + ms, false},
		{"steps: stop after the last step's starts", Steps{Rates: []float64{100, 1000}, StepLength: time.Second}, 0, 1100, 0, true},
		{"steps: a fractional step rate still starts on the boundary", Steps{Rates: []float64{2.5, 10}, StepLength: time.Second}, 0, 3, time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wait, stop := tc.s.Pace(tc.elapsed, tc.started)
			if stop != tc.wantStop || (!stop && wait != tc.wantWait) {
				t.Errorf("Pace(%v, %d) = (%v, %v), want (%v, %v)", tc.elapsed, tc.started, wait, stop, tc.wantWait, tc.wantStop)
			}
		})
	}
}

// Over a whole schedule the number of starts matches the integral of its
// rate: no drift from accumulated rounding.
func TestScheduleTotals(t *testing.T) {
	count := func(s Schedule) uint64 {
		var n uint64
		for {
			if _, ok := s.At(n); !ok {
				return n
			}
			n++
		}
	}
	for _, tc := range []struct {
		name string
		s    Schedule
		want uint64
	}{
		{"constant 1000/s for 10s", Constant{Rate: 1000, Length: 10 * time.Second}, 10000},
		{"constant 3/s for 1s", Constant{Rate: 3, Length: time.Second}, 3},
		{"ramp to 1000/s over 2s, then 2s flat", Ramp{Rate: 1000, Up: 2 * time.Second, Length: 4 * time.Second}, 3000},
		{"steps 500,1000,2000 for 1s each", Steps{Rates: []float64{500, 1000, 2000}, StepLength: time.Second}, 3500},
	} {
		if got := count(tc.s); got != tc.want {
			t.Errorf("%s: %d starts, want %d", tc.name, got, tc.want)
		}
	}
}

func TestScheduleSegments(t *testing.T) {
	s := Steps{Rates: []float64{500, 1000, 2000}, StepLength: 10 * time.Second}
	for _, tc := range []struct {
		t    time.Duration
		want int
	}{{0, 0}, {9999 * ms, 0}, {10 * time.Second, 1}, {25 * time.Second, 2}, {40 * time.Second, 2}} {
		if got, n := s.Segment(tc.t); got != tc.want || n != 3 {
			t.Errorf("Segment(%v) = %d of %d, want %d of 3", tc.t, got, n, tc.want)
		}
	}
	if r := s.RateAt(15 * time.Second); r != 1000 {
		t.Errorf("RateAt(15s) = %v, want 1000", r)
	}
}

func TestValidateSchedule(t *testing.T) {
	for _, s := range []Schedule{Constant{Rate: 0}, Ramp{Rate: 10}, Steps{}, Steps{Rates: []float64{1, -1}, StepLength: time.Second}} {
		if err := validateSchedule(s); err == nil {
			t.Errorf("%#v accepted", s)
		}
	}
}
