package bench

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/live"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// defaultWidth is the terminal width assumed when Options.Width does not
// say.
const defaultWidth = 80

// plainEvery is how often a plain progress line is printed off a
// terminal while a case runs.
const plainEvery = 10 * time.Second

// runProgress is the progress of a whole run, shared by its cases'
// observers: which case runs, the time the run has left, the lines
// printed at each case's start and end, and the watchers (Options.Watchers)
// told about each case. eachCase makes it; a case's observer reads it.
type runProgress struct {
	opts *Options
	now  func() time.Time // time.Now; tests set it

	mu sync.Mutex // guards the fields below
	// plans is each case run's planned length (warm-up and window), in
	// run order; unknownLength where it is not known ahead (a window that
	// ends at a count, a capacity search).
	plans     []time.Duration
	n         int // the case running (from 1); 0 before the first
	startedAt time.Time
	current   live.Case
	// overhead is the time finished cases took beyond their plan (PKI,
	// target start, drain, the cross-check), over overheadN cases of
	// known length; unknownWall the time taken by unknownN cases of
	// unknown length.
	overhead, unknownWall time.Duration
	overheadN, unknownN   int
}

const unknownLength = time.Duration(-1)

// newRunProgress plans the run of opts.Cases, repeat times each; search
// says they are capacity searches, whose length is not known ahead.
func newRunProgress(opts *Options, repeat int, search bool) *runProgress {
	rp := &runProgress{opts: opts, now: time.Now}
	for range repeat {
		for i := range opts.Cases {
			plan := unknownLength
			if !search {
				plan = plannedLength(&opts.Cases[i])
			}
			rp.plans = append(rp.plans, plan)
		}
	}
	return rp
}

// plannedLength is how long a case's load runs: its warm-up and window,
// or unknownLength when the window ends at a count.
func plannedLength(c *scenarios.Case) time.Duration {
	cfg := loadModel(c)
	window := cfg.Duration
	if window == 0 {
		switch {
		case cfg.Count > 0:
			return unknownLength
		case cfg.Schedule != nil && cfg.Schedule.Duration() > 0:
			window = cfg.Schedule.Duration()
		default:
			window = loadgen.DefaultDuration
		}
	}
	return cfg.Warmup + window
}

// caseStart records that case n of the run starts, prints its start line
// off a terminal, and tells the watchers.
func (rp *runProgress) caseStart(c *scenarios.Case, rep, n, total int) {
	rp.mu.Lock()
	rp.n, rp.startedAt = n, rp.now()
	rp.current = live.Case{Name: c.Name, Key: c.Key, Repeat: rep, N: n, Total: total, Params: caseParams(c)}
	lc := rp.current
	eta := rp.etaLocked(rp.startedAt)
	plan := rp.plans[n-1]
	rp.mu.Unlock()
	if w := rp.opts.Progress; w != nil && !rp.opts.Live {
		what := "started"
		if plan != unknownLength {
			what += ", " + planText(c)
		}
		if eta != "" {
			what += "; run " + eta
		}
		fmt.Fprintf(w, "[%d/%d] %s  %s\n", n, total, c.Name, what)
	}
	for _, wt := range rp.opts.Watchers {
		wt.CaseStart(&lc)
	}
}

// planText says what a case's load is planned to last: "10s window after
// 2s warm-up".
func planText(c *scenarios.Case) string {
	cfg := loadModel(c)
	window := plannedLength(c) - cfg.Warmup
	s := shortDuration(window) + " window"
	if cfg.Warmup > 0 {
		s += " after " + shortDuration(cfg.Warmup) + " warm-up"
	}
	return s
}

// caseEnd records that the running case ended with out, prints its end
// line and tells the watchers.
func (rp *runProgress) caseEnd(out *results.Case) {
	rp.mu.Lock()
	wall := rp.now().Sub(rp.startedAt)
	if plan := rp.plans[rp.n-1]; plan == unknownLength {
		rp.unknownWall += wall
		rp.unknownN++
	} else {
		rp.overhead += wall - plan
		rp.overheadN++
	}
	lc := rp.current
	rp.mu.Unlock()
	if w := rp.opts.Progress; w != nil {
		fmt.Fprintf(w, "[%d/%d] %s  %s  (%s)\n", lc.N, lc.Total, out.Name, headlineText(out), shortDuration(wall))
	}
	for _, wt := range rp.opts.Watchers {
		wt.CaseEnd(&lc, out)
	}
}

// abandon tells the watchers that the running case ended with out, as
// caseEnd does, but prints nothing: the run ends here with an error the
// caller prints.
func (rp *runProgress) abandon(out *results.Case) {
	rp.mu.Lock()
	lc := rp.current
	rp.mu.Unlock()
	for _, wt := range rp.opts.Watchers {
		wt.CaseEnd(&lc, out)
	}
}

// headlineText is a case's verdict and headline figures, for its end
// line: "ok  1234 hs/s  p99 2.31ms  0 errors".
func headlineText(out *results.Case) string {
	if out.Status != results.StatusOK && out.Failure != "" {
		return string(out.Status) + ": " + out.Failure
	}
	if cp := out.Capacity; cp != nil {
		rate := units.AskedRate(cp.MaxSustainableRate) + "/s"
		switch cp.Verdict {
		case "capacity":
			return string(out.Status) + "  capacity " + rate
		case "lower_bound":
			return string(out.Status) + "  capacity ≥" + rate + " (a lower bound)"
		}
		return string(out.Status) + "  no rate met the SLO"
	}
	p99 := "–"
	if hs := out.HandshakeLatency(); hs != nil {
		p99 = units.Latency(float64(hs.P99Us))
	}
	s := fmt.Sprintf("%s  %s hs/s  p99 %s  %s", out.Status, units.Rate(out.HandshakesPerS), p99, units.Count(int(out.Counts.Errors), "error"))
	switch slo := out.SLO; {
	case slo == nil:
	case slo.Met:
		s += "  SLO met"
	default:
		s += "  SLO broken: " + strings.Join(slo.Broken, "; ")
	}
	return s
}

// watched is the running case as the watchers see it: for a capacity
// step (step > 0), with the step and its rate.
func (rp *runProgress) watched(step int, rate float64) live.Case {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	c := rp.current
	c.Step, c.StepRate = step, rate
	return c
}

// eta is the time the run has left, as the status line shows it.
func (rp *runProgress) eta() string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.etaLocked(rp.now())
}

// etaLocked estimates the time the run has left at now: the rest of the
// running case's plan and the plans of the cases after it, each with the
// mean overhead of the cases done (a case of unknown length: the mean
// time such cases took). "~1m12s left"; "≥1m12s left" when some case's
// length is not known yet; "" when nothing is known. Always an estimate:
// targets start and drain in their own time.
func (rp *runProgress) etaLocked(now time.Time) string {
	if rp.n == 0 {
		return ""
	}
	var overhead time.Duration
	if rp.overheadN > 0 {
		overhead = max(rp.overhead/time.Duration(rp.overheadN), 0)
	}
	var left time.Duration
	lower := false
	for i := rp.n - 1; i < len(rp.plans); i++ {
		var d time.Duration
		switch {
		case rp.plans[i] != unknownLength:
			d = rp.plans[i] + overhead
		case rp.unknownN > 0:
			d = rp.unknownWall / time.Duration(rp.unknownN)
		default:
			lower = true
			continue
		}
		if i == rp.n-1 {
			d = max(d-now.Sub(rp.startedAt), 0)
		}
		left += d
	}
	switch {
	case lower && left < time.Second:
		return ""
	case lower:
		return "≥" + shortDuration(left) + " left"
	}
	return "~" + shortDuration(left) + " left"
}

// shortDuration writes a duration for people, to the second above 10 s:
// "850ms", "4.2s", "45s", "1m12s", "1h02m".
func shortDuration(d time.Duration) string {
	if d >= 10*time.Second {
		d = d.Round(time.Second)
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// statusLine is what the progress line says of the running case.
type statusLine struct {
	n, total int
	name     string
	phase    string // "warmup", "measure"
	clock    string // "3.2s/10s"
	// measured: an interval has completed, so rate and p99 are figures
	// (before, they show "–", not 0).
	measured bool
	rate     float64
	p99Us    int64 // 0: no handshake succeeded in the last interval
	ok       int64
	errors   int64
	inFlight int64
	eta      string // the run's time left, "~1m12s left", or ""
}

// field is one part of the status line and when it goes as the line is
// fitted: fields of lower rank are dropped first.
type field struct {
	text string
	rank int
	head bool // shown in the brackets, beside the case count
}

// fields are the line's parts after the name, in the order shown, and
// the run's time left (head).
func (s statusLine) fields() []field {
	var fs []field
	if s.eta != "" {
		fs = append(fs, field{text: s.eta, rank: 3, head: true})
	}
	if s.phase != "measure" {
		return append(fs, field{text: "warm-up " + s.clock, rank: 7})
	}
	rate, p99 := "–", "–"
	if s.measured {
		rate = units.Rate(s.rate)
		if s.p99Us > 0 {
			p99 = units.Latency(float64(s.p99Us))
		}
	}
	errorsRank := 1
	if s.errors > 0 {
		errorsRank = 6 // errors are news; their absence is not
	}
	// The figures are padded to their widest (units.Rate: 5 runes up to
	// 99999; units.Latency: 6), so the line keeps its length.
	return append(fs,
		field{text: s.clock, rank: 7},
		field{text: fmt.Sprintf("%5s hs/s", rate), rank: 5},
		field{text: fmt.Sprintf("p99 %6s", p99), rank: 4},
		field{text: fmt.Sprintf("ok %d", s.ok), rank: 1},
		field{text: fmt.Sprintf("errors %d", s.errors), rank: errorsRank},
		field{text: fmt.Sprintf("in flight %d", s.inFlight), rank: 2},
	)
}

// nameFloor is how short the case name gets before fields of rank 2 and
// up are dropped for it; nameFloorClock before the clock is.
const (
	nameFloor      = 24
	nameFloorClock = 10
)

// render writes the line, whole when width is 0, else to fit width-1
// columns so that it never wraps (every rune of it takes one column):
// the fields of rank 1 go first (the ok count, errors when there are
// none), then the name is shortened to nameFloor runes and "…", then the
// other fields go in rank order (in flight, the run's time left, p99,
// rate, errors), then the name is shortened to nameFloorClock, then the
// clock goes, then the name is shortened further; past that the line is
// cut.
func (s statusLine) render(width int) string {
	fs := s.fields()
	name := s.name
	build := func() string {
		head := fmt.Sprintf("[%d/%d", s.n, s.total)
		parts := []string{"", name}
		for _, f := range fs {
			if f.head {
				head += " " + f.text
			} else {
				parts = append(parts, f.text)
			}
		}
		return head + "] " + strings.Join(parts[1:], "  ")
	}
	line := build()
	if width <= 0 {
		return line
	}
	limit := width - 1
	fits := func() bool { line = build(); return utf8.RuneCountInString(line) <= limit }
	drop := func(maxRank int) bool {
		for rank := 1; rank <= maxRank; rank++ {
			for i := len(fs) - 1; i >= 0; i-- {
				if fs[i].rank == rank {
					fs = append(fs[:i:i], fs[i+1:]...)
					if fits() {
						return true
					}
				}
			}
		}
		return false
	}
	shorten := func(floor int) bool {
		over := utf8.RuneCountInString(line) - limit
		name = truncate(s.name, max(utf8.RuneCountInString(name)-over-1, floor))
		return fits()
	}
	if fits() || drop(1) || shorten(nameFloor) || drop(6) || shorten(nameFloorClock) || drop(7) || shorten(1) {
		return line
	}
	return truncate(line, limit-1)
}

// truncate shortens s to n runes and "…" when it is longer than n+1.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n+1 {
		return s
	}
	if n <= 0 {
		return "…"
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
