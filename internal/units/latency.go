package units

import (
	"math"
	"strconv"
)

// Latency writes a latency in microseconds with three significant digits
// and a unit chosen so that it stays within six characters: 850µs, 1.23ms,
// 12.3ms, 123ms, 1.23s. A negative or NaN latency (none measured) is "–".
func Latency(us float64) string {
	switch {
	case us < 0 || math.IsNaN(us):
		return "–"
	case us < 1000:
		return strconv.FormatFloat(math.Round(us), 'f', 0, 64) + "µs"
	case us < 10_000:
		return strconv.FormatFloat(us/1000, 'f', 2, 64) + "ms"
	case us < 100_000:
		return strconv.FormatFloat(us/1000, 'f', 1, 64) + "ms"
	case us < 1_000_000:
		return strconv.FormatFloat(us/1000, 'f', 0, 64) + "ms"
	case us < 10_000_000:
		return strconv.FormatFloat(us/1e6, 'f', 2, 64) + "s"
	default:
		return strconv.FormatFloat(us/1e6, 'f', 1, 64) + "s"
	}
}

// ExactLatency writes an amount of time in microseconds exactly, for a
// limit or threshold that must read back as written: whole milliseconds in
// ms ("2ms"), anything else in µs ("500µs", "1500µs").
func ExactLatency(us float64) string {
	if us >= 1000 && math.Mod(us, 1000) == 0 {
		return strconv.FormatFloat(us/1000, 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(us, 'f', -1, 64) + "µs"
}
