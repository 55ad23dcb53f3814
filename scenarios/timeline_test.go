package scenarios

import (
	"slices"
	"testing"
	"time"
)

func TestTimeline(t *testing.T) {
	sec := time.Second
	cases := []Case{
		{Name: "a", Load: LoadSpec{Duration: Duration(10 * sec), Warmup: Duration(2 * sec)}},
		{Name: "b", Load: LoadSpec{Steps: []float64{100, 200, 300}, StepDuration: Duration(4 * sec)}},
		{Name: "c", Load: LoadSpec{Duration: Duration(500 * time.Millisecond)}},
	}
	starts, total, err := Timeline(cases, 2, 5*sec)
	if err != nil {
		t.Fatal(err)
	}
	// a: 0–12s; b: 17–29s; c: 34–34.5s; then the repeat.
	want := []time.Duration{0, 17 * sec, 34 * sec, 39500 * time.Millisecond, 56500 * time.Millisecond, 73500 * time.Millisecond}
	if !slices.Equal(starts, want) || total != 74*sec {
		t.Errorf("timeline %v, length %v; want %v, 74s", starts, total, want)
	}
	if _, _, err := Timeline([]Case{{Name: "counted", Load: LoadSpec{Count: 1000}}}, 1, sec); err == nil {
		t.Error("a case that ends by count placed on a timeline")
	}
}
