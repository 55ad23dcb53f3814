package capacity

import (
	"strings"
	"testing"
)

func TestParseSLO(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		// The example; the achieved term is added.
		{"p99<50ms,errors<0.1%", "p99<50ms,errors<0.1%,achieved>=95%"},
		// Spaces, case, a fraction for errors, terms in any order.
		{" errors < 0.001 , P99 < 50ms ", "p99<50ms,errors<0.1%,achieved>=95%"},
		// Every latency, inclusive bounds, µs and seconds, p999 spelling.
		{"p50<=2ms,p90<5ms,p999<1.5s,p99<800µs", "p50<=2ms,p90<5ms,p99<800µs,p99.9<1.5s,achieved>=95%"},
		// An explicit achieved term replaces the default, even a weaker one.
		{"p99<50ms,achieved>90%", "p99<50ms,achieved>90%"},
		{"achieved>=0%", "achieved>=0%"},
		// A latency-free SLO: errors only.
		{"errors<=1%", "errors<=1%,achieved>=95%"},
	} {
		slo, err := ParseSLO(tc.in)
		if err != nil {
			t.Errorf("ParseSLO(%q): %v", tc.in, err)
			continue
		}
		if got := slo.String(); got != tc.want {
			t.Errorf("ParseSLO(%q) = %q, want %q", tc.in, got, tc.want)
		}
		again, err := ParseSLO(slo.String())
		if err != nil || again.String() != tc.want {
			t.Errorf("round trip of %q: %q, %v", tc.want, again.String(), err)
		}
	}
}

func TestParseSLOErrors(t *testing.T) {
	for _, tc := range []struct {
		in, wantMsg string
	}{
		{"", "empty"},
		{"p99", "no comparison"},
		{"p99=50ms", "comparison must be"},
		{"p99>50ms", "upper bound"},
		{"p99<50", "not a positive duration"},
		{"p99<-5ms", "not a positive duration"},
		{"errors>1%", "upper bound"},
		{"errors<lots", "not a share"},
		{"errors<150%", "more than 100%"},
		{"achieved<95%", "lower bound"},
		{"p75<5ms", "unknown metric"},
		{"p99<50ms,,errors<1%", "empty term"},
		{"p99<50ms,p99<60ms", "limited twice"},
	} {
		_, err := ParseSLO(tc.in)
		if err == nil {
			t.Errorf("ParseSLO(%q): want an error", tc.in)
			continue
		}
		if _, ok := err.(*SLOError); !ok || !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("ParseSLO(%q) = %v, want an *SLOError about %q", tc.in, err, tc.wantMsg)
		}
	}
}

func TestCheck(t *testing.T) {
	slo, err := ParseSLO("p50<5ms,p99<=50ms,errors<0.1%")
	if err != nil {
		t.Fatal(err)
	}
	ok := Measurement{Rate: 1000, Achieved: 990, Attempted: 10000, Errors: 9, P50: 1000, P99: 50000}
	for _, tc := range []struct {
		name  string
		m     func(m Measurement) Measurement
		wants []string // violations, as String writes them
	}{
		// Every term holds (p99 at its inclusive limit, errors just under).
		{"meets", func(m Measurement) Measurement { return m }, nil},
		{"p99 over", func(m Measurement) Measurement { m.P99 = 72100; return m }, []string{"p99 72.1ms (SLO p99<=50ms)"}},
		// errors<0.1% is strict: exactly 0.1% fails.
		{"errors at limit", func(m Measurement) Measurement { m.Errors = 10; return m }, []string{"errors 0.10% (SLO errors<0.1%)"}},
		// 940 of 1000/s is below the default achieved>=95%.
		{"fell behind", func(m Measurement) Measurement { m.Achieved = 940; return m }, []string{"achieved 94.0% (SLO achieved>=95%)"}},
		// Shares and latencies are written as reports write them
		// (units.Share, units.Latency).
		{"fell behind, ragged", func(m Measurement) Measurement { m.Achieved = 799.114; return m }, []string{"achieved 79.9% (SLO achieved>=95%)"}},
		{"several", func(m Measurement) Measurement { m.P50, m.Errors = 6000, 50; return m },
			[]string{"p50 6.00ms (SLO p50<5ms)", "errors 0.50% (SLO errors<0.1%)"}},
		// Nothing completed: no figure can meet anything.
		{"no data", func(m Measurement) Measurement { m.Attempted, m.Errors = 0, 0; return m }, []string{"no handshake completed in the window"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range slo.Check(tc.m(ok)) {
				got = append(got, v.String())
			}
			if strings.Join(got, "; ") != strings.Join(tc.wants, "; ") {
				t.Errorf("violations %q, want %q", got, tc.wants)
			}
		})
	}
}
