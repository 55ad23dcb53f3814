package scenarios

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
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
	spec, err := Parse([]byte("matrix:\n  group: [x25519]\n  key_share: [x25519]\n"), "o.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.SetAxis("key_share", []string{"p256"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = Expand(*spec)
	e := problemsOf(t, err)[0]
	if e.Field != "matrix.key_share[0]" || e.Line != 0 || !strings.Contains(e.Message, "swap them") {
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
