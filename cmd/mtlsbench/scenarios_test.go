package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runScenariosCLI runs the CLI in-process and returns its exit code and output.
func runScenariosCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runCLI(context.Background(), &cliEnv{stdout: &out, stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

// TestScenariosCommand checks list, show and show --cases, and that bad
// input exits 2 with a message naming what was wrong.
func TestScenariosCommand(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("matrix:\n  tls: [1.2]\n  group: [x448]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args   []string
		code   int
		stdout []string // substrings
		stderr []string
	}{
		{[]string{"scenarios", "list"}, 0, []string{"NAME", "quick ", "key-types ", "groups-pq "}, nil},
		{[]string{"scenarios", "show", "quick"}, 0, []string{"# quick — the default run", "name: quick"}, nil},
		{[]string{"scenarios", "show", "--cases", "quick"}, 0, []string{"quick: 4 cases", "tls1.2-full-ecdsa-p256-x25519", "tls=1.3,cipher=any"}, nil},
		{[]string{"scenarios", "show", "--cases", "ciphers-tls12"}, 0, []string{"6 skipped", "needs an RSA server key"}, nil},
		{[]string{"scenarios", "show", "nope"}, 2, nil, []string{`nope: no built-in scenario by that name`, "quick"}},
		{[]string{"scenarios", "show", "--cases", bad}, 2, nil, []string{bad + `:3:11: matrix.group[0]: unknown group "x448"`}},
		{[]string{"scenarios", "show"}, 2, nil, []string{"want one scenario name or file", "see 'mtlsbench help scenarios show'"}},
		{[]string{"scenarios", "frob"}, 2, nil, []string{`unknown scenarios command "frob"`}},
		{[]string{"scenarios"}, 2, nil, []string{"Usage:", "needs a command"}},
		{[]string{"scenarios", "--help"}, 0, []string{"scenarios show --cases"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runScenariosCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}
