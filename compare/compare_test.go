package compare

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/report"
	"github.com/mtlsbench/mtlsbench/results"
)

func metricOf(t *testing.T, cmp *Comparison, name string, m Metric) MetricComparison {
	t.Helper()
	for _, cc := range cmp.Cases {
		if cc.Name != name {
			continue
		}
		for _, mc := range cc.Metrics {
			if mc.Metric == m {
				return mc
			}
		}
	}
	t.Fatalf("no %s for %s in comparison", m, name)
	return MetricComparison{}
}

func TestCompare(t *testing.T) {
	slow := resultstest.GateSpec()
	slow.ShiftUs = 3000 // a 3 ms server-side slowdown
	errs := resultstest.GateSpec()
	errs.Errors = map[string]int64{"unknown_ca": 150}
	other := resultstest.GateSpec()
	other.KeyType = "ed25519"
	name := resultstest.GateSpec().Name()

	for _, tc := range []struct {
		name       string
		base, head *results.Run
		// want maps metrics to the verdict they must get; exit is the
		// exit code.
		want     map[Metric]Verdict
		exit     int
		warning  string
		onlyBase int
		onlyHead int
	}{
		{
			name: "identical samples are ok",
			base: resultstest.Samples(1, 5, 0, resultstest.GateSpec()), head: resultstest.Samples(1, 5, 0, resultstest.GateSpec()),
			want: map[Metric]Verdict{MetricHandshakesPerS: VerdictOK, MetricP99: VerdictOK, MetricErrorRate: VerdictOK},
		},
		{
			name: "10% noise in 5 vs 5 samples is not a regression",
			base: resultstest.Samples(2, 5, 0.10, resultstest.GateSpec()), head: resultstest.Samples(3, 5, 0.10, resultstest.GateSpec()),
			want: map[Metric]Verdict{MetricHandshakesPerS: VerdictOK, MetricP50: VerdictOK, MetricClientCPU: VerdictOK},
		},
		{
			name: "10% noise in single samples is not a regression",
			base: resultstest.Samples(4, 1, 0.10, resultstest.GateSpec()), head: resultstest.Samples(5, 1, 0.10, resultstest.GateSpec()),
			want:    map[Metric]Verdict{MetricHandshakesPerS: VerdictOK, MetricP50: VerdictOK, MetricP99: VerdictOK},
			warning: "one sample",
		},
		{
			name: "+3 ms with 5 vs 5 samples is a significant p99 regression",
			base: resultstest.Samples(6, 5, 0.10, resultstest.GateSpec()), head: resultstest.Samples(7, 5, 0.10, slow),
			want: map[Metric]Verdict{MetricP50: VerdictRegression, MetricP99: VerdictRegression, MetricClientCPU: VerdictOK},
			exit: 1,
		},
		{
			name: "+3 ms with one sample each fails on thresholds alone",
			base: resultstest.Samples(8, 1, 0.10, resultstest.GateSpec()), head: resultstest.Samples(9, 1, 0.10, slow),
			want: map[Metric]Verdict{MetricP99: VerdictRegression},
			exit: 1, warning: "rests on one sample",
		},
		{
			name: "3 vs 3 samples cannot reach significance and says how many are needed",
			base: resultstest.Samples(10, 3, 0.10, resultstest.GateSpec()), head: resultstest.Samples(11, 3, 0.10, slow),
			want: map[Metric]Verdict{MetricP99: VerdictRegression},
			exit: 1, warning: "need >= 4 samples",
		},
		{
			name: "errors past 1pp regress the error rate",
			base: resultstest.Samples(12, 5, 0.05, resultstest.GateSpec()), head: resultstest.Samples(13, 5, 0.05, errs),
			want: map[Metric]Verdict{MetricErrorRate: VerdictRegression, MetricP99: VerdictOK},
			exit: 1,
		},
		{
			name: "the slowdown reversed is an improvement",
			base: resultstest.Samples(14, 5, 0.05, slow), head: resultstest.Samples(15, 5, 0.05, resultstest.GateSpec()),
			want: map[Metric]Verdict{MetricP99: VerdictImprovement},
		},
		{
			name: "cases on one side only are listed, not errors",
			base: resultstest.Samples(16, 1, 0, resultstest.GateSpec(), other), head: resultstest.Samples(17, 1, 0, resultstest.GateSpec()),
			want: map[Metric]Verdict{MetricP99: VerdictOK}, onlyBase: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmp, err := Runs(tc.base, tc.head, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var table bytes.Buffer
			if err := Render(&table, cmp, report.FormatTable); err != nil {
				t.Fatal(err)
			}
			for m, want := range tc.want {
				if got := metricOf(t, cmp, name, m); got.Verdict != want {
					t.Errorf("%s: verdict %s, want %s (base %v head %v)\n%s", m, got.Verdict, want, got.BaseValues, got.HeadValues, table.String())
				}
			}
			if got := cmp.ExitCode(); got != tc.exit {
				t.Errorf("exit code %d, want %d\n%s", got, tc.exit, table.String())
			}
			if tc.warning != "" && !strings.Contains(table.String(), tc.warning) {
				t.Errorf("no warning containing %q:\n%s", tc.warning, table.String())
			}
			if len(cmp.OnlyBase) != tc.onlyBase || len(cmp.OnlyHead) != tc.onlyHead {
				t.Errorf("one-sided cases: %d base, %d head; want %d, %d", len(cmp.OnlyBase), len(cmp.OnlyHead), tc.onlyBase, tc.onlyHead)
			}
		})
	}
}

// TestCompareNoiseNeverFails draws many pairs of same-setup runs with ±10%
// noise and checks the default thresholds never call one a regression.
func TestCompareNoiseNeverFails(t *testing.T) {
	for i := range uint64(40) {
		for _, n := range []int{1, 5} {
			base, head := resultstest.Samples(100+2*i, n, 0.10, resultstest.GateSpec()), resultstest.Samples(101+2*i, n, 0.10, resultstest.GateSpec())
			cmp, err := Runs(base, head, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if cmp.Regressed() {
				var table bytes.Buffer
				Render(&table, cmp, report.FormatTable)
				t.Fatalf("pair %d with %d samples: same setup called a regression:\n%s", i, n, table.String())
			}
		}
	}
}

func TestCompareSchemaMismatch(t *testing.T) {
	base, head := resultstest.Samples(1, 1, 0, resultstest.GateSpec()), resultstest.Samples(1, 1, 0, resultstest.GateSpec())
	head.Schema = "mtlsbench/result/v2"
	_, err := Runs(base, head, Options{})
	var se *results.SchemaError
	if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "compare: ") {
		t.Fatalf("err = %v, want a compare error wrapping a *SchemaError", err)
	}
}

func TestCompareGolden(t *testing.T) {
	slow := resultstest.GateSpec()
	slow.ShiftUs = 3000
	other := resultstest.GateSpec()
	other.KeyType = "ed25519"
	base := resultstest.Samples(20, 5, 0.08, resultstest.GateSpec(), other)
	head := resultstest.Samples(21, 5, 0.08, slow)
	cmp, err := Runs(base, head, Options{BaseLabel: "base.json", HeadLabel: "head.json"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, cmp, f); err != nil {
				t.Fatal(err)
			}
			resultstest.Golden(t, fmt.Sprintf("compare.%s.golden", f), buf.Bytes())
		})
	}
	// Single samples: the "one sample" caveat.
	cmp, err = Runs(resultstest.Samples(22, 1, 0.05, resultstest.GateSpec()), resultstest.Samples(23, 1, 0.05, resultstest.GateSpec()), Options{BaseLabel: "base.json", HeadLabel: "head.json"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, cmp, report.FormatTable); err != nil {
		t.Fatal(err)
	}
	resultstest.Golden(t, "compare.one-sample.table.golden", buf.Bytes())
	var fe *report.FormatError
	if err := Render(&buf, cmp, report.FormatHTML); !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "compare: ") {
		t.Errorf("Render html: err = %v, want a compare error wrapping a *report.FormatError", err)
	}
}

func TestParseThresholds(t *testing.T) {
	got, err := ParseThresholds("p99=+10%:500us, handshakes_per_s=-5%, p999=off, error_rate=:2pp, client_cpu=15%", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultThresholds()
	want[MetricP99] = Threshold{Pct: 10, Abs: 500}
	want[MetricHandshakesPerS] = Threshold{Pct: 5}
	want[MetricP999] = Threshold{Off: true}
	want[MetricErrorRate] = Threshold{Abs: 2}
	want[MetricClientCPU] = Threshold{Pct: 15}
	for _, m := range Metrics {
		if got[m] != want[m] {
			t.Errorf("%s = %+v, want %+v", m, got[m], want[m])
		}
	}
	for _, bad := range []string{
		"p99=-10%",             // latency worsens upwards
		"handshakes_per_s=+5%", // throughput worsens downwards
		"p98=+10%",             // no such metric
		"p99=10",               // no % sign
		"p99",                  // no change
		"p99=+10%:fast",        // not a duration
		"error_rate=+10%:lots", // not percentage points
	} {
		if _, err := ParseThresholds(bad, nil); err == nil {
			t.Errorf("ParseThresholds(%q) accepted it", bad)
		} else if _, ok := err.(*ThresholdError); !ok || !strings.HasPrefix(err.Error(), "compare: threshold ") {
			t.Errorf("ParseThresholds(%q) error %T %q, want a *ThresholdError saying compare: threshold …", bad, err, err)
		}
	}
	// Describe writes what ParseThresholds reads.
	for m, th := range DefaultThresholds() {
		back, err := ParseThresholds(string(m)+"="+th.Describe(m), Thresholds{})
		if err != nil || back[m] != th {
			t.Errorf("%s: Describe %q parsed back as %+v, %v", m, th.Describe(m), back[m], err)
		}
	}
}

func TestMinUTestP(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want float64
	}{{3, 0.1}, {4, 2.0 / 70}, {5, 2.0 / 252}} {
		if got := minUTestP(tc.n, tc.n); fmt.Sprintf("%.6f", got) != fmt.Sprintf("%.6f", tc.want) {
			t.Errorf("minUTestP(%d,%d) = %v, want %v", tc.n, tc.n, got, tc.want)
		}
	}
	if got := samplesForAlpha(0.05); got != 4 {
		t.Errorf("samplesForAlpha(0.05) = %d, want 4", got)
	}
}

func TestCompareWarnsOnCapacity(t *testing.T) {
	cmp, err := Runs(resultstest.CapacityRun(), resultstest.CapacityRun(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range cmp.Warnings {
		found = found || strings.Contains(w, "capacity search")
	}
	if !found {
		t.Errorf("warnings %q: want one saying capacity figures are at different loads", cmp.Warnings)
	}
}

// A gate wired to the wrong files compares nothing; it must not pass.
func TestCompareNoCommonCase(t *testing.T) {
	other := resultstest.GateSpec()
	other.KeyType = "ed25519"
	base, head := resultstest.Samples(1, 2, 0, resultstest.GateSpec()), resultstest.Samples(2, 2, 0, other)
	_, err := Runs(base, head, Options{BaseLabel: "main.json", HeadLabel: "pr.json"})
	var nc *NoCommonCaseError
	if !errors.As(err, &nc) {
		t.Fatalf("err = %v, want a *NoCommonCaseError", err)
	}
	for _, want := range []string{"compare: no case in common", "main.json has " + resultstest.GateSpec().Key(), "pr.json has " + other.Key()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	empty := resultstest.Samples(3, 1, 0, resultstest.GateSpec())
	empty.Cases = nil
	if _, err := Runs(base, empty, Options{HeadLabel: "empty.json"}); !errors.As(err, &nc) || !strings.Contains(err.Error(), "empty.json has no case") {
		t.Errorf("against a result without cases: err = %v, want a *NoCommonCaseError naming empty.json", err)
	}
}
