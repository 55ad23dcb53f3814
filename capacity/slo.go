package capacity

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/units"
)

// Metric is what one SLO term limits.
type Metric string

// The metrics an SLO can limit. Latencies are percentiles of the
// coordinated-omission-corrected total latency (measured from each
// handshake's intended start); Errors is failed handshakes over attempted
// ones; Achieved is the rate of handshakes completed in the window over the
// rate asked for.
const (
	P50      Metric = "p50"
	P90      Metric = "p90"
	P99      Metric = "p99"
	P999     Metric = "p99.9"
	Errors   Metric = "errors"
	Achieved Metric = "achieved"
)

// metrics lists every metric in the order String writes them.
var metrics = []Metric{P50, P90, P99, P999, Errors, Achieved}

// isLatency reports whether m is a latency percentile.
func (m Metric) isLatency() bool { return m == P50 || m == P90 || m == P99 || m == P999 }

// Term is one clause of an SLO: a metric, a comparison and a limit.
type Term struct {
	Metric Metric
	// Limit is in µs for a latency, a fraction (0.001 is 0.1%) for Errors
	// and Achieved.
	Limit float64
	// Inclusive: the value may equal the limit (<= or >=); otherwise it
	// must be strictly below it (latency, errors) or above it (achieved).
	Inclusive bool
}

// String writes the term as ParseSLO reads it: "p99<50ms", "errors<0.1%",
// "achieved>=95%".
func (t Term) String() string {
	op := "<"
	if t.Metric == Achieved {
		op = ">"
	}
	if t.Inclusive {
		op += "="
	}
	return string(t.Metric) + op + t.formatLimit()
}

// formatLimit writes the limit exactly, so String round-trips.
func (t Term) formatLimit() string {
	if t.Metric.isLatency() {
		return (time.Duration(math.Round(t.Limit*1000)) * time.Nanosecond).String()
	}
	return formatPercent(t.Limit)
}

// holds reports whether value satisfies the term.
func (t Term) holds(value float64) bool {
	switch {
	case t.Metric == Achieved && t.Inclusive:
		return value >= t.Limit
	case t.Metric == Achieved:
		return value > t.Limit
	case t.Inclusive:
		return value <= t.Limit
	default:
		return value < t.Limit
	}
}

// SLO is a service-level objective: every term must hold at a rate for the
// rate to be sustainable.
type SLO struct {
	Terms []Term
}

// DefaultAchieved is the achieved-rate term ParseSLO adds when the SLO has
// none: a step whose handshakes did not keep up with the rate asked for
// (the target, or the generator, fell behind) is not sustainable, whatever
// its latency says about the handshakes that did complete.
var DefaultAchieved = Term{Metric: Achieved, Limit: 0.95, Inclusive: true}

// String writes the SLO as ParseSLO reads it, terms in a fixed order.
func (s SLO) String() string {
	parts := make([]string, len(s.Terms))
	for i, t := range s.Terms {
		parts[i] = t.String()
	}
	return strings.Join(parts, ",")
}

// Term returns the SLO's term on m, if it has one.
func (s SLO) Term(m Metric) (Term, bool) {
	for _, t := range s.Terms {
		if t.Metric == m {
			return t, true
		}
	}
	return Term{}, false
}

// MaxLatencyLimit is the largest latency limit an SLO term may set: the
// highest value the latency recorders track (results.HistHighestUs, one
// hour). A larger limit could not be measured, and near the largest
// time.Duration it would not even be written back correctly.
const MaxLatencyLimit = time.Hour

// WritesAchieved reports whether the SLO s writes out an achieved term,
// rather than getting DefaultAchieved from ParseSLO: a closed loop (no
// rate to achieve) drops the default one and refuses a written one.
func WritesAchieved(s string) bool {
	for term := range strings.SplitSeq(s, ",") {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(term)), string(Achieved)) {
			return true
		}
	}
	return false
}

// SLOError is an SLO that cannot be parsed; the message says which term and
// what is accepted.
type SLOError struct {
	Input string
	Msg   string
}

func (e *SLOError) Error() string {
	return fmt.Sprintf("capacity: SLO %q: %s", e.Input, e.Msg)
}

// SLOSyntax is the help text for the SLO syntax.
const SLOSyntax = "comma-separated terms: p50, p90, p99 or p99.9 < a duration (50ms, 1.5s, 800us; at most 1h); " +
	"errors < a share (0.1% or 0.001); achieved >= a share of the rate asked for (95%, the default); " +
	"<= and >= include the limit, e.g. 'p99<50ms,errors<0.1%'"

// ParseSLO reads an SLO such as "p99<50ms,errors<0.1%":
//
//	term      = latency ("<" | "<=") duration
//	          | "errors" ("<" | "<=") share
//	          | "achieved" (">" | ">=") share
//	latency   = "p50" | "p90" | "p99" | "p99.9" (also "p999")
//	duration  = a Go duration with a unit: 50ms, 1.5s, 800us, 800µs; at most 1h
//	share     = a percentage (0.1%) or a fraction (0.001)
//
// Terms are separated by commas; each metric appears at most once. An SLO
// without an achieved term gets DefaultAchieved (achieved>=95%). The terms
// come back in a fixed order (latencies, errors, achieved).
func ParseSLO(s string) (SLO, error) {
	bad := func(format string, a ...any) (SLO, error) {
		return SLO{}, &SLOError{Input: s, Msg: fmt.Sprintf(format, a...)}
	}
	if strings.TrimSpace(s) == "" {
		return bad("empty; want %s", SLOSyntax)
	}
	byMetric := map[Metric]Term{}
	for raw := range strings.SplitSeq(s, ",") {
		text := strings.ReplaceAll(strings.TrimSpace(raw), " ", "")
		if text == "" {
			return bad("an empty term (two commas in a row?)")
		}
		i := strings.IndexAny(text, "<>=")
		if i <= 0 {
			return bad("term %q has no comparison; want %s", text, SLOSyntax)
		}
		name, rest := strings.ToLower(text[:i]), text[i:]
		var op string
		for _, o := range []string{"<=", ">=", "<", ">"} {
			if strings.HasPrefix(rest, o) {
				op = o
				break
			}
		}
		if op == "" {
			return bad("term %q: the comparison must be <, <=, > or >=", text)
		}
		value := rest[len(op):]
		m := Metric(name)
		if name == "p999" {
			m = P999
		}
		if name == "error" || name == "error_rate" {
			m = Errors
		}
		t := Term{Metric: m, Inclusive: strings.HasSuffix(op, "=")}
		switch {
		case m.isLatency():
			if op[0] != '<' {
				return bad("term %q: a latency SLO is an upper bound: write %s<%s", text, m, value)
			}
			d, err := time.ParseDuration(strings.ReplaceAll(value, "µ", "u"))
			if err != nil || d <= 0 {
				return bad("term %q: %q is not a positive duration with a unit (50ms, 1.5s, 800us)", text, value)
			}
			if d > MaxLatencyLimit {
				return bad("term %q: %s is beyond the longest latency recorded (%s); write a limit up to %s", text, value, MaxLatencyLimit, MaxLatencyLimit)
			}
			t.Limit = float64(d) / float64(time.Microsecond)
		case m == Errors:
			if op[0] != '<' {
				return bad("term %q: an error SLO is an upper bound: write errors<%s", text, value)
			}
			v, err := ParseShare(value)
			if err != nil {
				return bad("term %q: %v", text, err)
			}
			t.Limit = v
		case m == Achieved:
			if op[0] != '>' {
				return bad("term %q: the achieved rate is a lower bound: write achieved>=%s", text, value)
			}
			v, err := ParseShare(value)
			if err != nil {
				return bad("term %q: %v", text, err)
			}
			if v > 1 {
				return bad("term %q: the achieved rate cannot exceed 100%% of the rate asked for", text)
			}
			t.Limit = v
		default:
			return bad("unknown metric %q; want %s", name, SLOSyntax)
		}
		if _, dup := byMetric[m]; dup {
			return bad("%s is limited twice; keep one term per metric", m)
		}
		byMetric[m] = t
	}
	if _, ok := byMetric[Achieved]; !ok {
		byMetric[Achieved] = DefaultAchieved
	}
	var slo SLO
	for _, m := range metrics {
		if t, ok := byMetric[m]; ok {
			slo.Terms = append(slo.Terms, t)
		}
	}
	return slo, nil
}

// ParseShare reads a share as the SLO grammar writes one: a percentage
// ("0.1%") or a fraction ("0.001"), 0 to 1.
func ParseShare(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%q is not a share: write a percentage (0.1%%) or a fraction (0.001)", s)
	}
	if pct {
		v /= 100
	}
	if v > 1 {
		return 0, fmt.Errorf("%q is more than 100%%", s)
	}
	return v, nil
}

// Measurement is what one step measured: the inputs the SLO is checked
// against.
type Measurement struct {
	// Rate is the rate asked for; Achieved the rate of handshakes that
	// completed (successfully or not) in the window.
	Rate, Achieved float64
	// Attempted handshakes completed in the window; Errors of them failed.
	Attempted, Errors int64
	// Latency percentiles in µs (coordinated-omission corrected).
	P50, P90, P99, P999 int64
	// GeneratorBound: the generator ran short of CPU during the step, so
	// the figures describe it as much as the target.
	GeneratorBound bool
	// Disturbed: other processes (neither the generator nor the target)
	// used a significant share of the machine during the step, so a
	// failure may be theirs.
	Disturbed bool
}

// Inconclusive reports whether a failure at this step may not be the
// target's: the generator was short of CPU, or something else disturbed
// the step. A pass is conclusive whatever happened: the target kept up.
func (m Measurement) Inconclusive() bool { return m.GeneratorBound || m.Disturbed }

// value returns m's figure for metric, in the term's unit.
func (m Measurement) value(metric Metric) float64 {
	switch metric {
	case P50:
		return float64(m.P50)
	case P90:
		return float64(m.P90)
	case P99:
		return float64(m.P99)
	case P999:
		return float64(m.P999)
	case Errors:
		return float64(m.Errors) / float64(m.Attempted)
	case Achieved:
		if m.Rate <= 0 {
			return 0
		}
		return m.Achieved / m.Rate
	}
	return math.NaN()
}

// Violation is one SLO term that did not hold, with the value measured.
type Violation struct {
	Term  Term
	Value float64
	// NoData: no handshake completed in the window, so there is no value.
	NoData bool
}

// String says what failed: "p99 72.1ms (SLO p99<50ms)".
func (v Violation) String() string {
	if v.NoData {
		return "no handshake completed in the window"
	}
	value := units.Share(v.Value)
	if v.Term.Metric.isLatency() {
		value = units.Latency(v.Value)
	}
	return fmt.Sprintf("%s %s (SLO %s)", v.Term.Metric, value, v.Term)
}

// Check returns the terms m violates; none means the rate is sustainable.
// A step in which no handshake completed violates the SLO whatever its
// terms.
func (s SLO) Check(m Measurement) []Violation {
	if m.Attempted == 0 {
		return []Violation{{NoData: true}}
	}
	var out []Violation
	for _, t := range s.Terms {
		if v := m.value(t.Metric); !t.holds(v) {
			out = append(out, Violation{Term: t, Value: v})
		}
	}
	return out
}

// formatPercent writes a fraction so that ParseShare reads back exactly v,
// so Term.String round-trips: as a percentage without trailing zeros
// (0.001 → 0.1%, 0.95 → 95%), to four decimals when those suffice, else
// to as many as it takes, else (a share too small or too precise for a
// percentage to read back exactly, such as 1e-8) as the fraction itself.
// Rounding to four decimals alone turned errors<0.00000001 into
// errors<0%, an SLO nothing can meet. (Measured shares are written by
// units.Share.)
func formatPercent(v float64) string {
	for _, pct := range []string{
		strconv.FormatFloat(math.Round(v*100*1e4)/1e4, 'f', -1, 64) + "%",
		strconv.FormatFloat(v*100, 'f', -1, 64) + "%",
	} {
		if back, err := ParseShare(pct); err == nil && back == v {
			return pct
		}
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
