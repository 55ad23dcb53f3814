package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// Help goes to standard output and exits 0, whichever way it is asked
// for; run's flags are listed in their groups.
func TestHelpOnStdout(t *testing.T) {
	for _, args := range [][]string{{"run", "--help"}, {"run", "-h"}, {"help", "run"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCommand(t, args...)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr)
			}
			for _, want := range []string{
				"Usage:\n  mtlsbench run [-f SCENARIO] [flags]", "Examples:\n  mtlsbench run",
				"\nTarget flags (what is measured):\n", "\nTLS axes (a comma list runs each value as its own case):\n",
				"\nLoad flags:\n", "\nOutput flags:\n", "\nSharding flags (one run over several generators):\n",
				"-c, --concurrency", "--key-type strings", "also --server-key", "2k/s",
			} {
				if !strings.Contains(stdout, want) {
					t.Errorf("help has no %q:\n%s", want, stdout)
				}
			}
			// Each flag in its group: --concurrency under Load, not Target.
			load, output := strings.Index(stdout, "\nLoad flags:"), strings.Index(stdout, "\nOutput flags:")
			if c := strings.Index(stdout, "--concurrency"); !(load < c && c < output) {
				t.Errorf("--concurrency at %d, not in the load group (%d to %d)", c, load, output)
			}
		})
	}
}

// The root's help lists the commands; without a command it is printed
// too, and the exit is 2 (nothing was asked for).
func TestRootHelp(t *testing.T) {
	code, stdout, _ := runCommand(t, "help")
	if code != exitOK || !strings.Contains(stdout, "Commands:") || !strings.Contains(stdout, "capacity ") || !strings.Contains(stdout, "completion ") {
		t.Errorf("help: exit %d:\n%s", code, stdout)
	}
	code, stdout, _ = runCommand(t)
	if code != exitUsage || !strings.Contains(stdout, "Commands:") {
		t.Errorf("no arguments: exit %d:\n%s", code, stdout)
	}
	code, stdout, _ = runCommand(t, "help", "pki", "gen")
	if code != exitOK || !strings.Contains(stdout, "--key-type") || !strings.Contains(stdout, "mtlsbench pki gen --out") {
		t.Errorf("help pki gen: exit %d:\n%s", code, stdout)
	}
}

// Every command that is not a group has a description and examples.
func TestEveryCommandHasExamples(t *testing.T) {
	root := newRootCmd(&cliEnv{stdout: io.Discard, stderr: io.Discard})
	for _, c := range root.Commands() {
		for _, cmd := range append(c.Commands(), c) {
			if !cmd.IsAvailableCommand() || cmd.Name() == "version" || cmd.Parent().Name() == "completion" || cmd.Name() == "completion" {
				continue
			}
			if cmd.Long == "" || cmd.Example == "" {
				t.Errorf("%s: Long %d bytes, Example %d bytes", cmd.CommandPath(), len(cmd.Long), len(cmd.Example))
			}
		}
	}
}

// A usage error of the command line is one line naming what was wrong and
// citing the command's help; the exit is 2.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "--frob"}, []string{"mtlsbench run: unknown flag: --frob", "see 'mtlsbench help run'"}},
		{[]string{"run", "--tls", "1.1"}, []string{`mtlsbench run: --tls: unknown TLS version "1.1" (accepted: 1.2, 1.3); see 'mtlsbench help run'`}},
		{[]string{"run", "--rate", "-5"}, []string{"mtlsbench run: --rate -5: rate -5 is negative", "see 'mtlsbench help run'"}},
		{[]string{"run", "-c", "abc"}, []string{`invalid argument "abc" for "-c, --concurrency"`, "see 'mtlsbench help run'"}},
		{[]string{"run", "-r", "fast"}, []string{`"-r, --rate"`, `"fast" is not a rate`, "see 'mtlsbench help run'"}},
		{[]string{"run", "extra"}, []string{`unexpected argument "extra"`, "see 'mtlsbench help run'"}},
		{[]string{"pki", "gen", "--frob"}, []string{"mtlsbench pki gen: unknown flag: --frob", "see 'mtlsbench help pki gen'"}},
		{[]string{"report"}, []string{"want one result file", "see 'mtlsbench help report'"}},
		{[]string{"compare", "a.json"}, []string{"want two result files", "got 1 arguments"}},
		{[]string{"rnu"}, []string{`unknown command "rnu" (did you mean run?)`, "commands: bare-client, capacity", "see 'mtlsbench help'"}},
		{[]string{"pki", "frob"}, []string{`unknown pki command "frob"`, "commands: gen, revoke, show"}},
		{[]string{"help", "frob"}, []string{`no help for "frob"`}},
		{[]string{"completion", "tcsh"}, []string{`unknown completion command "tcsh"`, "bash"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCommand(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			if stdout != "" || strings.Count(stderr, "\n") != 1 {
				t.Errorf("want one line on standard error and nothing on standard output; got stdout %q, stderr %q", stdout, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q has no %q", stderr, want)
				}
			}
		})
	}
}

// A group without its command prints its usage on standard error and
// exits 2.
func TestGroupWithoutCommand(t *testing.T) {
	for _, group := range []string{"pki", "k8s", "scenarios", "completion"} {
		code, stdout, stderr := runCommand(t, group)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "Usage:\n  mtlsbench "+group+" COMMAND") || !strings.Contains(stderr, group+" needs a command") {
			t.Errorf("%s: exit %d, stdout %q, stderr:\n%s", group, code, stdout, stderr)
		}
	}
}

// Each error is printed with one prefix: the command's. The library's
// package prefix made "mtlsbench pki: pki: unknown key type" before.
func TestOneErrorPrefix(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string // the whole line
	}{
		{[]string{"pki", "gen", "--out", filepath.Join(dir, "p"), "--key-type", "x"},
			`mtlsbench pki gen: unknown key type "x" (accepted: rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519)`},
		{[]string{"report", filepath.Join(dir, "none.json")},
			"mtlsbench report: open " + filepath.Join(dir, "none.json") + ": no such file or directory"},
		{[]string{"pki", "show", dir},
			"mtlsbench pki show: open " + filepath.Join(dir, "ca.pem") + ": no such file or directory"},
		{[]string{"capacity", "--start", "fast"},
			`mtlsbench capacity: --start: "fast" is not a rate: write handshakes per second, e.g. 20000/s or 20k/s; see 'mtlsbench help capacity'`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, stderr := runCommand(t, tc.args...)
			if got := strings.TrimSuffix(stderr, "\n"); got != tc.want {
				t.Errorf("stderr\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestStripPackagePrefixes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"pki: unknown key type", "unknown key type"},
		{"bench: case a: loadgen: dial 127.0.0.1:1: connection refused", "case a: dial 127.0.0.1:1: connection refused"},
		{"--cpus: cpuset: CPU 9 does not exist", "--cpus: CPU 9 does not exist"},
		{"2 problems:\n  scenarios: a\n  b", "2 problems:\n  a\n  b"},
		// Not a package prefix where it stands: kept.
		{"open /tmp/pki: no such file", "open /tmp/pki: no such file"},
		{"-o results: is a directory", "-o results: is a directory"},
		{"tls: bad certificate", "tls: bad certificate"},
		{"pkix: x", "pkix: x"},
	} {
		if got := stripPackagePrefixes(tc.in); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Problems with the target that a flag caused name the flag, not the
// embedded scenario file.
func TestTargetFlagErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "--ca", "x.pem"}, []string{"--ca x.pem: ca is only for kind external"}},
		{[]string{"run", "--target-pid", "1"}, []string{"--target-pid 1: pids is only for kind external"}},
		{[]string{"run", "--in-process", "--target", "nginx"}, []string{"--in-process: in_process runs the built-in target inside the generator"}},
		{[]string{"run", "--target", "127.0.0.1:1"}, []string{"--target 127.0.0.1:1: an external target needs the client identity to present: --pki DIR", "--ca FILE or --pki DIR"}},
		{[]string{"run", "--rate", "-5"}, []string{"--rate -5: rate -5 is negative"}},
		{[]string{"run", "--target", "127.0.0.1:1", "--target-pid", "-1", "--insecure-skip-verify", "--cert", "c", "--key", "k"}, []string{"--target-pid -1: pid -1 is not a process id"}},
		{[]string{"run", "--requests", "5", "--mode", "handshake"}, []string{"--requests 5: 5 requests per connection, but target.mode is handshake"}},
		{[]string{"run", "--target", "127.0.0.1:1", "--pki", "/nonexistent"}, []string{"--pki /nonexistent: no such file or directory"}},
		{[]string{"run", "--target", "127.0.0.1:1", "--pki", "/dev/null"}, []string{"--pki /dev/null: is not a directory"}},
		{[]string{"capacity", "--target", "127.0.0.1:1", "--ca", "/", "--cert", "c", "--key", "k"}, []string{"--ca /: is a directory"}},
		{[]string{"serve", "--pki", "/nonexistent"}, []string{"mtlsbench serve: --pki /nonexistent: no such file or directory"}},
		{[]string{"capacity", "--target", "127.0.0.1:1", "--cert", "c.pem", "--key", "k.pem"}, []string{"--target 127.0.0.1:1: an external target needs the CA"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runCommand(t, tc.args...)
			if code != exitUsage || strings.Contains(stderr, "quick.yaml") || strings.Contains(stderr, "capacity.yaml") {
				t.Errorf("exit %d, stderr %q: want 2 and no scenario file named", code, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q has no %q", stderr, want)
				}
			}
		})
	}
}

// The scenario file's names of a setting work as flags and set the same
// override as the flag's own name.
func TestAliasFlags(t *testing.T) {
	overrides := func(args ...string) scenarios.Overrides {
		t.Helper()
		var o runOptions
		fs := runFlags(&cliEnv{stdout: io.Discard, stderr: io.Discard}, &o)
		if err := fs.Parse(args); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return runOverrides(fs, &o)
	}
	for _, tc := range []struct{ alias, flag []string }{
		{[]string{"--cipher", "TLS_AES_128_GCM_SHA256"}, []string{"--ciphers", "TLS_AES_128_GCM_SHA256"}},
		{[]string{"--group", "x25519,p256"}, []string{"--groups", "x25519,p256"}},
		{[]string{"--server-key", "rsa2048"}, []string{"--key-type", "rsa2048"}},
		{[]string{"--server_key", "rsa2048"}, []string{"--key-type", "rsa2048"}},
		{[]string{"--client-key", "ed25519"}, []string{"--client-key-type", "ed25519"}},
		{[]string{"--client-identities", "10"}, []string{"--identities", "10"}},
		{[]string{"--key_share", "p256"}, []string{"--key-share", "p256"}},
		{[]string{"-r", "100", "--max_in_flight", "7"}, []string{"-r", "100", "--max-in-flight", "7"}},
	} {
		a, f := overrides(tc.alias...), overrides(tc.flag...)
		if len(f.Axes) == 0 && f.Load.MaxInFlight == nil {
			t.Fatalf("%v set nothing", tc.flag)
		}
		if !reflect.DeepEqual(a.Axes, f.Axes) || !reflect.DeepEqual(a.Load, f.Load) {
			t.Errorf("%v: %+v %+v; %v: %+v %+v", tc.alias, a.Axes, a.Load, tc.flag, f.Axes, f.Load)
		}
	}
}

// pki gen and serve take the scenario's names of the key types too.
func TestKeyTypeAliasesOutsideRun(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCommand(t, "pki", "gen", "--out", dir, "--server-key", "ed25519", "--client-key", "ecdsa-p384")
	if code != exitOK || !strings.Contains(stdout, "server        ed25519") || !strings.Contains(stdout, "client 1      ecdsa-p384") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = runCommand(t, "serve", "--server-key", "rsa1024")
	if code != exitUsage || !strings.Contains(stderr, `--key-type: unknown key type "rsa1024"`) {
		t.Errorf("serve --server-key rsa1024: exit %d, %s", code, stderr)
	}
}

// -r and --steps take rates as capacity writes them.
func TestRateFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		rate  float64
		steps []float64
	}{
		{[]string{"-r", "2k/s"}, 2000, nil},
		{[]string{"--rate", "500/s"}, 500, nil},
		{[]string{"-r", "1.5k"}, 1500, nil},
		{[]string{"-r", "300"}, 300, nil},
		{[]string{"--steps", "1k/s,2500,4k", "--step-duration", "1s"}, 0, []float64{1000, 2500, 4000}},
	} {
		var o runOptions
		fs := runFlags(&cliEnv{stdout: io.Discard, stderr: io.Discard}, &o)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		spec, err := scenarios.Load("quick")
		if err != nil {
			t.Fatal(err)
		}
		if err := spec.Apply(runOverrides(fs, &o)); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if spec.Load.Rate != tc.rate || !reflect.DeepEqual(spec.Load.Steps, tc.steps) {
			t.Errorf("%v: rate %g steps %v; want %g %v", tc.args, spec.Load.Rate, spec.Load.Steps, tc.rate, tc.steps)
		}
	}
}

// -d and -n are each a whole window: both are refused, naming both,
// before any load.
func TestDurationWithCountRefused(t *testing.T) {
	for _, cmd := range [][]string{{"run"}, {"k8s", "render"}} {
		code, _, stderr := runCommand(t, append(cmd, "-d", "2s", "-n", "100")...)
		if code != exitUsage || !strings.Contains(stderr, "-d/--duration 2s and -n/--count 100") {
			t.Errorf("%v: exit %d, stderr %q", cmd, code, stderr)
		}
	}
}

// 'mtlsbench completion SHELL' prints cobra's script for the shell.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, stdout, stderr := runCommand(t, "completion", shell)
		if code != exitOK || len(stdout) < 1000 || !strings.Contains(stdout, "mtlsbench") || !strings.Contains(stdout, "__complete") {
			t.Errorf("%s: exit %d, %d bytes, stderr %q", shell, code, len(stdout), stderr)
		}
	}
}

// Flag values that are one of a list complete from it.
func TestFlagValueCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"run", "--target", ""}, []string{"builtin\n", "nginx\n", "haproxy\n", "openssl\n"}, nil},
		{[]string{"run", "--tls", "1.2,"}, []string{"1.2,1.3\n"}, []string{"1.2,1.2"}},
		{[]string{"capacity", "--key-type", "ecdsa"}, []string{"ecdsa-p256\n", "ecdsa-p384\n"}, []string{"rsa2048"}},
		{[]string{"report", "--format", "h"}, []string{"html\n", "hdrlog\n"}, []string{"table"}},
		{[]string{"compare", "--format", ""}, []string{"markdown\n"}, []string{"html"}},
		{[]string{"run", "-f", "q"}, []string{"quick\t"}, nil},
		{[]string{"scenarios", "show", "key"}, []string{"key-types\t"}, nil},
	} {
		code, stdout, _ := runCommand(t, append([]string{"__complete"}, tc.args...)...)
		for _, want := range tc.want {
			if code != exitOK || !strings.Contains(stdout, want) {
				t.Errorf("%v: exit %d, no %q in\n%s", tc.args, code, want, stdout)
			}
		}
		for _, not := range tc.not {
			if strings.Contains(stdout, not) {
				t.Errorf("%v: %q offered:\n%s", tc.args, not, stdout)
			}
		}
	}
}

// The man pages come from the same definitions as the help.
func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1")
	code, _, stderr := runCommand(t, "man", "--dir", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, page := range []string{"mtlsbench.1", "mtlsbench-run.1", "mtlsbench-capacity.1", "mtlsbench-pki-gen.1", "mtlsbench-completion-bash.1"} {
		if _, err := os.Stat(filepath.Join(dir, page)); err != nil {
			t.Errorf("%s: %v", page, err)
		}
	}
	run, err := os.ReadFile(filepath.Join(dir, "mtlsbench-run.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--concurrency", "--key-type", "mtlsbench run", "EXAMPLE"} {
		if !strings.Contains(string(run), want) {
			t.Errorf("mtlsbench-run.1 has no %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "mtlsbench-man.1")); err == nil {
		t.Error("the hidden man command has a page")
	}
	// The command is hidden from the help.
	if _, stdout, _ := runCommand(t, "help"); strings.Contains(stdout, "man ") {
		t.Errorf("help lists man:\n%s", stdout)
	}
}

// A matrix that the axis flags made impossible names those flags, with the
// file the rest of the scenario came from.
func TestImpossibleMatrixNamesTheFlags(t *testing.T) {
	code, _, stderr := runCommand(t, "run", "--tls", "1.2", "--groups", "p256", "--key-share", "x25519")
	want := "mtlsbench run: library/quick.yaml with --tls 1.2 --groups p256 --key-share x25519: matrix: every case is one the TLS stack cannot express"
	if code != exitUsage || !strings.HasPrefix(stderr, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
}

// version names each client stack's TLS library, or why the openssl
// client is not in this build.
func TestVersionNamesClientStacks(t *testing.T) {
	code, stdout, _ := runCommand(t, "version")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stdout, "go client: Go crypto/tls go1.") {
		t.Errorf("no go client line:\n%s", stdout)
	}
	want := "openssl client: OpenSSL "
	if loadgen.StackOpenSSL.Available() != nil {
		want = "openssl client: not in this build (it needs cgo and libssl's headers"
	}
	if !strings.Contains(stdout, want) {
		t.Errorf("no %q:\n%s", want, stdout)
	}
}
