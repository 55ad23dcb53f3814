package capacity

import (
	"math"
	"testing"
)

func TestProject(t *testing.T) {
	for _, tc := range []struct {
		name  string
		us    float64
		rates []float64
		cores []float64
		whole []int
	}{
		// 500 µs per handshake: one core does 2000/s, so 20000/s needs 10
		// cores exactly (not 11).
		{"exact", 500, []float64{20000}, []float64{10}, []int{10}},
		// 1234 µs: 20000/s needs 24.68 cores, 25 whole ones; 1000/s 1.234.
		{"fractional", 1234, []float64{20000, 1000}, []float64{24.68, 1.234}, []int{25, 2}},
		// A tiny rate still needs one core.
		{"small", 800, []float64{10}, []float64{0.008}, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Project(tc.us, tc.rates)
			if len(got) != len(tc.rates) {
				t.Fatalf("%d projections for %d rates", len(got), len(tc.rates))
			}
			for i, p := range got {
				if p.Rate != tc.rates[i] || math.Abs(p.Cores-tc.cores[i]) > 1e-9 || p.WholeCores() != tc.whole[i] {
					t.Errorf("projection %d = %+v (%d whole), want %v cores, %d whole", i, p, p.WholeCores(), tc.cores[i], tc.whole[i])
				}
			}
		})
	}
	if Project(0, []float64{20000}) != nil {
		t.Error("Project without a CPU figure: want nil (not measured, not zero cores)")
	}
	if got := PerCore(500); got != 2000 {
		t.Errorf("PerCore(500) = %v, want 2000", got)
	}
	if PerCore(0) != 0 {
		t.Error("PerCore(0): want 0")
	}
}

func TestCPUPerHandshake(t *testing.T) {
	// 1000 handshakes at 500 µs and 3000 at 700 µs pool to 650 µs; a step
	// without a CPU figure or without handshakes does not count.
	got := CPUPerHandshake([]float64{500, 700, 0, 900}, []int64{1000, 3000, 500, 0})
	if math.Abs(got-650) > 1e-9 {
		t.Errorf("CPUPerHandshake = %v, want 650", got)
	}
	if CPUPerHandshake(nil, nil) != 0 {
		t.Error("no steps: want 0")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"20000": 20000, "20000/s": 20000, "20k/s": 20000, "1.5K": 1500, "2M/s": 2e6, " 300 ": 300} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "0", "-5/s", "NaN", "20000/min"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q): want an error", in)
		}
	}
}
