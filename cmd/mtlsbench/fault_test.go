package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/results"
)

// Fault tests: the target or the generator misbehaves mid-run, as in
// production. Each checks the failure is counted in its class, the exit
// code is the documented one, the result is kept, and nothing is left
// behind. They run processes of the real binary: a frozen or limited
// process is only real as a process.

// serveProcess runs 'mtlsbench serve --pki dir' as its own process and
// returns its address and the process; it is killed when the test ends.
func serveProcess(t *testing.T, bin, dir string) (string, *os.Process) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--pki", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := serveTestAddr.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		return a, cmd.Process
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start listening")
	}
	return "", nil
}

// faultRun runs 'mtlsbench run' against addr as a process with its own
// TMPDIR (checked empty afterwards: nothing left behind) and returns its
// exit code, standard error and result.
func faultRun(t *testing.T, bin string, wrap []string, args ...string) (int, string, *results.Run) {
	t.Helper()
	tmp := t.TempDir()
	result := filepath.Join(t.TempDir(), "r.json")
	argv := append(append(wrap, bin, "run", "-q", "-o", result), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
	run, rerr := results.ReadFile(result)
	if rerr != nil {
		t.Fatalf("exit %d, no result: %v\n%s", code, rerr, stderr.String())
	}
	return code, stderr.String(), run
}

func faultPKI(t *testing.T, bin string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	if out, err := exec.Command(bin, "pki", "gen", "--out", dir, "--clients", "2").CombinedOutput(); err != nil {
		t.Fatalf("pki gen: %v %s", err, out)
	}
	return dir
}

// A target frozen for a second (SIGSTOP, then SIGCONT) and resumed: the
// connections it held wait and complete (the timeout is longer than the
// freeze), nothing fails, the run exits 0, and the stall shows in the
// latency tail.
func TestFaultTargetFrozenAndResumed(t *testing.T) {
	bin := binary(t)
	dir := faultPKI(t, bin)
	addr, target := serveProcess(t, bin, dir)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		_ = target.Signal(syscall.SIGSTOP)
		time.Sleep(time.Second)
		_ = target.Signal(syscall.SIGCONT)
	}()
	code, stderr, run := faultRun(t, bin, nil, "-d", "4s", "--warmup", "0s", "-c", "4", "--tls", "1.3", "--resume", "none",
		"--target", addr, "--pki", dir, "--server-name", "localhost")
	c := run.Cases[0]
	if code != exitOK || c.Status != results.StatusOK || c.Counts.Errors != 0 {
		t.Fatalf("exit %d, status %s, errors %v: want a clean run\n%s", code, c.Status, c.Errors, stderr)
	}
	if max := c.Latency.Handshake.MaxUs; max < 800_000 {
		t.Errorf("slowest handshake %d µs: the 1 s freeze does not show", max)
	}
}

// A generator at its file-descriptor limit: said before load, the
// connections beyond it counted as generator_limit, the workers backing
// off (they retried at 100,000 EMFILE a second), the case failed on the
// error budget (exit 1), its result kept.
func TestFaultGeneratorAtItsFDLimit(t *testing.T) {
	bin := binary(t)
	dir := faultPKI(t, bin)
	addr, _ := serveProcess(t, bin, dir)
	limit := []string{"sh", "-c", `ulimit -Sn 128 && ulimit -Hn 128 && exec "$@"`, "sh"}
	code, stderr, run := faultRun(t, bin, limit, "-d", "2s", "--warmup", "0s", "-c", "200", "--tls", "1.3", "--resume", "none",
		"--target", addr, "--pki", dir, "--server-name", "localhost", "--hold", "5s", "--over-fd-limit")
	c := run.Cases[0]
	if code != exitFailed || c.Status != results.StatusFailed || !strings.Contains(c.Failure, "generator_limit") {
		t.Fatalf("exit %d, status %s (%s): want exit 1, failed on generator_limit\n%s", code, c.Status, c.Failure, stderr)
	}
	if !strings.Contains(stderr, "file descriptors") {
		t.Errorf("no warning before load about the file-descriptor limit:\n%s", stderr)
	}
	if c.Counts.OK == 0 {
		t.Errorf("no handshake succeeded: the connections that fit should")
	}
	// About 140 workers without a descriptor, each backing off from 10 ms
	// to 1 s: a few thousand attempts in 2 s at most, not hundreds of
	// thousands.
	if n := c.Errors["generator_limit"]; n > 5000 {
		t.Errorf("%d generator_limit errors in 2 s: the workers did not back off", n)
	}
}
