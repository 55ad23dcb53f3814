package capacity

import "sort"

// KneeFactor is how far median latency must climb above its value at the
// lowest rate tried for the curve to be past its knee.
const KneeFactor = 2

// Knee is where latency starts to climb with the rate: the highest rate
// tried before the median (p50, coordinated-omission corrected) latency
// first exceeded KneeFactor times its value at the lowest rate tried.
//
// Below the knee a handshake mostly waits for nothing but its own work;
// past it, handshakes queue for the server's cores (in an M/M/1 queue the
// median doubles at 50% utilisation, with several cores much later). The
// median is used rather than the p99 because at low rates a p99 is a few
// unlucky handshakes, and one noisy baseline would move the knee.
type Knee struct {
	// Rate is the knee: the highest rate tried whose median latency, and
	// every lower rate's, stayed within KneeFactor × BaselineP50.
	Rate float64
	// Above is the next rate tried, where the median first exceeded that;
	// 0 when it never did (latency stayed flat up to Rate, the highest
	// rate tried: the knee lies above it, if anywhere).
	Above float64
	// BaselineRate is the lowest rate tried, and BaselineP50 its median
	// latency in µs.
	BaselineRate float64
	BaselineP50  int64
}

// FindKnee finds the knee in steps. Steps are taken in order of rate; a
// rate run more than once counts with its highest median. Steps in which
// nothing completed are ignored. ok is false with fewer than two distinct
// rates to compare.
func FindKnee(steps []Step) (k Knee, ok bool) {
	byRate := map[float64]int64{}
	for _, st := range steps {
		if st.Attempted == 0 || st.P50 <= 0 {
			continue
		}
		byRate[st.Rate] = max(byRate[st.Rate], st.P50)
	}
	if len(byRate) < 2 {
		return Knee{}, false
	}
	rates := make([]float64, 0, len(byRate))
	for r := range byRate {
		rates = append(rates, r)
	}
	sort.Float64s(rates)
	k = Knee{BaselineRate: rates[0], BaselineP50: byRate[rates[0]], Rate: rates[0]}
	limit := float64(KneeFactor * k.BaselineP50)
	for _, r := range rates[1:] {
		if float64(byRate[r]) > limit {
			k.Above = r
			return k, true
		}
		k.Rate = r
	}
	return k, true
}
