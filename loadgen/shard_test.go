package loadgen

import (
	"math"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"
)

// allStarts lists a schedule's due times in order (bounded, so a broken
// schedule cannot loop for ever).
func allStarts(t *testing.T, s Schedule) []time.Duration {
	t.Helper()
	var out []time.Duration
	for n := uint64(0); ; n++ {
		d, ok := s.At(n)
		if !ok {
			return out
		}
		if n > 1e6 {
			t.Fatalf("%T: more than a million starts", s)
		}
		out = append(out, d)
	}
}

// The union of N shards' intended start times is exactly the unsharded
// schedule, for every kind of schedule (with and without a warm-up), and
// each shard's starts are in order.
func TestStripedUnionIsTheSchedule(t *testing.T) {
	schedules := map[string]Schedule{
		"constant":          Constant{Rate: 997, Length: 2 * time.Second},
		"ramp":              Ramp{Rate: 1500, Up: time.Second, Length: 2 * time.Second},
		"steps":             Steps{Rates: []float64{100, 333.3, 1000}, StepLength: 500 * time.Millisecond},
		"constant + warmup": warmed(Constant{Rate: 800, Length: time.Second}, 300*time.Millisecond),
		"ramp + warmup":     warmed(Ramp{Rate: 800, Up: 500 * time.Millisecond, Length: time.Second}, 250*time.Millisecond),
	}
	for name, s := range schedules {
		want := allStarts(t, s)
		for _, n := range []int{1, 2, 3, 7, 25} {
			var union []time.Duration
			for i := range n {
				part := allStarts(t, Striped{Base: s, Shard: Shard{Index: i, Count: n}})
				if !slices.IsSorted(part) {
					t.Errorf("%s, shard %d/%d: starts out of order", name, i, n)
				}
				union = append(union, part...)
			}
			slices.Sort(union)
			if !slices.Equal(union, want) {
				t.Errorf("%s over %d shards: %d starts in the union, %d in the schedule (or different instants)", name, n, len(union), len(want))
			}
		}
	}
}

func TestShardSplitSumsToTotal(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 25} {
		for _, total := range []int{0, 1, 2, 24, 25, 26, 100, 1001} {
			sum, lo, hi := 0, total, 0
			for i := range n {
				share := Shard{Index: i, Count: n}.Split(total)
				sum += share
				lo, hi = min(lo, share), max(hi, share)
				// Shard i owns exactly the global indices ≡ i mod n below total.
				owned, sh := 0, Shard{Index: i, Count: n}
				for k := 0; sh.Global(k) < total; k++ {
					owned++
				}
				if owned != share {
					t.Errorf("shard %d/%d of %d: split %d, owns %d global indices", i, n, total, share, owned)
				}
			}
			if sum != total || hi-lo > 1 {
				t.Errorf("%d over %d shards: shares sum to %d (want %d), spread %d..%d", total, n, sum, total, lo, hi)
			}
		}
	}
	if got := (Shard{}).Split(7); got != 7 {
		t.Errorf("the zero shard's split of 7 = %d", got)
	}
}

func TestShardIdentitiesArePartitioned(t *testing.T) {
	ids := []int{0, 1, 2, 3, 4, 5, 6}
	var all []int
	for i := range 3 {
		mine, shared := Identities(Shard{Index: i, Count: 3}, ids)
		if shared {
			t.Errorf("7 identities over 3 shards reported as shared")
		}
		all = append(all, mine...)
	}
	slices.Sort(all)
	if !slices.Equal(all, ids) {
		t.Errorf("identities over 3 shards: %v, want each of %v once", all, ids)
	}
	mine, shared := Identities(Shard{Index: 4, Count: 5}, []int{10, 11})
	if !shared || !slices.Equal(mine, []int{10}) {
		t.Errorf("2 identities, shard 4/5: %v shared=%v; want [10] shared", mine, shared)
	}
}

func TestShardValidate(t *testing.T) {
	for _, s := range []Shard{{}, {0, 1}, {2, 3}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%v: %v", s, err)
		}
	}
	for _, s := range []Shard{{3, 3}, {-1, 2}, {1, 0}, {0, -2}} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}

// timeOf agrees with At where both are defined: at integer counts.
func TestTimeOfInvertsTheSchedule(t *testing.T) {
	for _, s := range []Schedule{
		Constant{Rate: 250, Length: time.Second},
		Ramp{Rate: 1000, Up: time.Second, Length: 2 * time.Second},
		warmed(Constant{Rate: 400, Length: time.Second}, 500*time.Millisecond),
	} {
		for n := uint64(0); n < 200; n += 7 {
			at, ok1 := s.At(n)
			x, ok2 := timeOf(s, float64(n))
			if ok1 != ok2 || (ok1 && (at-x).Abs() > time.Microsecond) {
				t.Errorf("%T: At(%d)=%v,%v timeOf=%v,%v", s, n, at, ok1, x, ok2)
			}
		}
	}
}

// Poisson arrivals: deterministic for a seed, safe for concurrent use, the
// total count over the shards near the schedule's, and the gaps of the
// merged process exponential (coefficient of variation near 1), even
// when one shard's clock is skewed.
func TestPoissonShards(t *testing.T) {
	base := Constant{Rate: 2000, Length: 5 * time.Second} // 10,000 starts
	const n = 3
	var merged []time.Duration
	total := 0
	for i := range n {
		p := NewPoisson(base, 42, Shard{Index: i, Count: n})
		starts := allStarts(t, p)
		total += len(starts)
		// The same seed gives the same starts, asked in any order, at once.
		q := NewPoisson(base, 42, Shard{Index: i, Count: n})
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for k := len(starts) - 1 - g; k >= 0; k -= 4 {
					if d, _ := q.At(uint64(k)); d != starts[k] {
						t.Errorf("shard %d start %d: %v then %v", i, k, starts[k], d)
						return
					}
				}
			})
		}
		wg.Wait()
		skew := time.Duration(i) * 3 * time.Millisecond
		for _, d := range starts {
			merged = append(merged, d+skew)
		}
	}
	// 10,000 expected: a Poisson count's standard deviation is 100.
	if total < 9600 || total > 10400 {
		t.Errorf("%d starts over 3 Poisson shards at 2000/s for 5s, want about 10,000", total)
	}
	sort.Slice(merged, func(i, j int) bool { return merged[i] < merged[j] })
	var sum, sumSq float64
	for i := 1; i < len(merged); i++ {
		g := (merged[i] - merged[i-1]).Seconds()
		sum += g
		sumSq += g * g
	}
	k := float64(len(merged) - 1)
	mean := sum / k
	cv := math.Sqrt(sumSq/k-mean*mean) / mean
	if math.Abs(mean-1.0/2000) > 0.05/2000 || cv < 0.9 || cv > 1.1 {
		t.Errorf("merged gaps: mean %.1fµs (want 500), coefficient of variation %.2f (want ≈1)", mean*1e6, cv)
	}
	// Different shards draw different gaps.
	a, _ := NewPoisson(base, 42, Shard{Index: 0, Count: n}).At(10)
	b, _ := NewPoisson(base, 42, Shard{Index: 1, Count: n}).At(10)
	if a == b {
		t.Error("two shards drew the same arrivals")
	}
}
