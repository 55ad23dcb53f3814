package scenarios

import (
	"fmt"
	"time"
)

// DefaultCaseGap is the time a fixed timeline leaves between one case's
// end and the next one's start: the drain of the last connections (up to
// 2 s), the target's closing samples and the next case's setup.
const DefaultCaseGap = 5 * time.Second

// Length is how long a case's load runs from its start: its warm-up and
// its measured window (the steps' total, for steps). ok is false for a
// case that ends after a count of handshakes, whose length is unknown.
// Every default is already applied by Expand.
func (c *Case) Length() (d time.Duration, ok bool) {
	l := &c.Load
	window := l.Duration.D()
	if len(l.Steps) > 0 {
		window = time.Duration(len(l.Steps)) * l.StepDuration.D()
	}
	if window <= 0 {
		return 0, false
	}
	return l.Warmup.D() + window, true
}

// Timeline places a scenario's cases — every case, repeat after repeat,
// in the order they run — on a fixed timeline: case k starts at the sum
// of the earlier cases' lengths (Length) and a gap after each. It returns
// each start, as an offset from the first, and the whole length (the
// last case's end). A case that ends by count cannot be placed.
func Timeline(cases []Case, repeat int, gap time.Duration) (starts []time.Duration, total time.Duration, err error) {
	repeat = max(repeat, 1)
	var at time.Duration
	for range repeat {
		for i := range cases {
			d, ok := cases[i].Length()
			if !ok {
				return nil, 0, fmt.Errorf("scenarios: case %s ends after a count of handshakes, so it has no place on a fixed timeline: give it a duration", cases[i].Name)
			}
			if len(starts) > 0 {
				at += gap
			}
			starts = append(starts, at)
			at += d
		}
	}
	return starts, at, nil
}
