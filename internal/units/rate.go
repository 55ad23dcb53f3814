package units

import (
	"math"
	"strconv"
)

// Rate writes a measured rate, or any figure read like one (CPU µs per
// handshake, mean bytes), with the precision it deserves: 4213, 98.4, 7.25.
// NaN and infinities are "–".
func Rate(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// AskedRate writes a rate someone chose (a capacity search's step, a
// --rate): whole numbers without decimals (20, 1063), others with one
// (2.5), and no decimals from 100 up.
func AskedRate(v float64) string {
	if v >= 100 || v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// MeasuredRate writes a measured rate beside asked-for ones (AskedRate):
// whole from 10/s (999.6 is 1000), one decimal below.
func MeasuredRate(v float64) string {
	if v >= 10 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
