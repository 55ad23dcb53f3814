package results

import (
	"fmt"
	"strings"

	"github.com/mtlsbench/mtlsbench/capacity"
)

// SLOVerdict is a case judged against the objective its run was given
// ('run --slo', load.slo): met, or the terms it broke with the values
// measured.
type SLOVerdict struct {
	// Objective is the SLO as judged, in capacity.ParseSLO's grammar,
	// e.g. "p99<20ms,errors<0.1%".
	Objective string `json:"objective"`
	Met       bool   `json:"met"`
	// Broken lists each term the case broke with its value, e.g.
	// "p99 72.1ms (SLO p99<50ms)". Empty when Met.
	Broken []string `json:"broken,omitempty"`
}

// JudgeSLO judges c against objective and records the verdict in c.SLO.
// Latency terms are checked against the total latency (connect, handshake
// and requests; in an open loop measured from each handshake's intended
// start, so coordinated omission cannot flatter it); errors against
// failed over attempted handshakes; achieved, in an open loop only,
// against the rate asked for. A closed loop has no rate to achieve: the
// achieved term that capacity.ParseSLO adds by default is dropped, and one
// written out is an error (Validate refuses it before any load). A case in
// which no handshake completed breaks any objective.
func (c *Case) JudgeSLO(objective string) error {
	slo, err := capacity.ParseSLO(objective)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	open := c.Load != nil && c.Load.Model == "open" && c.Load.TargetRate > 0
	if !open {
		if capacity.WritesAchieved(objective) {
			return fmt.Errorf("results: SLO %q: achieved needs an open loop (a rate to achieve); case %s ran a closed loop", objective, c.Name)
		}
		terms := slo.Terms[:0:0]
		for _, t := range slo.Terms {
			if t.Metric != capacity.Achieved {
				terms = append(terms, t)
			}
		}
		slo.Terms = terms
	}
	m := capacity.Measurement{Attempted: c.Counts.Attempted, Errors: c.Counts.Errors}
	if c.Load != nil {
		m.Rate, m.Achieved = c.Load.TargetRate, c.Load.AchievedRate
	}
	if t := c.Latency.Total; t != nil {
		m.P50, m.P90, m.P99, m.P999 = t.P50Us, t.P90Us, t.P99Us, t.P999Us
	}
	v := &SLOVerdict{Objective: slo.String(), Met: true}
	for _, broken := range slo.Check(m) {
		v.Met = false
		v.Broken = append(v.Broken, broken.String())
	}
	c.SLO = v
	return nil
}

// BrokenMetrics are the metrics of the broken terms, in the objective's
// order ("p99", "errors"); nil when the case met it.
func (v *SLOVerdict) BrokenMetrics() []string {
	var metrics []string
	for _, b := range v.Broken {
		metric, _, _ := strings.Cut(b, " ")
		metrics = append(metrics, metric)
	}
	return metrics
}
