package scenarios

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSetAxis checks command-line overrides: values are checked as the
// file's are, and the new axis takes the old one's place.
func TestSetAxis(t *testing.T) {
	spec, err := Parse([]byte("matrix:\n  resume: [none, tickets]\n  tls: [1.2, 1.3]\n  client_identities: [1]\n"), "o.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.SetAxis("tls", []string{"tls1.3", "1.2"}); err != nil {
		t.Fatal(err)
	}
	if err := spec.SetAxis("client_identities", []string{"10", "100"}); err != nil {
		t.Fatal(err)
	}
	if err := spec.SetAxis("key-share", []string{"X25519"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(spec.Matrix.TLS, []string{"1.3", "1.2"}) || !slices.Equal(spec.Matrix.ClientIdentities, []int{10, 100}) || !slices.Equal(spec.Matrix.KeyShare, []string{"x25519"}) {
		t.Errorf("matrix = %+v", spec.Matrix)
	}
	cases, _, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	// resume is still written first, so it still varies slowest.
	want := []string{
		"tls1.3-full-ecdsa-p256-x25519-ids10", "tls1.3-full-ecdsa-p256-x25519-ids100",
		"tls1.2-full-ecdsa-p256-x25519-ids10", "tls1.2-full-ecdsa-p256-x25519-ids100",
		"tls1.3-resumed-ecdsa-p256-x25519-ids10", "tls1.3-resumed-ecdsa-p256-x25519-ids100",
		"tls1.2-resumed-ecdsa-p256-x25519-ids10", "tls1.2-resumed-ecdsa-p256-x25519-ids100",
	}
	if got := caseNamesOf(cases); !slices.Equal(got, want) {
		t.Errorf("cases:\n got %q\nwant %q", got, want)
	}

	// Clearing an axis restores its default.
	if err := spec.SetAxis("resume", nil); err != nil || spec.Matrix.Resume != nil {
		t.Errorf("SetAxis(resume, nil) = %v, resume %v", err, spec.Matrix.Resume)
	}
}

// TestSetAxisErrors checks that every bad value is reported, naming the
// value and the accepted ones, and that the spec is left unchanged.
func TestSetAxisErrors(t *testing.T) {
	spec, err := Parse([]byte("matrix:\n  group: [x25519]\n"), "o.yaml")
	if err != nil {
		t.Fatal(err)
	}
	before := spec.Clone()
	err = spec.SetAxis("group", []string{"x448", "p256", "P-256"})
	errs := problemsOf(t, err)
	if len(errs) != 2 {
		t.Fatalf("got %v, want two problems", err)
	}
	if e := errs[0]; e.Field != "group" || e.Message != `unknown group "x448"` || !strings.Contains(e.Accepted, "x25519mlkem768") {
		t.Errorf("first problem: %+v", e)
	}
	if e := errs[1]; !strings.Contains(e.Message, `"P-256" is listed twice (also as "p256")`) {
		t.Errorf("second problem: %+v", e)
	}
	if !reflect.DeepEqual(spec, before) {
		t.Error("a failed SetAxis changed the spec")
	}

	err = spec.SetAxis("groups", []string{"p256"})
	if e := problemsOf(t, err)[0]; !strings.Contains(e.Error(), `unknown matrix axis "groups"`) || !strings.Contains(e.Accepted, "group, key_share") {
		t.Errorf("unknown axis: %v", err)
	}

	err = spec.SetAxis("tls", []string{"1.4"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if got := e.ForFlag("--tls").Error(); got != `--tls: unknown TLS version "1.4" (accepted: 1.2, 1.3)` {
		t.Errorf("ForFlag: %s", got)
	}
}

// TestSetAxisForgetsPositions checks that an error about an overridden
// axis does not point at the file's line for the old values.
func TestSetAxisForgetsPositions(t *testing.T) {
	spec, err := Parse([]byte("target: {kind: external, addr: 'h:1', cert: c, key: k}\nload: {insecure_skip_verify: true}\nmatrix:\n  tls: [1.3]\n"), "o.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.SetAxis("chain", []string{"intermediate"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = Expand(*spec)
	e := problemsOf(t, err)[0]
	if e.Field != "matrix.chain[0]" || e.Line != 0 || !strings.Contains(e.Message, "not for an external target") {
		t.Errorf("got %+v", e)
	}
}

// TestClone checks that a clone shares nothing that can be changed.
func TestClone(t *testing.T) {
	spec, err := Parse([]byte("load: {steps: [1], step_duration: 1s}\ntarget: {kind: external, addr: 'h:1', ca: a, cert: c, key: k, pids: [7]}\nmatrix: {tls: [1.3], requests: [0]}\nexclude: [{tls: 1.2}]\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := spec.Clone()
	c.Load.Steps[0] = 2
	c.Target.PIDs[0] = 8
	c.Matrix.TLS[0] = "1.2"
	c.Matrix.Requests[0] = 1
	c.Exclude[0]["tls"] = "1.3"
	if spec.Load.Steps[0] != 1 || spec.Target.PIDs[0] != 7 || spec.Matrix.TLS[0] != "1.3" || spec.Matrix.Requests[0] != 0 || spec.Exclude[0]["tls"] != "1.2" {
		t.Errorf("changing the clone changed the original: %+v", spec)
	}
}

// TestApply: overrides mean the same for every caller: a rate replaces
// steps, steps replace the file's window, an external target drops the
// key-type axes nobody named, and a bad value is named as the user wrote
// it.
func TestApply(t *testing.T) {
	rate, steps, d := 300.0, []float64{100, 200}, 2*time.Second
	ext, one, zero := "127.0.0.1:8443", 1, 0
	slo, badRate := "p99<20ms", "fast"
	pem := "client.pem"
	insecure := true
	for _, tc := range []struct {
		name    string
		spec    string
		o       Overrides
		wantErr string // empty: Apply must succeed
		check   func(s *Spec) bool
	}{
		{name: "rate replaces steps", spec: "load: {steps: [10, 20], step_duration: 1s}\n",
			o:     Overrides{Load: LoadOverrides{Rate: &rate}},
			check: func(s *Spec) bool { return s.Load.Rate == 300 && s.Load.Steps == nil && s.Load.StepDuration == 0 }},
		{name: "steps replace the file's window", spec: "load: {duration: 5s}\n",
			o:     Overrides{Load: LoadOverrides{Steps: &steps, StepDuration: &d}},
			check: func(s *Spec) bool { return len(s.Load.Steps) == 2 && s.Load.Duration == 0 && s.Load.Count == 0 }},
		{name: "steps and a duration both given contradict", spec: "name: x\n",
			o:       Overrides{Load: LoadOverrides{Steps: &steps, StepDuration: &d, Duration: &d}},
			wantErr: "steps"},
		{name: "external target drops unnamed key axes", spec: "matrix: {server_key: [rsa2048], client_key: [rsa2048], chain: [intermediate]}\n",
			o: Overrides{Target: &ext, Cert: &pem, Key: &pem, Load: LoadOverrides{InsecureSkipVerify: &insecure},
				Axes: []AxisOverride{{Axis: "client-key", Values: []string{"ecdsa-p256"}}}},
			check: func(s *Spec) bool {
				return s.Target.Kind == KindExternal && s.Target.Addr == ext && s.Matrix.ServerKey == nil &&
					s.Matrix.Chain == nil && len(s.Matrix.ClientKey) == 1
			}},
		{name: "a bad target names the flag", spec: "name: x\n",
			o:       Overrides{Target: new(string), Names: map[string]string{"target": "--target"}},
			wantErr: `--target "": neither a target kind nor HOST:PORT`},
		{name: "a bad axis value names the flag", spec: "name: x\n",
			o:       Overrides{Axes: []AxisOverride{{Axis: "tls", Values: []string{"1.4"}}}, Names: map[string]string{"matrix.tls": "--tls"}},
			wantErr: `--tls: unknown TLS version "1.4"`},
		{name: "repeat at least 1", spec: "name: x\n",
			o:       Overrides{Repeat: &zero},
			wantErr: "repeat 0: must be at least 1"},
		{name: "repeat", spec: "name: x\n", o: Overrides{Repeat: &one}, check: func(s *Spec) bool { return s.Repeat == 1 }},
		{name: "capacity SLO", spec: "name: x\n", o: Overrides{Capacity: CapacityOverrides{SLO: &slo}},
			check: func(s *Spec) bool { return s.Capacity.SLO == slo }},
		{name: "a bad capacity rate names the flag", spec: "name: x\n",
			o:       Overrides{Capacity: CapacityOverrides{Start: &badRate}, Names: map[string]string{"capacity.start": "--start"}},
			wantErr: "--start: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Parse([]byte(tc.spec), "test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			err = spec.Apply(tc.o)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one with %q", err, tc.wantErr)
			case tc.check != nil && !tc.check(spec):
				t.Errorf("spec after Apply: target %+v load %+v matrix %+v", spec.Target, spec.Load, spec.Matrix)
			}
		})
	}
}
