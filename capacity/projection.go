package capacity

import "math"

// Assumption is what a projection assumes, to be printed beside it.
const Assumption = "cores = rate × server CPU per handshake, as measured at the maximum sustainable rate: " +
	"this assumes the server scales linearly with cores, keeps them all busy, and runs on this CPU model " +
	"(the same TLS library, build and settings); it includes no headroom"

// Projection is the server cores a rate needs.
type Projection struct {
	// Rate in handshakes per second.
	Rate float64
	// Cores is Rate × CPU per handshake: busy cores, fractional.
	Cores float64
}

// WholeCores is Cores rounded up: the cores to provision at 100% use.
func (p Projection) WholeCores() int {
	return int(math.Ceil(p.Cores - 1e-9))
}

// Project returns, for each rate, the cores a server that spends
// usPerHandshake µs of CPU on each handshake needs to sustain it; nil when
// usPerHandshake is not positive (not measured).
func Project(usPerHandshake float64, rates []float64) []Projection {
	if !(usPerHandshake > 0) {
		return nil
	}
	out := make([]Projection, len(rates))
	for i, r := range rates {
		out[i] = Projection{Rate: r, Cores: r * usPerHandshake / 1e6}
	}
	return out
}

// PerCore is the handshakes per second one fully busy core sustains at
// usPerHandshake µs each; 0 when that is not positive.
func PerCore(usPerHandshake float64) float64 {
	if !(usPerHandshake > 0) {
		return 0
	}
	return 1e6 / usPerHandshake
}

// CPUPerHandshake pools steps' CPU: the total CPU over the total
// handshakes, given each step's µs per handshake and its handshake count.
// It returns 0 when no step has both.
func CPUPerHandshake(usPerHandshake []float64, handshakes []int64) float64 {
	var cpu, n float64
	for i, us := range usPerHandshake {
		if us > 0 && i < len(handshakes) && handshakes[i] > 0 {
			cpu += us * float64(handshakes[i])
			n += float64(handshakes[i])
		}
	}
	if n == 0 {
		return 0
	}
	return cpu / n
}
