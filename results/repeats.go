package results

import (
	"fmt"
	"sort"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// MatchKey is what compare and merge match cases by: Key, or Name for a
// result written without keys.
func (c *Case) MatchKey() string {
	if c.Key != "" {
		return c.Key
	}
	return c.Name
}

// Repeats is every repeat of one case: the cases of a run that share a
// MatchKey. Charts draw one line or bar per Repeats; compare treats the
// repeats as samples.
type Repeats struct {
	// Key is the cases' MatchKey and Name the first one's name.
	Key, Name string
	// Cases are the repeats in the order the run holds them; never empty.
	Cases []*Case
}

// GroupRepeats groups run's cases by MatchKey, in order of first
// appearance.
func GroupRepeats(run *Run) []Repeats {
	var groups []Repeats
	index := map[string]int{}
	for i := range run.Cases {
		c := &run.Cases[i]
		k := c.MatchKey()
		j, ok := index[k]
		if !ok {
			j = len(groups)
			index[k] = j
			groups = append(groups, Repeats{Key: k, Name: c.Name})
		}
		groups[j].Cases = append(groups[j].Cases, c)
	}
	return groups
}

// MergedHistogram merges the repeats' histograms of one latency phase
// (phase picks it from a Latency, e.g. the handshake); nil when no repeat
// has one.
func (r Repeats) MergedHistogram(phase func(*Latency) *Summary) (*hdrhistogram.Histogram, error) {
	var merged *hdrhistogram.Histogram
	for _, c := range r.Cases {
		sum := phase(&c.Latency)
		if sum == nil {
			continue
		}
		h, err := sum.Histogram()
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
		if h == nil {
			continue
		}
		if merged == nil {
			merged = NewHistogram()
		}
		merged.Merge(h)
	}
	return merged, nil
}

// Median is the median over the repeats of a per-case figure.
func (r Repeats) Median(figure func(*Case) float64) float64 {
	values := make([]float64, len(r.Cases))
	for i, c := range r.Cases {
		values[i] = figure(c)
	}
	return Median(values)
}

// Median is the median of values (the mean of the middle two for an even
// count); 0 for none. values is not modified.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
