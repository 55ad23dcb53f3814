package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/units"
)

// Threshold is how much a metric must worsen before compare calls it a
// regression: by more than Pct percent of the base AND by more than Abs in
// the metric's unit (µs for latency and CPU, handshakes/s, percentage
// points for the error rate). The same amounts in the better direction make
// an improvement. The absolute part keeps small figures from failing on
// tiny moves (a 600 µs p99 that rises by 200 µs is +33% but only noise on
// a busy machine); the relative part keeps large figures from failing on
// moves that are small for them.
type Threshold struct {
	Pct float64 `json:"pct"`
	Abs float64 `json:"abs"`
	// Off shows the metric without judging it.
	Off bool `json:"off,omitempty"`
}

// Thresholds maps each judged metric to its threshold.
type Thresholds map[Metric]Threshold

// DefaultThresholds returns the thresholds compare uses unless told
// otherwise. They are set to pass two runs of one setup on a busy 2-core VM,
// where figures move by about ±10% run to run (more in the tail), and to
// fail a real slowdown of a few milliseconds. docs/compare.md explains each.
func DefaultThresholds() Thresholds {
	return Thresholds{
		MetricHandshakesPerS: {Pct: 20},
		MetricP50:            {Pct: 25, Abs: 500},
		MetricP99:            {Pct: 30, Abs: 1000},
		MetricP999:           {Pct: 50, Abs: 2000},
		MetricErrorRate:      {Pct: 50, Abs: 1},
		MetricClientCPU:      {Pct: 25, Abs: 20},
		MetricTargetCPU:      {Pct: 25, Abs: 20},
	}
}

// exceeded reports whether worsening by amount from base passes t.
func (t Threshold) exceeded(amount, base float64) bool {
	if t.Off || amount <= 0 || amount <= t.Abs {
		return false
	}
	if base == 0 {
		return true
	}
	return 100*amount/math.Abs(base) > t.Pct
}

// Describe writes t for metric m as --threshold would take it:
// "+25%:1ms", "-20%", "off".
func (t Threshold) Describe(m Metric) string {
	if t.Off {
		return "off"
	}
	info := metricInfos[m]
	sign := "+"
	if info.higherBetter {
		sign = "-"
	}
	s := sign + strconv.FormatFloat(t.Pct, 'f', -1, 64) + "%"
	if t.Abs > 0 {
		s += ":" + formatAbs(t.Abs, info.unit)
	}
	return s
}

// formatAbs writes an absolute amount in the metric's unit.
func formatAbs(v float64, unit string) string {
	switch unit {
	case "µs":
		return units.ExactLatency(v)
	case "pp":
		return strconv.FormatFloat(v, 'f', -1, 64) + "pp"
	default:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
}

// ThresholdError reports a --threshold value compare cannot use.
type ThresholdError struct {
	Spec   string
	Reason string
}

func (e *ThresholdError) Error() string {
	return fmt.Sprintf("compare: threshold %q: %s", e.Spec, e.Reason)
}

// metricAliases are other names ParseThresholds accepts.
var metricAliases = map[string]Metric{
	"p999": MetricP999, "p99_9": MetricP999,
	"client_cpu_us_per_handshake": MetricClientCPU, "target_cpu_us_per_handshake": MetricTargetCPU,
	"hs/s": MetricHandshakesPerS,
}

// ParseThresholds applies a comma-separated list of METRIC=CHANGE items to a
// copy of base (nil: DefaultThresholds()) and returns it. CHANGE is
// "±N%", "±N%:ABS" (both must be exceeded), ":ABS" (absolute only) or
// "off". The sign, when given, must point the way the metric worsens: "+"
// for latency, CPU and the error rate, "-" for handshakes_per_s. ABS is in
// the metric's unit: a duration ("500us", "2ms") or plain microseconds for
// latency and CPU, handshakes/s for the rate, percentage points ("1pp") for
// the error rate. Example: "p99=+10%:500us,handshakes_per_s=-5%".
func ParseThresholds(spec string, base Thresholds) (Thresholds, error) {
	if base == nil {
		base = DefaultThresholds()
	}
	out := Thresholds{}
	for m, t := range base {
		out[m] = t
	}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, change, ok := strings.Cut(item, "=")
		if !ok {
			return nil, &ThresholdError{item, "want METRIC=CHANGE, e.g. p99=+10%:500us"}
		}
		m, err := parseMetric(strings.TrimSpace(name))
		if err != nil {
			return nil, &ThresholdError{item, err.Error()}
		}
		t, err := parseChange(m, strings.TrimSpace(change))
		if err != nil {
			return nil, &ThresholdError{item, err.Error()}
		}
		out[m] = t
	}
	return out, nil
}

func parseMetric(name string) (Metric, error) {
	lower := strings.ToLower(name)
	for _, m := range Metrics {
		if string(m) == lower {
			return m, nil
		}
	}
	if m, ok := metricAliases[lower]; ok {
		return m, nil
	}
	names := make([]string, len(Metrics))
	for i, m := range Metrics {
		names[i] = string(m)
	}
	return "", fmt.Errorf("unknown metric %q (accepted: %s)", name, strings.Join(names, ", "))
}

func parseChange(m Metric, change string) (Threshold, error) {
	if strings.EqualFold(change, "off") {
		return Threshold{Off: true}, nil
	}
	info := metricInfos[m]
	pctText, absText, hasAbs := strings.Cut(change, ":")
	var t Threshold
	if pctText != "" {
		if !strings.HasSuffix(pctText, "%") {
			return t, fmt.Errorf("the relative change needs a %% sign, e.g. %s", Threshold{Pct: 10}.Describe(m))
		}
		num := strings.TrimSuffix(pctText, "%")
		switch {
		case strings.HasPrefix(num, "+") && info.higherBetter:
			return t, fmt.Errorf("%s regresses when it falls: write -%s%%", m, strings.TrimPrefix(num, "+"))
		case strings.HasPrefix(num, "-") && !info.higherBetter:
			return t, fmt.Errorf("%s regresses when it rises: write +%s%%", m, strings.TrimPrefix(num, "-"))
		}
		v, err := strconv.ParseFloat(strings.TrimLeft(num, "+-"), 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return t, fmt.Errorf("%q is not a percentage", pctText)
		}
		t.Pct = v
	}
	if hasAbs {
		v, err := parseAbs(info.unit, strings.TrimSpace(absText))
		if err != nil {
			return t, err
		}
		t.Abs = v
	}
	if pctText == "" && !hasAbs {
		return t, fmt.Errorf("empty change; e.g. %s or off", DefaultThresholds()[m].Describe(m))
	}
	return t, nil
}

func parseAbs(unit, text string) (float64, error) {
	text = strings.TrimLeft(text, "+")
	switch unit {
	case "µs":
		if v, err := strconv.ParseFloat(text, 64); err == nil && v >= 0 {
			return v, nil
		}
		d, err := time.ParseDuration(text)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q is not a duration (e.g. 500us, 2ms)", text)
		}
		return float64(d) / float64(time.Microsecond), nil
	case "pp":
		v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(text, "pp"), "%"), 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%q is not an amount of percentage points (e.g. 1pp)", text)
		}
		return v, nil
	default:
		v, err := strconv.ParseFloat(strings.TrimSuffix(text, "/s"), 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%q is not a number of handshakes/s", text)
		}
		return v, nil
	}
}
