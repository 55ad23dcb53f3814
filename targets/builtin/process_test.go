package builtin

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/cleanup"
	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// childHelperArg marks a run of this test binary as a child for the
// process tests. The test binary re-executes itself with
// -test.run=^TestChildProcessHelper$ -- childHelperArg MODE, so the child
// runs this package's own RunChild. (A helper test rather than TestMain, so
// that other files of the package remain free to define TestMain.)
const childHelperArg = "mtlsbench-child-helper"

// childCommand is the argv that runs the helper in mode.
func childCommand(mode string) []string {
	return []string{os.Args[0], "-test.run=^TestChildProcessHelper$", "--", childHelperArg, mode}
}

// withChild returns cfg with the child started by command.
func withChild(cfg targets.Config, command []string) targets.Config {
	cfg.ChildCommand = command
	return cfg
}

// TestChildProcessHelper is not a test: it is the child process of the
// process tests, and skips when run normally.
func TestChildProcessHelper(t *testing.T) {
	args := flag.Args()
	if len(args) != 2 || args[0] != childHelperArg {
		t.Skip("the child side of the process tests; runs only when they start it")
	}
	switch args[1] {
	case "serve":
		if err := RunChild(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "fail":
		fmt.Fprintln(os.Stderr, "helper: cannot start: no such thing")
		os.Exit(3)
	case "ignore-eof":
		// Serve, then ignore stdin's EOF: Close must kill us. Bounded in
		// case the parent test dies before it does.
		pr, pw := io.Pipe()
		go func() {
			io.Copy(pw, os.Stdin)
			time.Sleep(time.Minute)
			pw.Close()
		}()
		RunChild(context.Background(), pr, os.Stdout)
		os.Exit(0)
	case "parent":
		// A parent of an ignore-eof child: prints the child's PID and
		// waits to be killed. Bounded like ignore-eof.
		b, err := pki.Generate(pki.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		p, err := StartProcess(context.Background(), withChild(testConfig(b), childCommand("ignore-eof")))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(p.PIDs()[0])
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(2)
}

// startProcess starts the helper child serving cfg; the test closes it.
func startProcess(t *testing.T, cfg targets.Config) *Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := StartProcess(ctx, withChild(cfg, childCommand("serve")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// processGone reports whether pid no longer exists (reaped, not a zombie).
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestProcessLifecycle(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	p := startProcess(t, testConfig(b))
	pids := p.PIDs()
	if len(pids) != 1 || pids[0] <= 0 || pids[0] == os.Getpid() {
		t.Fatalf("PIDs() = %v, want the child's PID", pids)
	}
	pid := pids[0]
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
		t.Fatalf("child %d not running: %v", pid, err)
	}
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Errorf("child's process group = %d (%v), want its own (%d)", pgid, err, pid)
	}
	if p.ServerName() != "localhost" {
		t.Errorf("ServerName() = %q", p.ServerName())
	}

	cache := newTicketCache()
	ccfg := clientConfig(b, tls.VersionTLS13, nil)
	ccfg.ClientSessionCache = cache
	for range 2 {
		conn, err := dial(t, p.Addr(), ccfg)
		if err != nil {
			t.Fatal(err)
		}
		awaitTicket(t, conn, cache)
		conn.Close()
	}
	c := waitCounts(t, p, func(c targets.Counts) bool { return c.Handshakes == 2 })
	if c.Resumed != 1 || c.Versions["1.3"] != 2 || len(c.Ciphers) == 0 {
		t.Errorf("counts = %+v, want 2 TLS 1.3 handshakes, 1 resumed, with suites", c)
	}

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !processGone(pid) {
		t.Fatalf("child %d still exists after Close", pid)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); !os.IsNotExist(err) {
		t.Fatalf("/proc/%d after Close: %v", pid, err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.Counts(context.Background()); err == nil {
		t.Fatal("Counts after Close succeeded")
	}
}

// TestProcessChildExitsWhenParentGoes closes the parent's end of the
// child's stdin without Close, as the parent's death would.
func TestProcessChildExitsWhenParentGoes(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	p := startProcess(t, testConfig(b))
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the child did not exit after its stdin closed")
	}
	if p.waitErr != nil {
		t.Errorf("child exit: %v, want status 0", p.waitErr)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close after the child exited: %v", err)
	}
	if !processGone(p.PIDs()[0]) {
		t.Error("child not reaped")
	}
}

func TestProcessCloseKillsAChildThatWillNotExit(t *testing.T) {
	defer func(d time.Duration) { childExitGrace = d }(childExitGrace)
	childExitGrace = 200 * time.Millisecond
	b := testBundle(t, pki.ECDSAP256)
	p, err := StartProcess(context.Background(), withChild(testConfig(b), childCommand("ignore-eof")))
	if err != nil {
		t.Fatal(err)
	}
	err = p.Close()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Close: %v, want an error saying the child was killed", err)
	}
	if !processGone(p.PIDs()[0]) {
		t.Fatal("child still exists after Close killed it")
	}
}

func TestProcessStartFailureShowsStderr(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	_, err := StartProcess(context.Background(), withChild(testConfig(b), childCommand("fail")))
	if err == nil || !strings.Contains(err.Error(), "no such thing") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("StartProcess: %v, want the exit status and the child's stderr", err)
	}
}

func TestProcessChildReportsItsStartError(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	busy := startServer(t, testConfig(b))
	cfg := testConfig(b)
	cfg.Listen = busy.Addr()
	_, err := StartProcess(context.Background(), withChild(cfg, childCommand("serve")))
	if err == nil || !strings.Contains(err.Error(), "listen "+busy.Addr()) {
		t.Fatalf("StartProcess on a port in use: %v", err)
	}
}

func TestProcessRefusesBadConfigWithoutStarting(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.CipherSuitesTLS13 = []uint16{tls.TLS_AES_256_GCM_SHA384}
	// A command that cannot run: a start attempt would fail differently.
	_, err := StartProcess(context.Background(), withChild(cfg, []string{"/nonexistent/mtlsbench"}))
	if _, ok := errors.AsType[*ConfigError](err); !ok || !strings.Contains(err.Error(), "the builtin target cannot pin TLS 1.3 suite") {
		t.Fatalf("StartProcess: %v, want a *ConfigError", err)
	}
	if _, err := StartProcess(context.Background(), withChild(testConfig(b), nil)); err == nil {
		t.Fatal("StartProcess with no command succeeded")
	}
	cfg = testConfig(b)
	cfg.CPUs = "9999"
	if _, err := StartProcess(context.Background(), withChild(cfg, childCommand("serve"))); err == nil || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("StartProcess with CPUs 9999: %v", err)
	}
}

func TestProcessPinnedToCPUs(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.CPUs = "0"
	p := startProcess(t, cfg)
	got, err := cpuset.Of(p.PIDs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if got != "0" {
		t.Fatalf("child pinned to %q, want 0", got)
	}
}

func TestProcessCountsAfterChildDied(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	p := startProcess(t, testConfig(b))
	syscall.Kill(p.PIDs()[0], syscall.SIGKILL)
	<-p.exited
	_, err := p.Counts(context.Background())
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Counts from a killed child: %v, want an error with its exit status", err)
	}
	if err := p.Close(); err == nil {
		t.Fatal("Close did not report the child's abnormal exit")
	}
}

func TestProcessCountsAbandonedByContext(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.Mode = targets.ModeHTTP
	p := startProcess(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Counts(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Counts with a cancelled context: %v", err)
	}

	// Simulate a Counts call abandoned after sending its request: its
	// answer (no handshakes yet) arrives and waits, unclaimed.
	p.mu.Lock()
	if _, err := io.WriteString(p.stdin, childCountsRequest+"\n"); err != nil {
		t.Fatal(err)
	}
	p.pending++
	p.mu.Unlock()
	for deadline := time.Now().Add(20 * time.Second); len(p.lines) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned answer never arrived")
		}
	}
	// An HTTP response proves the server has counted the handshake.
	conn, err := dial(t, p.Addr(), clientConfig(b, tls.VersionTLS12, nil))
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(conn, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatal(err)
	}
	c, err := p.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Handshakes != 1 {
		t.Fatalf("Counts returned %+v: the abandoned answer was taken for this one", c)
	}
}

// A path that skips Close (the CLI's second interrupt) kills the child
// through the cleanup list, even one that ignores its stdin closing; Close
// takes it off the list.
func TestProcessCleanupRunKillsTheChild(t *testing.T) {
	before := cleanup.Pending()
	b := testBundle(t, pki.ECDSAP256)
	p, err := StartProcess(context.Background(), withChild(testConfig(b), childCommand("ignore-eof")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if n := cleanup.Pending(); n != before+1 {
		t.Fatalf("%d cleanups registered for the child, want 1", n-before)
	}
	cleanup.Run()
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
		t.Fatal("the child still runs 2s after cleanup.Run")
	}
	p.Close()
	if !processGone(p.PIDs()[0]) {
		t.Fatal("child not reaped")
	}
	q := startProcess(t, testConfig(b))
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if n := cleanup.Pending(); n != before {
		t.Fatalf("after Close %d cleanups are registered, want %d", n, before)
	}
}

// A parent killed with SIGKILL runs no cleanup at all: the kernel kills
// the child (Pdeathsig), also one too busy to notice its stdin closing.
func TestProcessChildDiesWithItsParent(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^TestChildProcessHelper$", "--", childHelperArg, "parent")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	parent.Stderr = os.Stderr
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { parent.Process.Kill(); parent.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the parent said nothing: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("the parent said %q", line)
	}
	t.Cleanup(func() { syscall.Kill(-child, syscall.SIGKILL) })
	parent.Process.Kill()
	parent.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for !processDead(child) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still exists 2s after its parent was killed", child)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processDead reports whether pid has stopped running: gone, or a zombie
// its new parent (init, after the real parent died) has yet to reap.
func processDead(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return processGone(pid)
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && len(stat) > i+2 && stat[i+2] == 'Z'
}

// Close continues a frozen (SIGSTOPped) child, which then exits on its
// own: no wait for childExitGrace, no kill.
func TestProcessCloseFrozenChild(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	p := startProcess(t, testConfig(b))
	if err := syscall.Kill(-p.PIDs()[0], syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v, want the child to exit by itself", err)
	}
	if took := time.Since(start); took > childExitGrace/2 {
		t.Errorf("Close of a frozen child took %v, want well under %v", took, childExitGrace)
	}
}
