package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/internal/tempdir"
	"github.com/mtlsbench/mtlsbench/internal/testenv"
)

// The signal tests run the real binary with a TMPDIR of their own, so
// what they check there (nothing left; a sweep) sees only their own
// directories.

// stopWithin is how soon after SIGINT or SIGTERM every long operation must
// have exited.
const stopWithin = 2 * time.Second

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is a running mtlsbench with a private TMPDIR.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	tmp    string
	stdout *lockedBuffer
	stderr *lockedBuffer
	exited chan struct{}
	err    error // its exit; read after exited is closed
}

// start runs the binary with args and a TMPDIR of its own; the test's end
// kills whatever is left of it.
func start(t *testing.T, tmp string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, tmp: tmp, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(binary(t), args...)
	p.cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	p.cmd.Dir = t.TempDir()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// await polls cond (bounded by within) while the process runs.
func (p *proc) await(what string, within time.Duration, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		select {
		case <-p.exited:
			p.t.Fatalf("exited (%v) before %s; stderr:\n%s", p.err, what, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %s after %v; stderr:\n%s", what, within, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tree is the process and its live descendants.
func (p *proc) tree() []int {
	pids, _ := procstat.Tree(p.cmd.Process.Pid)
	return pids
}

// signal sends sig and returns when it was sent.
func (p *proc) signal(sig syscall.Signal) time.Time {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal: %v", err)
	}
	return time.Now()
}

// exitCode waits (bounded by within, counted from since) and returns the
// exit status, failing the test when it takes longer.
func (p *proc) exitCode(since time.Time, within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(time.Until(since.Add(within))):
		p.t.Fatalf("still running %v after the signal; stderr:\n%s", within, p.stderr)
	}
	took := time.Since(since)
	p.t.Logf("exited %v after the signal", took.Round(time.Millisecond))
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		p.t.Fatalf("wait: %v", p.err)
	}
	return 0
}

// dead reports whether pid no longer runs: gone, or a zombie waiting for
// init to reap it.
func dead(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && len(stat) > i+2 && stat[i+2] == 'Z'
}

// allDead fails unless every pid has stopped within d.
func allDead(t *testing.T, pids []int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for _, pid := range pids {
		for !dead(pid) {
			if time.Now().After(deadline) {
				cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
				t.Fatalf("process %d (%s) still runs %v after mtlsbench exited", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}), d)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// empty fails unless dir holds nothing.
func empty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("left in TMPDIR: %v", names)
	}
}

// tempDirs lists the mtlsbench temporary directories in tmp.
func tempDirs(tmp string) []string {
	m, _ := filepath.Glob(filepath.Join(tmp, tempdir.Prefix+"*"))
	return m
}

// nginxInstalled ends the test unless the managed nginx target can run
// here, stream module included (CI installs it; testenv skips, announced,
// or fails under MTLSBENCH_REQUIRE_SERVERS=1).
func nginxInstalled(t *testing.T) {
	t.Helper()
	testenv.NginxStream(t)
}

// Every long operation stops within 2 s of SIGINT or SIGTERM with exit 130,
// and leaves no process and no temporary directory behind.
func TestSignalStopsWithin2s(t *testing.T) {
	if testing.Short() {
		// A bound in time, with thousands of handshakes in flight: 'make
		// test' runs it alone, after the packages that test in parallel.
		t.Skip("timed: run alone (make test does, without -short)")
	}
	type ready func(p *proc) // returns when the operation is under way
	childUp := func(extra time.Duration) ready {
		return func(p *proc) {
			p.await("target process", 30*time.Second, func() bool { return len(p.tree()) > 1 })
			time.Sleep(extra)
		}
	}
	after := func(d time.Duration) ready { return func(*proc) { time.Sleep(d) } }
	for _, tc := range []struct {
		name    string
		args    []string
		nginx   bool
		ready   ready
		sig     syscall.Signal
		partial bool // the result file must hold the partial result
	}{
		{"closed loop", []string{"run", "-d", "30s", "--warmup", "0"}, false, childUp(time.Second), syscall.SIGINT, true},
		{"closed loop, SIGTERM", []string{"run", "-d", "30s", "--warmup", "0"}, false, childUp(time.Second), syscall.SIGTERM, true},
		{"open loop", []string{"run", "-d", "30s", "--warmup", "0", "-r", "200"}, false, childUp(time.Second), syscall.SIGINT, true},
		// Connections held open, and some still being made.
		{"5000 held connections", []string{"run", "-d", "60s", "--warmup", "0", "-c", "5000", "--hold", "60s", "--tls", "1.3", "--resume", "none"}, false, childUp(2 * time.Second), syscall.SIGINT, false},
		// Setting up: fifty RSA-4096 identities take a minute.
		{"PKI generation of a run", []string{"run", "-d", "30s", "--warmup", "0", "--key-type", "rsa4096", "--identities", "50"}, false, after(700 * time.Millisecond), syscall.SIGINT, false},
		{"capacity search", []string{"capacity", "-f", "capacity", "--key-type", "ecdsa-p256"}, false, childUp(2 * time.Second), syscall.SIGINT, false},
		{"managed nginx", []string{"run", "-d", "30s", "--warmup", "0", "--target", "nginx"}, true, childUp(time.Second), syscall.SIGINT, true},
		{"managed nginx starting", []string{"run", "-d", "30s", "--warmup", "0", "--target", "nginx"}, true, childUp(0), syscall.SIGTERM, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.nginx {
				nginxInstalled(t)
			}
			tmp := t.TempDir()
			out := filepath.Join(t.TempDir(), "r.json")
			p := start(t, tmp, append(append([]string{}, tc.args...), "-q", "-o", out)...)
			tc.ready(p)
			pids := p.tree()
			sent := p.signal(tc.sig)
			if code := p.exitCode(sent, stopWithin); code != exitInterrupted {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr)
			}
			allDead(t, pids, stopWithin)
			empty(t, tmp)
			if tc.partial {
				data, err := os.ReadFile(out)
				if err != nil || !strings.Contains(string(data), `"interrupted": true`) {
					t.Errorf("no partial result marked interrupted in %s: %v", out, err)
				}
			}
		})
	}
}

// frozenStopWithin bounds the stop of a run whose target is frozen: after
// an interrupt the engine cuts connections in flight at once, so it is the
// same 2 s as any other stop.
const frozenStopWithin = stopWithin

// A frozen target (SIGSTOP: it accepts nothing and answers nothing) does
// not hold an interrupted run: the observer stops waiting for its record
// and Close continues it so it can act on its stop signal.
func TestSignalWithFrozenTarget(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		nginx bool
	}{
		{"builtin", nil, false},
		{"nginx", []string{"--target", "nginx"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.nginx {
				nginxInstalled(t)
			}
			tmp := t.TempDir()
			out := filepath.Join(t.TempDir(), "r.json")
			p := start(t, tmp, append([]string{"run", "-q", "-d", "30s", "--warmup", "0", "-o", out}, tc.args...)...)
			p.await("target process", 30*time.Second, func() bool { return len(p.tree()) > 1 })
			time.Sleep(time.Second)
			pids := p.tree()
			target := pids[1] // the target is the generator's only child
			if err := syscall.Kill(-target, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = syscall.Kill(-target, syscall.SIGKILL) })
			time.Sleep(300 * time.Millisecond)
			sent := p.signal(syscall.SIGINT)
			if code := p.exitCode(sent, frozenStopWithin); code != exitInterrupted {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr)
			}
			allDead(t, pids, stopWithin)
			empty(t, tmp)
		})
	}
}

// A second interrupt exits at once, without the graceful stop, but still
// kills the managed server's processes (nginx's workers too) and removes
// its temporary directory, which holds the server's key.
func TestSecondInterruptLeavesNothing(t *testing.T) {
	nginxInstalled(t)
	for attempt := 1; ; attempt++ {
		tmp := t.TempDir()
		p := start(t, tmp, "run", "-q", "-d", "30s", "--warmup", "0", "--target", "nginx", "-o", filepath.Join(t.TempDir(), "r.json"))
		p.await("nginx and its directory", 30*time.Second, func() bool { return len(p.tree()) > 2 && len(tempDirs(tmp)) > 0 })
		time.Sleep(500 * time.Millisecond)
		pids := p.tree()
		// The graceful stop of an nginx target takes about 200 ms: the
		// second signal lands in it.
		sent := p.signal(syscall.SIGINT)
		time.Sleep(20 * time.Millisecond)
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		if code := p.exitCode(sent, stopWithin); code != exitInterrupted {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr)
		}
		if !strings.Contains(p.stderr.String(), "second interrupt") {
			if attempt < 3 {
				t.Logf("attempt %d: the graceful stop ended before the second signal; again", attempt)
				continue
			}
			t.Fatalf("the second signal never landed in the graceful stop; stderr:\n%s", p.stderr)
		}
		allDead(t, pids, stopWithin)
		empty(t, tmp)
		return
	}
}

// A SIGKILL runs no cleanup: the managed server gets its stop signal from
// the kernel (Pdeathsig) and stops its workers, and the next start of
// mtlsbench, whatever the command, sweeps the directory left behind.
func TestKill9ThenSweep(t *testing.T) {
	nginxInstalled(t)
	tmp := t.TempDir()
	p := start(t, tmp, "run", "-q", "-d", "30s", "--warmup", "0", "--target", "nginx", "-o", filepath.Join(t.TempDir(), "r.json"))
	p.await("nginx and its directory", 30*time.Second, func() bool { return len(p.tree()) > 2 && len(tempDirs(tmp)) > 0 })
	pids := p.tree()
	left := tempDirs(tmp)
	_ = p.cmd.Process.Kill()
	<-p.exited
	allDead(t, pids, stopWithin)
	if got := tempDirs(tmp); len(got) != 1 || got[0] != left[0] {
		t.Fatalf("after SIGKILL TMPDIR holds %v, want %v (nothing could remove it)", got, left)
	}
	// Something that is not ours, and a live owner's directory, stay.
	mine := filepath.Join(tmp, "mtlsbench-not-marked")
	if err := os.Mkdir(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	next := exec.Command(binary(t), "version")
	next.Env = append(os.Environ(), "TMPDIR="+tmp)
	out, err := next.CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v %s", err, out)
	}
	if !strings.Contains(string(out), "removed "+left[0]) {
		t.Errorf("the next start did not say it removed %s:\n%s", left[0], out)
	}
	if _, err := os.Lstat(left[0]); !os.IsNotExist(err) {
		t.Fatalf("%s still there after the next start: %v", left[0], err)
	}
	if _, err := os.Lstat(mine); err != nil {
		t.Fatalf("the sweep removed a directory without an owner marker: %v", err)
	}
}

// pki gen stops within 2 s, generating or writing, and leaves no
// directory it created: what it wrote is removed (or, when there is too
// much to remove in time, left under a name saying it is partial).
func TestPKIGenInterrupt(t *testing.T) {
	t.Run("generating", func(t *testing.T) {
		tmp := t.TempDir()
		dir := filepath.Join(t.TempDir(), "pki")
		p := start(t, tmp, "pki", "gen", "--out", dir, "--clients", "100000")
		time.Sleep(time.Second)
		sent := p.signal(syscall.SIGINT)
		if code := p.exitCode(sent, stopWithin); code != exitInterrupted {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr)
		}
		if _, err := os.Lstat(dir); !os.IsNotExist(err) {
			t.Errorf("%s exists after an interrupt while generating: %v", dir, err)
		}
		if !strings.Contains(p.stderr.String(), "generation stopped after") {
			t.Errorf("stderr does not say generation stopped:\n%s", p.stderr)
		}
	})
	// Interrupted while writing: wait until the directory has files.
	writing := func(t *testing.T, dir string, args ...string) *proc {
		p := start(t, t.TempDir(), append([]string{"pki", "gen", "--out", dir, "--clients", "4000"}, args...)...)
		p.await("files being written", 2*time.Minute, func() bool {
			entries, _ := os.ReadDir(dir)
			return len(entries) > 20
		})
		return p
	}
	t.Run("writing a directory it created", func(t *testing.T) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "new", "pki")
		p := writing(t, dir)
		sent := p.signal(syscall.SIGINT)
		if code := p.exitCode(sent, stopWithin); code != exitInterrupted {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr)
		}
		entries, _ := os.ReadDir(parent)
		switch {
		case len(entries) == 0:
			if !strings.Contains(p.stderr.String(), "removed it") {
				t.Errorf("stderr does not say it removed the directory:\n%s", p.stderr)
			}
		case len(entries) == 1 && strings.HasPrefix(entries[0].Name(), "new.partial-"):
			if !strings.Contains(p.stderr.String(), entries[0].Name()) {
				t.Errorf("a partial directory %s is left and stderr does not name it:\n%s", entries[0].Name(), p.stderr)
			}
		default:
			t.Errorf("left in %s: %v; want nothing, or one new.partial-*", parent, entries)
		}
	})
	t.Run("writing a directory that existed", func(t *testing.T) {
		dir := t.TempDir()
		p := writing(t, dir)
		sent := p.signal(syscall.SIGINT)
		if code := p.exitCode(sent, stopWithin); code != exitInterrupted {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr)
		}
		if !strings.Contains(p.stderr.String(), "part of the PKI written so far") || !strings.Contains(p.stderr.String(), "--force") {
			t.Errorf("stderr does not say the directory holds a partial PKI and how to redo it:\n%s", p.stderr)
		}
	})
}

// serve's generated PKI lives in a temporary directory that carries its
// owner (so a sweep can remove it after a SIGKILL) and is removed when
// serve stops; an interrupt while serve generates a slow key stops it at
// once.
func TestServeTemporaryPKI(t *testing.T) {
	tmp := t.TempDir()
	p := start(t, tmp, "serve", "--listen", "127.0.0.1:0")
	p.await("the banner", 30*time.Second, func() bool { return strings.Contains(p.stdout.String(), "Press Ctrl-C") })
	dirs := tempDirs(tmp)
	if len(dirs) != 1 || !strings.HasPrefix(filepath.Base(dirs[0]), "mtlsbench-serve-pki-") {
		t.Fatalf("serve's PKI directories in TMPDIR: %v, want one mtlsbench-serve-pki-*", dirs)
	}
	if _, err := os.Stat(filepath.Join(dirs[0], tempdir.MarkerFile)); err != nil {
		t.Errorf("no owner marker: %v", err)
	}
	sent := p.signal(syscall.SIGTERM)
	// Stopping serve with a signal is how it is meant to end: exit 0.
	if code := p.exitCode(sent, stopWithin); code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, p.stderr)
	}
	empty(t, tmp)

	p = start(t, tmp, "serve", "--listen", "127.0.0.1:0", "--key-type", "rsa4096")
	time.Sleep(300 * time.Millisecond)
	sent = p.signal(syscall.SIGINT)
	if code := p.exitCode(sent, 500*time.Millisecond); code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.stderr)
	}
	empty(t, tmp)
}
