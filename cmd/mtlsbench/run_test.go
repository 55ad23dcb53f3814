package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
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
		{[]string{"--client-signer", "boringssl"}, []string{"--client-signer", `"boringssl"`, "go, openssl"}},
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

// An unreachable target is found before any load, by one connection:
// exit 2 naming the address and the class, in well under a second, and no
// result (a mistyped port ran 340,000 refused connects before failing).
func TestRunUnreachableTarget(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	if out, err := exec.Command(bin, "pki", "gen", "--out", dir).CombinedOutput(); err != nil {
		t.Fatalf("pki gen: %v %s", err, out)
	}
	result := filepath.Join(dir, "r.json")
	cmd := exec.Command(bin, "run", "-q", "-d", "5s", "--tls", "1.3", "--resume", "none", "-o", result,
		"--target", "127.0.0.1:1", "--ca", filepath.Join(dir, "ca.pem"), "--cert", filepath.Join(dir, "client-1.pem"), "--key", filepath.Join(dir, "client-1-key.pem"))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(string(out), "127.0.0.1:1 is not reachable (connect_refused)") {
		t.Fatalf("exit %v, output %s: want exit 2 naming the address and connect_refused", err, out)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("took %v: the 5 s window ran", took)
	}
	if _, err := os.Stat(result); err == nil {
		t.Error("a result was written for a run refused before load")
	}
}

// A target killed mid-run: the case keeps its partial figures, counts the
// refused connects and the time the target was gone, fails on the error
// budget (exit 1) and says which class broke it.
func TestRunTargetKilledFailsOnTheErrorBudget(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCommand(t, "pki", "gen", "--out", dir+"/pki"); code != 0 {
		t.Fatal(errOut)
	}
	backend, _, _ := startServeCommand(t, "--pki", dir+"/pki")
	// The target, as the run sees it, dies after its 60th connection (the
	// first is the check before load): its port then refuses.
	addr := dyingProxy(t, backend, 60)
	result := filepath.Join(dir, "r.json")
	code, _, errOut := runCommand(t, "run", "-q", "-d", "3s", "--warmup", "0s", "--tls", "1.3", "--resume", "none", "-c", "4",
		"--target", addr, "--pki", dir+"/pki", "--server-name", "localhost", "-o", result)
	if code != exitFailed || !strings.Contains(errOut, "over the error budget of 1.0% (--error-budget): connect_refused") {
		t.Fatalf("exit %d: %s\nwant exit 1 naming the budget and connect_refused", code, errOut)
	}
	run, err := results.ReadFile(result)
	if err != nil {
		t.Fatal(err)
	}
	c := run.Cases[0]
	if c.Status != results.StatusFailed || c.Counts.OK == 0 || c.Errors["connect_refused"] == 0 {
		t.Errorf("status %s, ok %d, errors %v: want failed with handshakes before and refusals after", c.Status, c.Counts.OK, c.Errors)
	}
	if c.UnreachableS < 0.3 || c.UnreachableS > c.DurationS || c.ErrorBudget == nil || *c.ErrorBudget != 0.01 {
		t.Errorf("unreachable %.2f s of %.2f s, budget %v", c.UnreachableS, c.DurationS, c.ErrorBudget)
	}
	// Once it is gone, a new run is refused before any load.
	if code, _, errOut := runCommand(t, "run", "-q", "-d", "1s", "--tls", "1.3", "--resume", "none", "--error-budget", "100%",
		"--target", addr, "--pki", dir+"/pki", "--server-name", "localhost", "-o", result); code != exitUsage || !strings.Contains(errOut, "not reachable") {
		t.Errorf("against the stopped target: exit %d: %s (want 2: refused before load)", code, errOut)
	}
}

// dyingProxy forwards connections to backend until it has accepted n,
// then closes its listener (connects are refused from then on) and every
// connection it forwarded: a server killed mid-run, on cue.
func dyingProxy(t *testing.T, backend string, n int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		defer func() {
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		}()
		for i := 0; i < n; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, b)
			mu.Unlock()
			wg.Go(func() { io.Copy(b, c); b.Close() })
			wg.Go(func() { io.Copy(c, b); c.Close() })
		}
		ln.Close()
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// An expired client certificate is refused before load unless it is sent
// on purpose.
func TestRunExpiredClientCertificate(t *testing.T) {
	dir := t.TempDir()
	b, err := pki.Generate(pki.Options{NotBefore: time.Now().Add(-48 * time.Hour), Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(dir, pki.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCommand(t, "run", "-q", "-d", "1s", "--target", "127.0.0.1:1", "--pki", dir, "--server-name", "localhost", "-o", filepath.Join(dir, "r.json"))
	if code != exitUsage || !strings.Contains(errOut, "expired on") || !strings.Contains(errOut, "--send-invalid-cert") {
		t.Fatalf("exit %d: %s\nwant exit 2 saying the certificate expired and how to send it anyway", code, errOut)
	}
	// Sent on purpose: the check passes, and the run goes on to the
	// reachability check (which fails here: nothing listens).
	code, _, errOut = runCommand(t, "run", "-q", "-d", "1s", "--target", "127.0.0.1:1", "--pki", dir, "--server-name", "localhost", "--send-invalid-cert", "-o", filepath.Join(dir, "r.json"))
	if code != exitUsage || strings.Contains(errOut, "expired on") || !strings.Contains(errOut, "not reachable") {
		t.Fatalf("--send-invalid-cert: exit %d: %s", code, errOut)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
