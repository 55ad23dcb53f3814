package results

import (
	"strings"
	"testing"
)

func TestJudgeSLO(t *testing.T) {
	closed := func() *Case {
		return &Case{Name: "c", Counts: Counts{Attempted: 1000, Errors: 2},
			Latency: Latency{Total: &Summary{P50Us: 900, P90Us: 2000, P99Us: 5000, P999Us: 9000}},
			Load:    &LoadReport{Model: "closed"}}
	}
	open := func(achieved float64) *Case {
		c := closed()
		c.Load = &LoadReport{Model: "open", TargetRate: 1000, AchievedRate: achieved}
		return c
	}
	for _, tc := range []struct {
		name, slo string
		c         *Case
		met       bool
		broken    []string
		err       string
	}{
		{name: "met", slo: "p99<10ms,errors<1%", c: closed(), met: true},
		{name: "p99 broken", slo: "p99<1ms", c: closed(), broken: []string{"p99 5.00ms (SLO p99<1ms)"}},
		{name: "errors broken", slo: "p50<1ms,errors<0.1%", c: closed(), broken: []string{"errors 0.20% (SLO errors<0.1%)"}},
		// The default achieved>=95% has no rate to compare with in a
		// closed loop: dropped, not broken.
		{name: "closed loop drops the default achieved term", slo: "p99<10ms", c: closed(), met: true},
		{name: "closed loop refuses a written achieved term", slo: "achieved>=90%", c: closed(), err: "achieved needs an open loop"},
		{name: "open loop behind", slo: "p99<10ms", c: open(800), broken: []string{"achieved 80.0% (SLO achieved>=95%)"}},
		{name: "open loop kept up", slo: "p99<10ms", c: open(990), met: true},
		{name: "nothing completed", slo: "p99<10s", c: &Case{Load: &LoadReport{Model: "closed"}}, broken: []string{"no handshake completed in the window"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.JudgeSLO(tc.slo)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v := tc.c.SLO
			if v.Met != tc.met || strings.Join(v.Broken, "|") != strings.Join(tc.broken, "|") {
				t.Errorf("verdict met=%v broken=%q; want met=%v broken=%q", v.Met, v.Broken, tc.met, tc.broken)
			}
		})
	}
}
