package builtin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mtlsbench/mtlsbench/internal/cleanup"
	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// Process is the built-in target running in a child process, so that its
// CPU time is its own and not the generator's. This is how a run uses the
// built-in target by default. The child talks the protocol described in
// child.go; see RunChild for its side.
//
// The child cannot outlive the parent: it exits when its stdin closes, which
// happens when Close closes it or when the parent dies, and the kernel
// kills it if the parent dies (Pdeathsig) in case it is too busy to notice.
// It runs in its own process group, so a terminal's Ctrl-C reaches only the
// parent, which then stops the child; a path that skips Close (a second
// interrupt) kills the group through cleanup.Run.
type Process struct {
	cmd    *exec.Cmd
	pid    int
	addr   string
	stdin  *os.File    // write end of the child's stdin; closing it stops the child
	stdout *os.File    // read end of the child's stdout
	stderr *stderrTail // the last stderrTailSize bytes the child wrote

	lines    chan []byte   // lines from the child's stdout; closed at EOF
	stopRead chan struct{} // closed by Close: the line reader stops delivering
	readDone chan struct{} // closed when the line reader returns
	exited   chan struct{} // closed once the child has been reaped
	waitErr  error         // the child's exit status; set before exited closes

	mu      sync.Mutex // serialises Counts; guards pending
	pending int        // responses still owed to Counts calls abandoned by their ctx
	closed  atomic.Bool

	closeOnce sync.Once
	closeErr  error
	// unregisterKill takes the kill of the child's process group off the
	// cleanup list once the child has been reaped.
	unregisterKill func()
}

var _ targets.Target = (*Process)(nil)

// Tunables, variables so tests can shorten them.
var (
	// childExitGrace is how long Close waits after closing the child's
	// stdin before it kills the child.
	childExitGrace = 5 * time.Second
	// childStartTimeout bounds StartProcess when ctx has no deadline.
	childStartTimeout = 30 * time.Second
)

// stderrTailSize is how much of the child's stderr is kept for errors.
const stderrTailSize = 4 << 10

// StartProcess starts the built-in target in a child process and returns
// once it is listening. Config.ChildCommand is the argv that runs
// RunChild, normally mtlsbench's own child mode: {os.Executable(), "serve",
// "--child"}.
// Config.CPUs pins the child (and so its GOMAXPROCS); Config.Workers > 0
// sets its GOMAXPROCS explicitly. A config the built-in target refuses
// gives a *ConfigError, and no child is started.
//
// ctx bounds the start only (30s if it has no deadline); once StartProcess
// returns, the child runs until Close.
func StartProcess(ctx context.Context, cfg targets.Config) (*Process, error) {
	c, err := withDefaults(cfg) // refuse bad configs here, with no child to clean up
	if err != nil {
		return nil, err
	}
	command := c.ChildCommand
	if len(command) == 0 || command[0] == "" {
		return nil, errors.New("builtin: no command to start the child (want e.g. mtlsbench serve --child)")
	}
	var set *cpuset.Set
	if c.CPUs != "" {
		s, err := cpuset.Parse(c.CPUs)
		if err != nil {
			return nil, &ConfigError{Reason: err.Error()}
		}
		set = &s
	}
	configLine, err := encodeChildConfig(c)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, childStartTimeout)
		defer cancel()
	}

	// Pipes from os.Pipe are close-on-exec: no other child inherits the
	// write end of this child's stdin, so only our death or Close closes it.
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("builtin: child stdin pipe: %w", err)
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return nil, fmt.Errorf("builtin: child stdout pipe: %w", err)
	}
	p := &Process{
		stdin:    stdinW,
		stdout:   stdoutR,
		stderr:   &stderrTail{},
		lines:    make(chan []byte, 1),
		stopRead: make(chan struct{}),
		readDone: make(chan struct{}),
		exited:   make(chan struct{}),
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin = stdinR
	cmd.Stdout = stdoutW
	cmd.Stderr = p.stderr
	// Its own process group, and SIGKILL at the parent's death where the
	// system can (procattr_linux.go); elsewhere the child ends when its
	// stdin closes, which the parent's death does too.
	cmd.SysProcAttr = childProcAttr()
	cmd.WaitDelay = time.Second // if something the child forked keeps stderr open
	p.cmd = cmd
	err = cpuset.StartPinned(cmd, set)
	stdinR.Close()
	stdoutW.Close()
	if err != nil {
		stdinW.Close()
		stdoutR.Close()
		return nil, fmt.Errorf("builtin: start child %s: %w", command[0], err)
	}
	p.pid = cmd.Process.Pid
	pgid := p.pid
	p.unregisterKill = cleanup.Register(func() { _ = unix.Kill(-pgid, unix.SIGKILL) })
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	go p.readLines()

	// The config goes on its own goroutine: a child that never reads its
	// stdin must not block us past ctx.
	go p.stdin.Write(configLine)

	select {
	case line, ok := <-p.lines:
		if !ok {
			err := p.startFailed(errors.New("exited before reporting ready"))
			p.Close()
			return nil, err
		}
		var ready childReady
		if jerr := json.Unmarshal(line, &ready); jerr != nil {
			err := p.startFailed(fmt.Errorf("sent a malformed ready line (%v); is %q mtlsbench's child mode?", jerr, command[0]))
			p.Close()
			return nil, err
		}
		if ready.Error != "" {
			p.Close()
			return nil, p.withStderr(fmt.Errorf("builtin: child %d: %s", p.pid, ready.Error))
		}
		if _, _, serr := net.SplitHostPort(ready.Addr); serr != nil {
			err := p.startFailed(fmt.Errorf("reported a bad address %q", ready.Addr))
			p.Close()
			return nil, err
		}
		p.addr = ready.Addr
		return p, nil
	case <-ctx.Done():
		p.kill()
		p.Close()
		return nil, p.withStderr(fmt.Errorf("builtin: child %d did not report ready: %w", p.pid, context.Cause(ctx)))
	}
}

// startFailed describes a child that failed to start, with its exit status
// if it has exited and the tail of its stderr.
func (p *Process) startFailed(what error) error {
	err := fmt.Errorf("builtin: child %d %w", p.pid, what)
	select {
	case <-p.exited:
		if p.waitErr != nil {
			err = fmt.Errorf("%w (%v)", err, p.waitErr)
		}
	case <-time.After(time.Second):
	}
	return p.withStderr(err)
}

// withStderr appends the tail of the child's stderr to err, if any.
func (p *Process) withStderr(err error) error {
	tail := strings.TrimSpace(p.stderr.String())
	if tail == "" {
		return err
	}
	return fmt.Errorf("%w\nchild stderr (last lines):\n%s", err, tail)
}

// readLines delivers the child's stdout lines until EOF or Close.
func (p *Process) readLines() {
	defer close(p.readDone)
	defer close(p.lines)
	r := bufio.NewReader(p.stdout)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && err == nil {
			select {
			case p.lines <- line:
			case <-p.stopRead:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Addr is the address the child listens on.
func (p *Process) Addr() string { return p.addr }

// ServerName is the name the server's certificate is valid for.
func (p *Process) ServerName() string { return "localhost" }

// PIDs returns the child's PID: its CPU time is the target's.
func (p *Process) PIDs() []int { return []int{p.pid} }

// Counts asks the child for its counts. If ctx ends first, the answer
// still on its way is discarded by the next call.
func (p *Process) Counts(ctx context.Context) (targets.Counts, error) {
	resp, err := p.request(ctx, []byte(childCountsRequest+"\n"), "counts")
	return resp.Counts, err
}

// Rotate has the child serve id from now on (Server.Rotate, through the
// child protocol) and returns once the child has swapped it in.
func (p *Process) Rotate(ctx context.Context, id pki.Identity) error {
	line, err := encodeRotate(id)
	if err != nil {
		return err
	}
	_, err = p.request(ctx, line, "rotate")
	return err
}

var _ targets.Rotator = (*Process)(nil)

// request sends one request line to the child and reads its answer, one
// at a time. If ctx ends first, the answer still on its way is discarded
// by the next call.
func (p *Process) request(ctx context.Context, line []byte, what string) (childCounts, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return childCounts{}, errors.New("builtin: the child target is closed")
	}
	if ctx.Err() != nil {
		return childCounts{}, fmt.Errorf("builtin: child %s: %w", what, context.Cause(ctx))
	}
	for p.pending > 0 {
		select {
		case _, ok := <-p.lines:
			if !ok {
				return childCounts{}, p.gone()
			}
			p.pending--
		case <-ctx.Done():
			return childCounts{}, fmt.Errorf("builtin: child %s: %w", what, context.Cause(ctx))
		}
	}
	if _, err := p.stdin.Write(line); err != nil {
		return childCounts{}, p.gone()
	}
	select {
	case line, ok := <-p.lines:
		if !ok {
			return childCounts{}, p.gone()
		}
		var resp childCounts
		if err := json.Unmarshal(line, &resp); err != nil {
			return childCounts{}, fmt.Errorf("builtin: child %d sent a malformed answer to %s: %w", p.pid, what, err)
		}
		if resp.Error != "" {
			return childCounts{}, fmt.Errorf("builtin: child %d: %s", p.pid, resp.Error)
		}
		return resp, nil
	case <-ctx.Done():
		p.pending++
		return childCounts{}, fmt.Errorf("builtin: child %s: %w", what, context.Cause(ctx))
	}
}

// gone describes a child that stopped answering.
func (p *Process) gone() error {
	return p.startFailed(errors.New("has exited or closed its stdout"))
}

// Close stops the child: it closes the child's stdin (and continues it,
// should it have been stopped with SIGSTOP), waits up to 5s for it to
// exit, then kills its process group. It always reaps the child.
// The error reports a child that had to be killed or exited non-zero.
func (p *Process) Close() error {
	p.closeOnce.Do(func() { p.closeErr = p.stop() })
	return p.closeErr
}

func (p *Process) stop() error {
	p.closed.Store(true)
	// Closing the pipe needs no lock: a Counts blocked writing or reading
	// fails once the child is gone.
	p.stdin.Close()
	// A frozen (SIGSTOPped) child sees its stdin close only once it
	// continues.
	p.signalGroup(unix.SIGCONT)
	killed := false
	t := time.NewTimer(childExitGrace)
	select {
	case <-p.exited:
		t.Stop()
	case <-t.C:
		killed = true
		p.kill()
		<-p.exited
	}
	// Reaped: its PID, and so its group ID, may now be reused.
	p.unregisterKill()
	close(p.stopRead)
	p.stdout.Close() // unblocks the reader if something else holds the pipe open
	<-p.readDone
	switch {
	case killed:
		return p.withStderr(fmt.Errorf("builtin: child %d did not exit within %s of its stdin closing; killed it", p.pid, childExitGrace))
	case p.waitErr != nil:
		return p.withStderr(fmt.Errorf("builtin: child %d: %w", p.pid, p.waitErr))
	}
	return nil
}

// kill sends SIGKILL to the child's process group, unless it has already
// been reaped (its PID could then belong to someone else).
func (p *Process) kill() { p.signalGroup(unix.SIGKILL) }

// signalGroup sends sig to the child's process group, unless the child has
// already been reaped.
func (p *Process) signalGroup(sig unix.Signal) {
	select {
	case <-p.exited:
	default:
		unix.Kill(-p.pid, sig)
	}
}

// stderrTail keeps the last stderrTailSize bytes written to it.
type stderrTail struct {
	mu  sync.Mutex // guards buf
	buf []byte
}

func (t *stderrTail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - stderrTailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *stderrTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
