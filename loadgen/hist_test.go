package loadgen

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/mtlsbench/mtlsbench/results"
)

// The recorder's layout must equal hdrhistogram-go's bucket for bucket, or
// imported snapshots would be silently wrong.
func TestRecorderMatchesHdrHistogram(t *testing.T) {
	want := results.NewHistogram()
	r := newRecorder()
	rng := rand.New(rand.NewPCG(1, 2))
	values := []int64{0, 1, 2, 2047, 2048, 2049, 4095, 4096, 123456, 999_999, results.HistHighestUs}
	for range 20000 {
		// Log-uniform over the whole range, so every bucket size is hit.
		values = append(values, int64(1<<rng.IntN(31))+rng.Int64N(1<<20))
	}
	for _, v := range values {
		if v > results.HistHighestUs {
			v = results.HistHighestUs
		}
		if err := want.RecordValue(v); err != nil {
			t.Fatalf("reference RecordValue(%d): %v", v, err)
		}
		r.record(v)
	}
	got := r.snapshot()
	if !slices.Equal(got.Export().Counts, want.Export().Counts) {
		t.Fatal("recorder counts differ from hdrhistogram-go's")
	}
	for _, q := range []float64{0, 50, 90, 99, 99.9, 100} {
		if g, w := got.ValueAtQuantile(q), want.ValueAtQuantile(q); g != w {
			t.Errorf("p%v = %d, want %d", q, g, w)
		}
	}
	if got.Max() != want.Max() || got.Min() != want.Min() || got.TotalCount() != want.TotalCount() {
		t.Errorf("min/max/count = %d/%d/%d, want %d/%d/%d", got.Min(), got.Max(), got.TotalCount(), want.Min(), want.Max(), want.TotalCount())
	}
}

func TestRecorderClampsAndConcurrency(t *testing.T) {
	r := newRecorder()
	r.record(results.HistHighestUs * 10)
	r.record(-5)
	if r.clamped.Load() != 1 || r.total() != 2 {
		t.Fatalf("clamped=%d total=%d, want 1 and 2", r.clamped.Load(), r.total())
	}
	r.reset()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10000 {
				r.record(int64(100 + w*10 + i%7))
			}
		})
	}
	wg.Wait()
	if n := r.snapshot().TotalCount(); n != 80000 {
		t.Fatalf("concurrent records: total %d, want 80000", n)
	}
}

func BenchmarkRecorder(b *testing.B) {
	r := newRecorder()
	b.ReportAllocs()
	v := int64(0)
	for b.Loop() {
		v = (v + 977) & 0xfffff
		r.record(v)
	}
}

// addTo, which harvests without allocating, gives the same histogram as a
// snapshot: valueAt inverts countsIndex for every bucket.
func TestRecorderAddTo(t *testing.T) {
	for i := range recCountsLen {
		if got := countsIndex(valueAt(i)); got != i {
			t.Fatalf("countsIndex(valueAt(%d)) = %d", i, got)
		}
	}
	r := newRecorder()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		r.record(min(int64(1<<rng.IntN(31))+rng.Int64N(1<<20), results.HistHighestUs))
	}
	h := results.NewHistogram()
	r.addTo(h)
	want := r.snapshot()
	if !slices.Equal(h.Export().Counts, want.Export().Counts) || h.Max() != want.Max() || h.Min() != want.Min() {
		t.Fatal("addTo differs from snapshot")
	}
	if n := testing.AllocsPerRun(10, func() { h.Reset(); r.addTo(h) }); n != 0 {
		t.Errorf("addTo allocates %v times", n)
	}
}
