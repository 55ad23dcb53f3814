package capacity

import "testing"

func at(rate float64, p50 int64) Step {
	return Step{Rate: rate, Measurement: Measurement{Rate: rate, Attempted: 100, P50: p50}}
}

func TestFindKnee(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []Step
		want  Knee
		ok    bool
	}{
		// p50 flat at ~1ms, then 2.5ms at 1600 (over 2 × 1ms): the knee is
		// 800, the last rate before the climb.
		{"climb", []Step{at(100, 1000), at(200, 1000), at(400, 1100), at(800, 1600), at(1600, 2500)},
			Knee{Rate: 800, Above: 1600, BaselineRate: 100, BaselineP50: 1000}, true},
		// Steps come in search order, not rate order; exactly 2× is not past.
		{"order", []Step{at(100, 1000), at(1600, 90000), at(800, 2000), at(1200, 2100)},
			Knee{Rate: 800, Above: 1200, BaselineRate: 100, BaselineP50: 1000}, true},
		// A rate run twice (confirmation) counts with its worse median.
		{"repeat", []Step{at(100, 1000), at(400, 1500), at(400, 2500)},
			Knee{Rate: 100, Above: 400, BaselineRate: 100, BaselineP50: 1000}, true},
		// Latency never doubles: no climb seen, the knee is at or above
		// the highest rate.
		{"flat", []Step{at(100, 1000), at(200, 1200), at(400, 1900)},
			Knee{Rate: 400, BaselineRate: 100, BaselineP50: 1000}, true},
		// A step where nothing completed tells nothing.
		{"no data ignored", []Step{at(100, 1000), {Rate: 200}, at(400, 3000)},
			Knee{Rate: 100, Above: 400, BaselineRate: 100, BaselineP50: 1000}, true},
		// One rate: nothing to compare.
		{"one rate", []Step{at(100, 1000), at(100, 1200)}, Knee{}, false},
		{"none", nil, Knee{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := FindKnee(tc.steps)
			if got != tc.want || ok != tc.ok {
				t.Errorf("FindKnee = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
