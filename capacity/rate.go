package capacity

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseRate reads a rate in handshakes per second as the command line
// writes it: "20000", "20000/s", "20k/s", "1.5k", "2M/s".
func ParseRate(s string) (float64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	t = strings.TrimSuffix(t, "/s")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1e3, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1e6, strings.TrimSuffix(t, "m")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || !(v > 0) {
		return 0, fmt.Errorf("capacity: %q is not a rate: write handshakes per second, e.g. 20000/s or 20k/s", s)
	}
	if math.IsInf(v*mult, 0) {
		// "1e308k": each part is a float, the product is not.
		return 0, fmt.Errorf("capacity: %q is not a rate: it is too large to represent; write handshakes per second, e.g. 20000/s or 20k/s", s)
	}
	return v * mult, nil
}
