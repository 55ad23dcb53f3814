package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds mtlsbench once per test run: signals and child processes
// are only real with the real executable.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mtlsbench-test-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mtlsbench")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binPath
}

// targetsOf lists live built-in target processes started by binary bin.
func targetsOf(bin string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 2 && args[0] == bin && args[1] == "serve" && args[2] == "--child" {
			stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] != 'Z' {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

// waitGone waits until no target process of bin is left.
func waitGone(t *testing.T, bin string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		left := targetsOf(bin)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("built-in target processes still running %v after %v: %v", bin, within, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRunInterrupt(t *testing.T) {
	bin := binary(t)
	for _, tc := range []struct {
		name    string
		signals int
		// Within how long the process must exit after the last signal.
		exitWithin time.Duration
	}{
		// One signal: stop starting, drain, write the partial result, stop
		// the target, exit 130.
		{"graceful", 1, 6 * time.Second},
		// A second signal does not wait for any of that.
		{"second signal exits at once", 2, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.json")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "run", "-q", "-d", "20s", "--warmup", "0", "-o", out)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait until the target runs and load is on.
			deadline := time.Now().Add(20 * time.Second)
			for len(targetsOf(bin)) == 0 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("no target started; stderr: %s", stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(time.Second)
			for i := range tc.signals {
				if i > 0 {
					time.Sleep(100 * time.Millisecond)
				}
				cmd.Process.Signal(syscall.SIGINT)
			}
			sent := time.Now()
			err := cmd.Wait()
			took := time.Since(sent)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 130 {
				t.Fatalf("exit %v, want status 130; stderr: %s", err, stderr.String())
			}
			if took > tc.exitWithin {
				t.Errorf("exited %v after the last signal, want within %v", took, tc.exitWithin)
			}
			waitGone(t, bin, 5*time.Second)
			if tc.signals > 1 {
				return
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("no partial result: %v; stderr: %s", err, stderr.String())
			}
			var run struct {
				Interrupted bool `json:"interrupted"`
				Cases       []struct {
					Status string `json:"status"`
					Counts struct {
						OK int64 `json:"ok"`
					} `json:"counts"`
				} `json:"cases"`
			}
			if err := json.Unmarshal(data, &run); err != nil {
				t.Fatal(err)
			}
			if !run.Interrupted || len(run.Cases) != 1 || run.Cases[0].Status != "interrupted" || run.Cases[0].Counts.OK == 0 {
				t.Errorf("partial result: %+v", run)
			}
		})
	}
}

// Bad input exits 2 before any load, naming the value and what is accepted.
func TestRunBadInput(t *testing.T) {
	bin := binary(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--tls", "1.1"}, []string{`"1.1"`, "1.2, 1.3"}},
		{[]string{"--key-type", "rsa1024"}, []string{`"rsa1024"`, "ecdsa-p256"}},
		{[]string{"--groups", "ffdhe2048"}, []string{`"ffdhe2048"`, "x25519mlkem768"}},
		{[]string{"--ciphers", "RC4"}, []string{`"RC4"`, "TLS_AES_128_GCM_SHA256"}},
		{[]string{"--target", "nowhere"}, []string{`"nowhere"`, "HOST:PORT"}},
		{[]string{"--target", "127.0.0.1:1", "--ca", "/nonexistent/ca.pem", "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem"}, []string{"/nonexistent/"}},
		{[]string{"-f", "no-such-scenario"}, []string{"no-such-scenario", "quick"}},
	} {
		cmd := exec.Command(bin, append([]string{"run", "-q", "-o", filepath.Join(t.TempDir(), "r.json")}, tc.args...)...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%v: exit %v, want 2; output %s", tc.args, err, out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%v: output %q lacks %q", tc.args, out, w)
			}
		}
	}
}

// An unreachable target fails the run (exit 1), naming the error class.
func TestRunUnreachableTarget(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	if out, err := exec.Command(bin, "pki", "gen", "--out", dir).CombinedOutput(); err != nil {
		t.Fatalf("pki gen: %v %s", err, out)
	}
	cmd := exec.Command(bin, "run", "-q", "-d", "300ms", "--tls", "1.3", "--resume", "none", "-o", filepath.Join(dir, "r.json"),
		"--target", "127.0.0.1:1", "--ca", filepath.Join(dir, "ca.pem"), "--cert", filepath.Join(dir, "client-1.pem"), "--key", filepath.Join(dir, "client-1-key.pem"))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "connect_refused") {
		t.Fatalf("exit %v, output %s: want exit 1 naming connect_refused", err, out)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
