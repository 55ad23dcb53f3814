package units

import (
	"math"
	"testing"
)

// check runs f on every input and wants the text given.
func check[T comparable](t *testing.T, name string, f func(T) string, cases map[T]string) {
	t.Helper()
	for in, want := range cases {
		if got := f(in); got != want {
			t.Errorf("%s(%v) = %q, want %q", name, in, got, want)
		}
	}
}

func TestLatency(t *testing.T) {
	check(t, "Latency", Latency, map[float64]string{
		0: "0µs", 12.5: "13µs", 850: "850µs", 999.4: "999µs",
		1200: "1.20ms", 4370: "4.37ms", 50_000: "50.0ms", 72_100: "72.1ms", 123_400: "123ms",
		1_250_000: "1.25s", 12_345_678: "12.3s",
		-1: "–", math.NaN(): "–",
	})
}

func TestExactLatency(t *testing.T) {
	check(t, "ExactLatency", ExactLatency, map[float64]string{
		500: "500µs", 1000: "1ms", 2000: "2ms", 1500: "1500µs", 20: "20µs", 0.5: "0.5µs", 60_000_000: "60000ms",
	})
}

func TestRates(t *testing.T) {
	check(t, "Rate", Rate, map[float64]string{
		0: "0", 7.25: "7.25", 98.4: "98.4", 4213.4: "4213", -12.34: "-12.3", math.Inf(1): "–", math.NaN(): "–",
	})
	check(t, "AskedRate", AskedRate, map[float64]string{
		20: "20", 1063: "1063", 2.5: "2.5", 37.5: "37.5", 0.5: "0.5", 1200.4: "1200",
	})
	check(t, "MeasuredRate", MeasuredRate, map[float64]string{
		999.6: "1000", 10: "10", 9.96: "10.0", 2.5: "2.5", 5: "5.0",
	})
}

func TestFigures(t *testing.T) {
	for n, want := range map[int]string{0: "0 cases", 1: "1 case", 3: "3 cases"} {
		if got := Count(n, "case"); got != want {
			t.Errorf("Count(%d, case) = %q, want %q", n, got, want)
		}
	}
	check(t, "Short", Short, map[float64]string{
		7.46: "7.5", 950: "950", 4213: "4.2k", 12_345: "12k", 1_300_000: "1.3M",
	})
	check(t, "Bytes", Bytes, map[float64]string{
		1534.4: "1534", 99_999: "99999", 123_456: "123k",
	})
}

func TestPercentAndShare(t *testing.T) {
	for _, tc := range []struct {
		part, whole int64
		want        string
	}{
		{0, 0, "–"}, {0, 10, "0%"}, {10, 10, "100%"}, {1, 100_000, "<0.01%"}, {5, 10_000, "0.05%"},
		{1, 3, "33.3%"}, {9_999, 10_000, ">99.9%"}, {999, 1000, "99.9%"},
	} {
		if got := Percent(tc.part, tc.whole); got != tc.want {
			t.Errorf("Percent(%d, %d) = %q, want %q", tc.part, tc.whole, got, tc.want)
		}
	}
	check(t, "Share", Share, map[float64]string{
		0: "0%", 1: "100%", 0.001: "0.10%", 0.005: "0.50%", 0.94: "94.0%", 0.799114: "79.9%",
		0.000_01: "<0.01%", 0.9999: ">99.9%", 1.025: "102.5%", -0.1: "–", math.NaN(): "–",
	})
}
