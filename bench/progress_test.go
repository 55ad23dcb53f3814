package bench

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mtlsbench/mtlsbench/live"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

func measuring(name string) statusLine {
	return statusLine{n: 12, total: 48, name: name, phase: "measure", clock: "3.2s/10s", measured: true,
		rate: 1234, p99Us: 2310, ok: 3950, errors: 0, inFlight: 64, eta: "~4m12s left"}
}

const longName = "tls13-x25519mlkem768-rsa4096-intermediate-resume0.8-identities1000-requests10"

// The status line never wraps: whatever the name and figures, it is at
// most width-1 runes, and what it drops goes in order of use.
func TestStatusLineFitsTheWidth(t *testing.T) {
	errorsToo := measuring(longName)
	errorsToo.errors = 7
	lines := []statusLine{measuring("quick"), measuring("tls13-x25519-ecdsa-p256"), measuring(longName), errorsToo,
		{n: 1, total: 4, name: longName, phase: "warmup", clock: "0.5s/2s", eta: "≥1m00s left"}}
	for _, width := range []int{10, 40, 80, 200} {
		for _, s := range lines {
			got := s.render(width)
			if n := utf8.RuneCountInString(got); n > width-1 {
				t.Errorf("width %d: %d runes: %q", width, n, got)
			}
			if !strings.HasPrefix(got, "[") {
				t.Errorf("width %d: the case count is gone: %q", width, got)
			}
		}
	}
	for _, tc := range []struct {
		s         statusLine
		width     int
		want, not []string
	}{
		// Wide: everything, the name whole.
		{measuring(longName), 200, []string{"[12/48 ~4m12s left] " + longName, "3.2s/10s", "1234 hs/s", "p99 2.31ms", "ok 3950", "errors 0", "in flight 64"}, nil},
		// 80 columns, a usual name: the ok count and zero errors go first;
		// the name, the rate, p99 and the run's time left stay.
		{measuring("tls13-x25519-ecdsa-p256"), 80, []string{"[12/48 ~4m12s left]", "tls13-x25519-ecdsa-p256", "1234 hs/s", "p99 2.31ms"}, []string{"ok 3950", "errors 0", "…"}},
		// A long name is cut with "…" before the rate and p99 go.
		{measuring(longName), 80, []string{"tls13-x25519mlkem768-rsa…", "1234 hs/s", "p99 2.31ms"}, []string{longName}},
		// Errors are kept before p99 and the rate.
		{errorsToo, 60, []string{"errors 7"}, []string{"p99"}},
		// 40 columns: the count, some of the name, the clock.
		{measuring(longName), 40, []string{"[12/48] tls13-", "…", "3.2s/10s"}, []string{"hs/s"}},
		// Off a terminal (width 0): whole.
		{measuring(longName), 0, []string{longName, "ok 3950", "in flight 64"}, nil},
	} {
		got := tc.s.render(tc.width)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("width %d: %q lacks %q", tc.width, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("width %d: %q has %q", tc.width, got, w)
			}
		}
	}
}

// Before the first interval has completed there is no rate or p99 to
// show: "–", not "0 hs/s p99 0µs".
func TestStatusLineDashBeforeTheFirstInterval(t *testing.T) {
	s := measuring("a")
	s.measured, s.rate, s.p99Us = false, 0, 0
	got := s.render(200)
	if !strings.Contains(got, "    – hs/s") || !strings.Contains(got, "p99      –") || strings.Contains(got, "0µs") {
		t.Errorf("before the first interval: %q", got)
	}
	// An interval with no successful handshake: a real 0 rate, no p99.
	s.measured = true
	if got := s.render(200); !strings.Contains(got, "    0 hs/s") || !strings.Contains(got, "p99      –") {
		t.Errorf("after an empty interval: %q", got)
	}
}

// fakeClock is a settable now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func caseOf(name string, warmup, window time.Duration, count int64) scenarios.Case {
	c := scenarios.Case{Name: name}
	c.Load.Warmup = scenarios.Duration(warmup)
	c.Load.Duration = scenarios.Duration(window)
	c.Load.Count = count
	return c
}

// The run's time left: the plans of the cases left (warm-up and window,
// repeats counted), with the overhead the cases done took beyond theirs;
// "≥" while a case's length is unknown.
func TestRunETA(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	opts := &Options{Cases: []scenarios.Case{
		caseOf("a", 2*time.Second, 10*time.Second, 0),
		caseOf("b", 0, 30*time.Second, 0),
	}}
	rp := newRunProgress(opts, 2, false)
	rp.now = clock.now
	if got := rp.eta(); got != "" {
		t.Errorf("before the first case: %q", got)
	}
	rp.caseStart(&opts.Cases[0], 0, 1, 4)
	// 12 + 30 + 12 + 30 s planned, no overhead known yet.
	if got := rp.eta(); got != "~1m24s left" {
		t.Errorf("at the start: %q, want ~1m24s left", got)
	}
	clock.t = clock.t.Add(5 * time.Second)
	if got := rp.eta(); got != "~1m19s left" {
		t.Errorf("5 s in: %q", got)
	}
	// The case took 14 s, 2 s over its plan: each case left is expected
	// to take 2 s more.
	clock.t = clock.t.Add(9 * time.Second)
	rp.caseEnd(&results.Case{Name: "a", Status: results.StatusOK})
	rp.caseStart(&opts.Cases[1], 0, 2, 4)
	if got := rp.eta(); got != "~1m18s left" {
		t.Errorf("second case: %q, want (30+2)+(12+2)+(30+2) = 78 s", got)
	}
	// Running over the plan: the case counts as due now, not negative.
	clock.t = clock.t.Add(40 * time.Second)
	if got := rp.eta(); got != "~46s left" {
		t.Errorf("second case over its plan: %q", got)
	}

	// A window that ends at a count has no length until one has run.
	opts = &Options{Cases: []scenarios.Case{caseOf("n", 0, 0, 1000), caseOf("d", 0, 10*time.Second, 0)}}
	rp = newRunProgress(opts, 1, false)
	rp.now = clock.now
	rp.caseStart(&opts.Cases[0], 0, 1, 2)
	if got := rp.eta(); got != "≥10s left" {
		t.Errorf("count-bound first: %q", got)
	}

	// A capacity search: unknown until a case has run, then its mean.
	opts = &Options{Cases: []scenarios.Case{caseOf("x", 0, 0, 0), caseOf("y", 0, 0, 0), caseOf("z", 0, 0, 0)}}
	rp = newRunProgress(opts, 1, true)
	rp.now = clock.now
	rp.caseStart(&opts.Cases[0], 0, 1, 3)
	if got := rp.eta(); got != "" {
		t.Errorf("search, nothing known: %q", got)
	}
	clock.t = clock.t.Add(time.Minute)
	rp.caseEnd(&results.Case{Name: "x", Status: results.StatusOK})
	rp.caseStart(&opts.Cases[1], 0, 2, 3)
	if got := rp.eta(); got != "~2m00s left" {
		t.Errorf("search after one case of 1 m: %q", got)
	}
}

// Off a terminal, each case has a start and an end line, the end with
// its verdict and headline figures.
func TestCaseLinesOffATerminal(t *testing.T) {
	var buf bytes.Buffer
	opts := &Options{Progress: &buf, Cases: []scenarios.Case{caseOf("a", 2*time.Second, 10*time.Second, 0)}}
	rp := newRunProgress(opts, 1, false)
	rp.caseStart(&opts.Cases[0], 0, 1, 1)
	rp.caseEnd(&results.Case{Name: "a", Status: results.StatusOK, HandshakesPerS: 1234,
		Latency: results.Latency{Handshake: &results.Summary{Count: 10, P99Us: 2310}}, Counts: results.Counts{Errors: 3}})
	rp.caseEnd(&results.Case{Name: "a", Status: results.StatusFailed, Failure: "every handshake failed (5)"})
	rp.caseEnd(&results.Case{Name: "a", Status: results.StatusOK, HandshakesPerS: 50,
		SLO: &results.SLOVerdict{Objective: "p99<1us", Broken: []string{"p99 2.31ms (SLO p99<1µs)"}}})
	rp.caseEnd(&results.Case{Name: "a", Status: results.StatusOK, Capacity: &results.Capacity{Verdict: "lower_bound", MaxSustainableRate: 2000}})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("lines:\n%s", buf.String())
	}
	for i, want := range []string{
		"[1/1] a  started, 10s window after 2.0s warm-up; run ~12s left",
		"[1/1] a  ok  1234 hs/s  p99 2.31ms  3 errors  (",
		"[1/1] a  failed: every handshake failed (5)  (",
		"[1/1] a  ok  50.0 hs/s  p99 –  0 errors  SLO broken: p99 2.31ms (SLO p99<1µs)  (",
		"[1/1] a  ok  capacity ≥2000/s (a lower bound)  (",
	} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d: %q, want %q…", i+1, lines[i], want)
		}
	}
}

// recorder is a Watcher that keeps what it was told.
type recorder struct {
	mu        sync.Mutex // guards the fields below
	events    []string
	intervals map[int][]results.Interval // by case N
	last      map[int]loadgen.Progress
	ends      []*results.Case
}

func (r *recorder) CaseStart(c *live.Case) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "start "+c.Name)
}

func (r *recorder) Interval(c *live.Case, iv results.Interval) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.intervals == nil {
		r.intervals = map[int][]results.Interval{}
	}
	r.intervals[c.N] = append(r.intervals[c.N], iv)
}

func (r *recorder) Progress(c *live.Case, p loadgen.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[int]loadgen.Progress{}
	}
	r.last[c.N] = p
}

func (r *recorder) CaseEnd(c *live.Case, out *results.Case) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "end "+c.Name+" "+string(out.Status))
	r.ends = append(r.ends, out)
}

// Watchers hear of every case's start and end, every interval the result
// records (the last, partial one too) and, last, the final counts.
func TestWatchersSeeEveryInterval(t *testing.T) {
	cases := expand(t, "quick", 1200*time.Millisecond, nil)[:2]
	rec := &recorder{}
	var progress bytes.Buffer
	run, err := Run(context.Background(), Options{Cases: cases, ChildCommand: childCommand(), Watchers: []live.Watcher{rec}, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := "start " + cases[0].Name + ";end " + cases[0].Name + " ok;start " + cases[1].Name + ";end " + cases[1].Name + " ok"
	if got := strings.Join(rec.events, ";"); got != want {
		t.Errorf("events %s\nwant %s", got, want)
	}
	for i, c := range run.Cases {
		got := rec.intervals[i+1]
		if len(got) != len(c.Intervals) || len(got) < 2 {
			t.Errorf("%s: watchers saw %d intervals, the result has %d", c.Name, len(got), len(c.Intervals))
			continue
		}
		for j := range got {
			if got[j].OffsetS != c.Intervals[j].OffsetS || got[j].HandshakesPerS != c.Intervals[j].HandshakesPerS {
				t.Errorf("%s: interval %d: %+v, result %+v", c.Name, j, got[j], c.Intervals[j])
			}
		}
		last := rec.last[i+1]
		if last.Phase != live.PhaseEnd || last.OK != c.Counts.OK || last.Errors != c.Counts.Errors {
			t.Errorf("%s: last progress %+v, result counts %+v", c.Name, last, c.Counts)
		}
	}
	// Off a terminal: a start and an end line per case.
	for _, c := range cases {
		if strings.Count(progress.String(), "] "+c.Name+"  ") != 2 {
			t.Errorf("%s: not one start and one end line:\n%s", c.Name, progress.String())
		}
	}
}

// The clock keeps its width as it runs, so the fitted line does not
// flicker.
func TestProgressTimeKeepsItsWidth(t *testing.T) {
	for _, tc := range []struct {
		elapsed, total time.Duration
		want           string
	}{
		{250 * time.Millisecond, 2 * time.Second, "0.2s/2.0s"},
		{1900 * time.Millisecond, 2 * time.Second, "1.9s/2.0s"},
		{3 * time.Second, 10 * time.Second, " 3s/10s"},
		{45 * time.Second, 2 * time.Minute, "  45s/2m00s"},
		{65500 * time.Millisecond, 2 * time.Minute, "1m05s/2m00s"},
		{3 * time.Second, 0, "3.0s"}, // a window that ends at a count
	} {
		if got := progressTime(loadgen.Progress{Elapsed: tc.elapsed, Total: tc.total}); got != tc.want {
			t.Errorf("%v of %v: %q, want %q", tc.elapsed, tc.total, got, tc.want)
		}
	}
}

// Off a terminal, a status line every 10 s, whole: rate, p99, errors, in
// flight and the run's time left.
func TestPlainStatusLineEvery10s(t *testing.T) {
	var buf bytes.Buffer
	opts := Options{Progress: &buf, Cases: []scenarios.Case{caseOf("a", 0, time.Minute, 0)}}
	rp := newRunProgress(&opts, 1, false)
	opts.progress = rp
	rp.caseStart(&opts.Cases[0], 0, 1, 1)
	buf.Reset()
	o := &observer{opts: opts, name: "a", n: 1, total: 1, progress: rp, lastPlain: time.Now()}
	p := loadgen.Progress{Phase: "measure", Elapsed: 5 * time.Second, Total: time.Minute, OK: 100, Errors: 2, InFlight: 8, Rate: 20, P99Us: 1500}
	o.Interval(results.Interval{})
	o.Progress(p)
	if buf.Len() != 0 {
		t.Fatalf("a line before 10 s: %q", buf.String())
	}
	o.lastPlain = time.Now().Add(-plainEvery)
	o.Progress(p)
	o.Progress(p)
	line := buf.String()
	if strings.Count(line, "\n") != 1 {
		t.Fatalf("want one line: %q", line)
	}
	for _, want := range []string{"[1/1 ~", "left] a", " 5s/1m00s", "20.0 hs/s", "p99 1.50ms", "errors 2", "in flight 8", "ok 100"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
}
