package scenarios

import (
	"encoding/json"
	"github.com/mtlsbench/mtlsbench/tlsparams"
	"strings"
	"testing"
	"time"
)

func TestCapacitySection(t *testing.T) {
	spec, err := Parse([]byte(`name: cap
matrix:
  server_key: [ecdsa-p256, rsa2048]
capacity:
  slo: p99<20ms, errors<0.5%
  start: 200
  max: 5000
  step_duration: 3s
  step_warmup: 500ms
  resolution: 0.1
  max_steps: 12
  project: [20000, 50000]
`), "cap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Capacity.Search()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Config.SLO.String(); got != "p99<20ms,errors<0.5%,achieved>=95%" {
		t.Errorf("SLO %q", got)
	}
	if s.Config.Start != 200 || s.Config.Max != 5000 || s.Config.Resolution != 0.1 || s.Config.MaxSteps != 12 ||
		s.StepDuration != 3*time.Second || s.StepWarmup != 500*time.Millisecond || len(s.Project) != 2 {
		t.Errorf("search %+v", s)
	}
	// The section travels with the spec into results.
	b, _ := json.Marshal(spec)
	if !strings.Contains(string(b), `"capacity":{"slo":"p99\u003c20ms, errors\u003c0.5%"`) {
		t.Errorf("spec JSON %s", b)
	}
	// A Clone's projection list is its own.
	c := spec.Clone()
	c.Capacity.Project[0] = 1
	if spec.Capacity.Project[0] != 20000 {
		t.Error("Clone shares capacity.project")
	}
	// Without a section: the defaults, and no "capacity" in the JSON.
	plain, _ := Load("quick")
	s, err = plain.Capacity.Search()
	if err != nil {
		t.Fatal(err)
	}
	if s.Config.SLO.String() != "p99<50ms,errors<0.1%,achieved>=95%" || s.StepDuration != DefaultStepDuration || s.StepWarmup != DefaultStepWarmup {
		t.Errorf("default search %+v", s)
	}
	if b, _ := json.Marshal(plain); strings.Contains(string(b), "capacity") {
		t.Errorf("a spec without capacity writes %s", b)
	}
}

func TestCapacityErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		yaml      string
		line, col int
		field     string
		msg       string
	}{
		{"bad slo", "capacity:\n  slo: p99>50ms\n", 2, 8, "capacity.slo", "a latency SLO is an upper bound"},
		{"unknown metric", "capacity:\n  slo: p75<5ms\n", 2, 8, "capacity.slo", `unknown metric "p75"`},
		{"start above max", "capacity:\n  start: 900\n  max: 500\n", 2, 10, "capacity.start", "start 900 is above max 500 (line 3)"},
		{"negative max", "capacity:\n  max: -1\n", 2, 8, "capacity.max", "above 0"},
		{"resolution", "capacity:\n  resolution: 5\n", 2, 15, "capacity.resolution", "a fraction between 0 and 1"},
		{"one step", "capacity:\n  max_steps: 1\n", 2, 14, "capacity.max_steps", "must be 2 to 200"},
		{"project", "capacity:\n  project: [20000, 0]\n", 2, 20, "capacity.project[1]", "project 0 is not a rate"},
		{"unknown field", "capacity:\n  step: 5s\n", 2, 3, "capacity.step", "unknown field"},
		{"misplaced", "slo: p99<5ms\n", 1, 1, "slo", "slo is a field of load and of capacity: move it to the one you mean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "cap.yaml")
			errs := problemsOf(t, err)
			e := errs[0]
			if e.Line != tc.line || e.Column != tc.col || e.Field != tc.field || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("got %d:%d %s %q; want %d:%d %s containing %q", e.Line, e.Column, e.Field, e.Message, tc.line, tc.col, tc.field, tc.msg)
			}
		})
	}
}

// TestCapacityLibraryScenario: the default of 'mtlsbench capacity' answers
// the question it is for: three key types, full TLS 1.3 handshakes, an SLO,
// and a projection for 20,000/s.
func TestCapacityLibraryScenario(t *testing.T) {
	spec, err := Load("capacity")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Capacity.Search()
	if err != nil {
		t.Fatal(err)
	}
	if spec.Capacity.SLO == "" || len(s.Project) != 1 || s.Project[0] != 20000 {
		t.Errorf("capacity section %+v", spec.Capacity)
	}
	cases, _, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 {
		t.Fatalf("%d cases, want 3 key types", len(cases))
	}
	for _, c := range cases {
		if c.Version != tlsparams.TLS13 || c.Resume != tlsparams.ResumeNone {
			t.Errorf("%s: want full TLS 1.3 handshakes", c.Name)
		}
	}
}
