package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/scenarios"
)

// applyRunFlags parses args as run's flags and applies them to the quick
// scenario: the scenario, the flags and Apply's error.
func applyRunFlags(t *testing.T, args ...string) (*scenarios.Spec, *pflag.FlagSet, error) {
	t.Helper()
	spec, err := scenarios.Load("quick")
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	var o runOptions
	addRunFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return spec, fs, spec.Apply(runOverrides(fs, &o))
}

// Flags override the scenario file: a window from the command line
// replaces the file's, whichever kind each side uses.
func TestRunFlagsOverrideTheWindow(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string // empty: the spec must validate
		check   func(l scenarios.LoadSpec) bool
	}{
		{[]string{"--steps", "100,200", "--step-duration", "1s"}, "", func(l scenarios.LoadSpec) bool {
			return len(l.Steps) == 2 && l.Duration == 0 && l.Count == 0 && l.Rate == 0
		}},
		{[]string{"-r", "300"}, "", func(l scenarios.LoadSpec) bool { return l.Rate == 300 && l.Duration > 0 }},
		{[]string{"-n", "500"}, "", func(l scenarios.LoadSpec) bool { return l.Count == 500 && l.Duration == 0 }},
		// Both on the command line contradict each other: refused.
		{[]string{"--steps", "100,200", "--step-duration", "1s", "-d", "5s"}, "steps", nil},
	} {
		spec, _, err := applyRunFlags(t, tc.args...)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v: error %v, want one naming %q", tc.args, err, tc.wantErr)
		case tc.check != nil && !tc.check(spec.Load):
			t.Errorf("%v: load %+v", tc.args, spec.Load)
		}
	}
}

// --trust-store, --crl-entries (also with "_") and --revoked-clients reach
// the cases; a bad value names its flag.
func TestRunTrustAndCRLFlags(t *testing.T) {
	spec, _, err := applyRunFlags(t, "--trust-store", "1,200", "--crl_entries", "1000", "--revoked-clients", "1", "--tls", "1.3", "--resume", "none")
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err := scenarios.Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].TrustStore != 1 || cases[1].TrustStore != 200 || cases[1].CRLEntries != 1000 || cases[1].Target.RevokedClients != 1 {
		t.Fatalf("cases %+v", cases)
	}
	code, _, errOut := runCommand(t, "run", "--trust-store", "0", "-q")
	if code != 2 || !strings.Contains(errOut, "--trust-store") || !strings.Contains(errOut, "from 1 to 1000") {
		t.Errorf("--trust-store 0: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runCommand(t, "run", "--revoked-clients", "1", "-q")
	if code != 2 || !strings.Contains(errOut, "crl_entries (--crl-entries) of at least 1") {
		t.Errorf("--revoked-clients without a CRL: exit %d\n%s", code, errOut)
	}
}

// --mode http2 --streams S reach the scenario; --streams without HTTP/2
// is refused naming the flag.
func TestRunFlagsHTTP2(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--mode", "http2", "--requests", "10", "--streams", "4"}, ""},
		{[]string{"--requests", "10", "--streams", "4"}, "--streams 4: streams 4 needs HTTP/2"},
		{[]string{"--mode", "http2", "--streams", "0"}, "--streams 0: must be at least 1"},
	} {
		spec, _, err := applyRunFlags(t, tc.args...)
		switch {
		case tc.wantErr == "" && (err != nil || spec.Target.Mode != "http2" || spec.Load.Streams != 4):
			t.Errorf("%v: %v, mode %q, streams %d", tc.args, err, spec.Target.Mode, spec.Load.Streams)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v: error %v, want one naming %q", tc.args, err, tc.wantErr)
		}
	}
}
