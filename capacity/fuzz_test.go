package capacity

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// FuzzParseSLO feeds arbitrary text to ParseSLO. It must never panic;
// every error must be an *SLOError naming the input; and an SLO it accepts
// must be well-formed (terms in String's order, one per metric, an
// achieved term, limits in range) and must survive String → ParseSLO
// unchanged, so that what a result records reads back as the same SLO.
func FuzzParseSLO(f *testing.F) {
	for _, seed := range []string{
		// Valid: the documented forms.
		"p99<50ms,errors<0.1%",
		" errors < 0.001 , P99 < 50ms ",
		"p50<=2ms,p90<5ms,p999<1.5s,p99<800µs",
		"p99.9<1h,achieved>90%",
		"achieved>=0%",
		"errors<=1%",
		"error_rate<0.5%",
		"p99<1ns",
		"p99<1h",
		"errors<0.00000001",
		"errors<1e-300",
		"achieved>=99.99999%",
		// Invalid.
		"", ",", "p99", "p99=50ms", "p99>50ms", "p99<50", "p99<-5ms", "errors>1%",
		"errors<lots", "errors<150%", "errors<NaN", "errors<Inf%", "achieved<95%",
		"p75<5ms", "p99<50ms,,errors<1%", "p99<50ms,p99<60ms", "p99<9999999999h",
		"p99<2562047h47m16.854775807s", // the largest Duration: String wrote it negative
		"p99<1h0m0.000000001s",
		"<5ms", "p99<<5ms", "p99<=", "achieved>=101%",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		slo, err := ParseSLO(in)
		if err != nil {
			var se *SLOError
			if !errors.As(err, &se) || se.Input != in || se.Msg == "" {
				t.Fatalf("ParseSLO(%q) error %v (%T): want an *SLOError naming the input", in, err, err)
			}
			return
		}
		checkSLO(t, in, slo)
		text := slo.String()
		again, err := ParseSLO(text)
		if err != nil {
			t.Fatalf("ParseSLO(%q) = %q, which does not read back: %v", in, text, err)
		}
		if !reflect.DeepEqual(again, slo) {
			t.Fatalf("ParseSLO(%q) = %+v; its String %q reads back as %+v", in, slo, text, again)
		}
		if again.String() != text {
			t.Fatalf("String is not stable: %q, then %q", text, again.String())
		}
	})
}

func checkSLO(t *testing.T, in string, slo SLO) {
	t.Helper()
	if len(slo.Terms) == 0 {
		t.Fatalf("ParseSLO(%q): no terms and no error", in)
	}
	if _, ok := slo.Term(Achieved); !ok {
		t.Fatalf("ParseSLO(%q) = %v: no achieved term", in, slo)
	}
	order := map[Metric]int{}
	for i, m := range metrics {
		order[m] = i
	}
	for i, term := range slo.Terms {
		pos, known := order[term.Metric]
		if !known {
			t.Fatalf("ParseSLO(%q): unknown metric %q", in, term.Metric)
		}
		if i > 0 && pos <= order[slo.Terms[i-1].Metric] {
			t.Fatalf("ParseSLO(%q) = %v: terms out of order or repeated", in, slo)
		}
		switch {
		case math.IsNaN(term.Limit) || math.IsInf(term.Limit, 0):
			t.Fatalf("ParseSLO(%q): term %v has limit %v", in, term, term.Limit)
		case term.Metric.isLatency() && !(term.Limit > 0 && term.Limit <= float64(MaxLatencyLimit/time.Microsecond)):
			t.Fatalf("ParseSLO(%q): latency limit %v µs is not in (0, %s]", in, term.Limit, MaxLatencyLimit)
		case !term.Metric.isLatency() && !(term.Limit >= 0 && term.Limit <= 1):
			t.Fatalf("ParseSLO(%q): share %v is outside [0, 1]", in, term.Limit)
		}
	}
}

// FuzzParseRate feeds arbitrary text to ParseRate, the rate grammar of
// --start, --max, --project and the scenario's capacity rates ("2k/s"). It
// must never panic; an accepted rate is finite and positive, and reads
// back exactly from its decimal form.
func FuzzParseRate(f *testing.F) {
	for _, seed := range []string{
		"20000", "20000/s", "20k/s", "1.5k", "2M/s", " 3K ", "0.5", "1e3", "1e-300",
		"", "/s", "k", "k/s", "0", "-5k", "NaN", "Inf", "1e308k", "1e303M", "0x10", "1_000", "2k/m", "fast",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseRate(in)
		if err != nil {
			if r != 0 || err.Error() == "" {
				t.Fatalf("ParseRate(%q) = %v with error %v", in, r, err)
			}
			return
		}
		if math.IsNaN(r) || math.IsInf(r, 0) || !(r > 0) {
			t.Fatalf("ParseRate(%q) = %v: not a finite positive rate", in, r)
		}
		text := strconv.FormatFloat(r, 'g', -1, 64)
		if back, err := ParseRate(text); err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %v; %q reads back as %v, %v", in, r, text, back, err)
		}
	})
}
