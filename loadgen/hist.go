package loadgen

import (
	"math/bits"
	"sync/atomic"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mtlsbench/mtlsbench/results"
)

// recorder is an HDR histogram that many workers record into concurrently
// without a lock: each record is one atomic add on the bucket's counter. Its
// bucket layout is exactly hdrhistogram-go's for the shared geometry
// (results.HistLowestUs .. results.HistHighestUs, 3 significant figures),
// so a snapshot imports losslessly and merges with any other histogram of
// that geometry.
//
// Why not one hdrhistogram.Histogram per worker: at 3 significant figures
// over 1 µs..1 h a histogram is 188 KiB, and a run may hold 10,000
// concurrent connections. Workers share a few recorders (one "lane" per
// couple of workers' CPUs) instead; an uncontended atomic add costs a few
// nanoseconds against a handshake's hundreds of microseconds.
type recorder struct {
	counts []atomic.Int64
	// clamped counts values above the highest trackable value, recorded as
	// that value.
	clamped atomic.Int64
}

// Geometry of the shared histograms, derived once from hdrhistogram-go
// itself so the two layouts cannot drift apart.
var (
	recCountsLen = len(results.NewHistogram().Export().Counts)
)

const (
	recSubBucketHalfCountMagnitude = 10 // 2048 sub-buckets: 3 significant figures
	recSubBucketHalfCount          = 1 << recSubBucketHalfCountMagnitude
	recSubBucketMask               = 2*recSubBucketHalfCount - 1
)

func newRecorder() *recorder {
	return &recorder{counts: make([]atomic.Int64, recCountsLen)}
}

// countsIndex mirrors hdrhistogram-go's countsIndexFor for unit magnitude 0.
func countsIndex(v int64) int {
	bucketIdx := 64 - bits.LeadingZeros64(uint64(v|recSubBucketMask)) - (recSubBucketHalfCountMagnitude + 1)
	subBucketIdx := int(v >> uint(bucketIdx))
	return (bucketIdx+1)<<recSubBucketHalfCountMagnitude + subBucketIdx - recSubBucketHalfCount
}

// record adds one value in microseconds. Values below 1 are recorded as 0
// (hdrhistogram-go does the same); values above the top are clamped.
func (r *recorder) record(us int64) {
	if us < 0 {
		us = 0
	}
	if us > results.HistHighestUs {
		us = results.HistHighestUs
		r.clamped.Add(1)
	}
	r.counts[countsIndex(us)].Add(1)
}

// snapshot copies the counts into a new hdrhistogram.Histogram. Concurrent
// records may or may not be included.
func (r *recorder) snapshot() *hdrhistogram.Histogram {
	counts := make([]int64, len(r.counts))
	for i := range r.counts {
		counts[i] = r.counts[i].Load()
	}
	return hdrhistogram.Import(&hdrhistogram.Snapshot{
		LowestTrackableValue:  results.HistLowestUs,
		HighestTrackableValue: results.HistHighestUs,
		SignificantFigures:    results.HistSigFigs,
		Counts:                counts,
	})
}

// addTo adds the counts into h (which must have the shared geometry)
// without allocating, so the controller can harvest an interval every
// second into one reused histogram. Concurrent records may or may not be
// included.
func (r *recorder) addTo(h *hdrhistogram.Histogram) {
	for i := range r.counts {
		if n := r.counts[i].Load(); n != 0 {
			_ = h.RecordValues(valueAt(i), n)
		}
	}
}

// valueAt is the lowest value of bucket i, the inverse of countsIndex (as
// hdrhistogram-go's iterator computes it).
func valueAt(i int) int64 {
	bucketIdx := i>>recSubBucketHalfCountMagnitude - 1
	subBucketIdx := i&(recSubBucketHalfCount-1) + recSubBucketHalfCount
	if bucketIdx < 0 {
		subBucketIdx -= recSubBucketHalfCount
		bucketIdx = 0
	}
	return int64(subBucketIdx) << uint(bucketIdx)
}

// total returns how many values were recorded.
func (r *recorder) total() int64 {
	var n int64
	for i := range r.counts {
		n += r.counts[i].Load()
	}
	return n
}

// reset zeroes the counts. Callers make sure no worker records meanwhile.
func (r *recorder) reset() {
	for i := range r.counts {
		r.counts[i].Store(0)
	}
	r.clamped.Store(0)
}
