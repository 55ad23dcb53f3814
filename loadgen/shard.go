package loadgen

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Shard is this generator's part of a run spread over several: shard
// Index (from 0) of Count. The run's figures keep their meaning for the
// whole run — the schedule's rate is the total rate, Concurrency and
// MaxInFlight the totals — and each shard takes its stripe:
//
//   - open loop: the global arrival sequence's starts Index, Index+Count,
//     Index+2·Count, … at their global intended times (Striped), so the
//     shards' starts together are exactly the one-generator schedule;
//   - closed loop: the workers with those global indices (Split), each
//     started when the one-machine ramp would start it;
//   - client identities: those with those indices (Identities).
//
// The zero Shard (and Count 1) is the whole run.
type Shard struct {
	Index, Count int
}

// Sharded reports whether the run is split over more than one generator.
func (s Shard) Sharded() bool { return s.Count > 1 }

// count is Count, or 1 for the zero Shard.
func (s Shard) count() int { return max(s.Count, 1) }

// Split is this shard's share of n items striped over the shards — the
// items i < n with i mod Count = Index: ⌊n/Count⌋, plus one for the first
// n mod Count shards. The shards' shares sum to n.
func (s Shard) Split(n int) int {
	c := s.count()
	share := n / c
	if s.Index < n%c {
		share++
	}
	return share
}

// Global is the run-wide index of this shard's k-th item.
func (s Shard) Global(k int) int { return k*s.count() + s.Index }

// Validate reports a Shard that names no shard of its run.
// MaxShards bounds a run's shards (generator processes).
const MaxShards = 10_000

func (s Shard) Validate() error {
	if s.Count < 0 || s.Count > MaxShards || s.Index < 0 || (s.Count == 0 && s.Index != 0) || (s.Count > 0 && s.Index >= s.Count) {
		return &ConfigError{fmt.Sprintf("shard %d of %d: the index must be from 0 to the count minus one", s.Index, s.Count)}
	}
	return nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.count()) }

// Identities is this shard's part of a run's client identities: with at
// least as many identities as shards, the ones whose index is this
// shard's modulo Count, so no two shards present the same certificate;
// with fewer, the one identity Index modulo their number (shared, and
// shared reports it).
func Identities[T any](s Shard, ids []T) (mine []T, shared bool) {
	c := s.count()
	if len(ids) == 0 || c == 1 {
		return ids, false
	}
	if len(ids) < c {
		return []T{ids[s.Index%len(ids)]}, true
	}
	for i := s.Index; i < len(ids); i += c {
		mine = append(mine, ids[i])
	}
	return mine, false
}

// Striped is shard Shard of Base: its n-th start is Base's start
// n·Count+Index, due when Base has it due. The union of every shard's
// starts is Base's, instant for instant.
type Striped struct {
	Base  Schedule
	Shard Shard
}

// At is Base's start n·Count+Index.
func (s Striped) At(n uint64) (time.Duration, bool) {
	return s.Base.At(n*uint64(s.Shard.count()) + uint64(s.Shard.Index))
}

func (s Striped) Pace(elapsed time.Duration, started uint64) (time.Duration, bool) {
	return pace(s, elapsed, started)
}

// RateAt is this shard's share of Base's rate.
func (s Striped) RateAt(t time.Duration) float64 {
	return s.Base.RateAt(t) / float64(s.Shard.count())
}
func (s Striped) Duration() time.Duration                { return s.Base.Duration() }
func (s Striped) Segment(t time.Duration) (int, int)     { return s.Base.Segment(t) }
func (s Striped) timeOf(x float64) (time.Duration, bool) { return timeOf(s.Base, x) }

// Arrivals is how open-loop starts are spaced.
type Arrivals int

const (
	// ArrivalsUniform (zero): evenly, on the schedule's own instants.
	ArrivalsUniform Arrivals = iota
	// ArrivalsPoisson: a Poisson process whose rate follows the schedule
	// (exponential gaps). Each shard draws its own, independently; their
	// superposition is a Poisson process at the total rate whatever the
	// shards' clocks do.
	ArrivalsPoisson
)

var arrivalNames = []string{"uniform", "poisson"}

func (a Arrivals) String() string {
	if int(a) < len(arrivalNames) {
		return arrivalNames[a]
	}
	return fmt.Sprintf("Arrivals(%d)", int(a))
}

// ParseArrivals reads "uniform" or "poisson".
func ParseArrivals(s string) (Arrivals, error) {
	for i, n := range arrivalNames {
		if s == n {
			return Arrivals(i), nil
		}
	}
	return 0, &ConfigError{fmt.Sprintf("arrivals %q: accepted: uniform, poisson", s)}
}

// cumulative is a schedule whose intended start count N(t) can be
// inverted for any real x ≥ 0: timeOf(x) is when N reaches x (false past
// the schedule's end). Every schedule here is one; Poisson needs it.
type cumulative interface {
	timeOf(x float64) (time.Duration, bool)
}

func timeOf(s Schedule, x float64) (time.Duration, bool) {
	c, ok := s.(cumulative)
	if !ok {
		panic(fmt.Sprintf("loadgen: schedule %T cannot be inverted", s))
	}
	return c.timeOf(x)
}

func within(t float64, length time.Duration) (time.Duration, bool) {
	due := seconds(t)
	if length > 0 && due >= length {
		return 0, false
	}
	return due, true
}

func (c Constant) timeOf(x float64) (time.Duration, bool) { return within(x/c.Rate, c.Length) }

func (r Ramp) timeOf(x float64) (time.Duration, bool) {
	up := r.Up.Seconds()
	rampStarts := r.Rate * up / 2
	t := up + (x-rampStarts)/r.Rate
	if x < rampStarts {
		t = math.Sqrt(2 * x * up / r.Rate)
	}
	return within(t, r.Length)
}

func (s Steps) timeOf(x float64) (time.Duration, bool) {
	step := s.StepLength.Seconds()
	before := 0.0
	for i, rate := range s.Rates {
		if x < before+rate*step {
			return seconds(float64(i)*step + (x-before)/rate), true
		}
		before += rate * step
	}
	return 0, false
}

func (w warmedSchedule) timeOf(x float64) (time.Duration, bool) {
	warm := w.warm.Rate * w.warmup.Seconds()
	if w.warmup > 0 && x < warm {
		return w.warm.timeOf(x)
	}
	if w.warmup <= 0 {
		warm = 0
	}
	d, ok := timeOf(w.main, x-warm)
	return w.warmup + d, ok
}

// Poisson spaces a schedule's starts as a Poisson process whose rate is
// Share of Base's at every instant (a shard's share): its n-th start is
// due when Base's cumulative count reaches (E₀+…+Eₙ)/Share, the Eᵢ
// independent unit exponentials drawn from Seed. At is deterministic and
// safe for concurrent use: gaps come from a counter-based generator and
// their running sums are kept once per block of 64 starts.
type Poisson struct {
	Base  Schedule
	Seed  uint64
	Share float64

	mu     sync.Mutex
	blocks []float64 // blocks[b]: sum of the gaps before start 64·b
}

const poissonBlock = 64

// NewPoisson is Poisson arrivals for shard of Base, seeded by seed (give
// each shard of a run a different seed, or the same seed and index).
func NewPoisson(base Schedule, seed uint64, shard Shard) *Poisson {
	return &Poisson{Base: base, Seed: seed ^ uint64(shard.Index)*0x9e3779b97f4a7c15, Share: 1 / float64(shard.count()), blocks: []float64{0}}
}

// gap is the unit exponential Eₙ.
func (p *Poisson) gap(n uint64) float64 {
	z := splitmix(p.Seed + n*0x9e3779b97f4a7c15)
	u := (float64(z>>11) + 0.5) / (1 << 53) // in (0, 1)
	return -math.Log(u)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// At is when start n is due.
func (p *Poisson) At(n uint64) (time.Duration, bool) {
	b := n / poissonBlock
	p.mu.Lock()
	for uint64(len(p.blocks)) <= b {
		k := uint64(len(p.blocks)) - 1
		sum := p.blocks[k]
		for j := k * poissonBlock; j < (k+1)*poissonBlock; j++ {
			sum += p.gap(j)
		}
		p.blocks = append(p.blocks, sum)
	}
	sum := p.blocks[b]
	p.mu.Unlock()
	for j := b * poissonBlock; j <= n; j++ {
		sum += p.gap(j)
	}
	return timeOf(p.Base, sum/p.Share)
}

func (p *Poisson) Pace(elapsed time.Duration, started uint64) (time.Duration, bool) {
	return pace(p, elapsed, started)
}
func (p *Poisson) RateAt(t time.Duration) float64         { return p.Base.RateAt(t) * p.Share }
func (p *Poisson) Duration() time.Duration                { return p.Base.Duration() }
func (p *Poisson) Segment(t time.Duration) (int, int)     { return p.Base.Segment(t) }
func (p *Poisson) timeOf(x float64) (time.Duration, bool) { return timeOf(p.Base, x/p.Share) }
