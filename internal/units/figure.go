package units

import (
	"math"
	"strconv"
)

// Count writes a count with its noun, plural unless the count is one:
// "1 case", "3 cases".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Short writes a figure in at most five characters: 950, 4.2k, 12k, 1.3M.
// For columns that must stay narrow.
func Short(v float64) string {
	abs := math.Abs(v)
	switch {
	case abs < 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case abs < 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case abs < 10_000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "k"
	case abs < 1_000_000:
		return strconv.FormatFloat(v/1000, 'f', 0, 64) + "k"
	default:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	}
}

// Bytes writes a byte count exactly up to 99999, and as Short above.
func Bytes(v float64) string {
	if v < 100_000 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return Short(v)
}
