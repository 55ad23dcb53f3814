package units

import (
	"math"
	"strconv"
)

// Percent writes part/whole as a percentage: 0%, 0.05%, 99.9%, 100%. It
// never rounds a non-zero share to 0% or a partial one to 100%. With no
// whole it is "–".
func Percent(part, whole int64) string {
	if whole <= 0 {
		return "–"
	}
	if part == 0 {
		return "0%"
	}
	if part == whole {
		return "100%"
	}
	return percent(100 * float64(part) / float64(whole))
}

// Share writes a fraction (0.001, 0.94) as a percentage the way Percent
// does: 0.10%, 94.0%, and never 0% or 100% for a share that is neither. A
// fraction above 1 (a rate achieved past the one asked for) is written
// with one decimal: 102.5%. NaN, infinities and negative fractions are
// "–".
func Share(fraction float64) string {
	switch {
	case math.IsNaN(fraction) || math.IsInf(fraction, 0) || fraction < 0:
		return "–"
	case fraction == 0:
		return "0%"
	case fraction == 1:
		return "100%"
	case fraction > 1:
		return strconv.FormatFloat(100*fraction, 'f', 1, 64) + "%"
	}
	return percent(100 * fraction)
}

// percent writes p, a percentage neither 0 nor 100, with two decimals
// below 1%, one above, and marks the extremes it would otherwise round
// away.
func percent(p float64) string {
	switch {
	case p < 0.01:
		return "<0.01%"
	case p < 1:
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	case p > 99.9:
		return ">99.9%"
	default:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
}
