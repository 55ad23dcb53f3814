// Package managed runs real TLS servers — nginx, HAProxy, openssl
// s_server and a TLS server script on Node.js (node) — as targets. For
// each start it writes the server's configuration for the case into a new
// temporary directory, starts the server from PATH on a free loopback
// port, pinned to the case's CPUs from its first instruction, waits until
// it answers a TLS handshake with the case's certificate, and on Close
// stops its whole process group and removes the directory. A server's Counts come from its own record (logs
// with a time on every line, or s_server's statistics page), an
// independent check on the load generator's.
//
// The lifecycle every server shares is managed.go (start, readiness, stop,
// error output), config.go (defaults, PEM files, OpenSSL's names for TLS
// parameters), probe.go (the harness's own connections), log.go and
// window.go (reading logs as they grow, counting over a time window) and
// binary.go with capability.go (finding and identifying the executable,
// what its TLS library offers). What differs between servers is a program,
// one file set each: nginx.go, haproxy.go with haproxy_log.go, openssl.go,
// node.go with the script it embeds (node/server.js), listed in programs
// (program.go).
//
// Importing the package registers every server's kind, so that
// targets.Start and targets.Capabilities know them.
//
// # Adding a server
//
// A fourth server, say Envoy, is a file set of its own: envoy.go (and a
// log parser beside it if it needs one) with a value implementing program
// — its executable and Debian package, the arguments that print its
// version and how to read them, its capability tweaks, and configure,
// which writes its configuration and returns how to run it and a recorder
// for its record (a logRecorder when every record has a time, which makes
// it a targets.WindowCounter) — and one line in programs. Its kind is best
// a Kind constant in targets, with the import that links it in linkedBy
// there; targets' tests check that every Kind constant is registered.
package managed

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/cleanup"
	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/internal/tempdir"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Server is a running managed server — nginx, HAProxy or openssl
// s_server — configured for one case, listening on a loopback port and
// stopped by PID. Its Counts come from the server's own record (log or
// statistics), so they are an independent check on the load generator's.
type Server struct {
	kind       targets.Kind
	cfg        targets.Config // with defaults applied
	bin        binary
	addr       string
	serverName string
	dir        string
	tmp        *tempdir.Dir // dir, removed by Close
	plan       runPlan      // its record is plan.record
	cmd        *exec.Cmd
	pid        int
	// unregisterKill takes the kill of the server's process group off the
	// cleanup list once stop has seen the group gone.
	unregisterKill func()

	exited  chan struct{} // closed once the server process has been reaped
	waitErr error         // the server's exit status; read after exited is closed

	mu      sync.Mutex // guards plan.record's counting state and closed
	closed  bool
	once    sync.Once
	closeMu sync.Mutex // guards finalLog
	// finalLog is the tail of the server's error output, kept when Close
	// removes the directory it was in.
	finalLog []string
	closeErr error
}

var _ Target = (*Server)(nil)

// Target is a running managed server, as Start returns it: a
// *LoggedServer for a server whose log has a time on every record (nginx,
// HAProxy), which implements targets.WindowCounter too, and a *Server for
// one whose record has no times (openssl s_server's statistics page).
type Target interface {
	targets.Target
	// Kind is the kind of server.
	Kind() targets.Kind
	// Config is the configuration it was started with, defaults applied.
	Config() targets.Config
	// Version names the server and its TLS library.
	Version() string
	// ErrorLog returns the last n lines of its error output, also after
	// Close.
	ErrorLog(n int) []string
}

// runPlan is how to run one configured server.
type runPlan struct {
	args []string
	// stop is the signal asking the server to exit at once.
	stop syscall.Signal
	// logs are the files of the server's error output; their last lines,
	// taken in this order, explain a failure.
	logs []string
	// quote, when set, picks the lines worth quoting (nginx's error log at
	// level info has a line for every connection).
	quote func(line string) bool
	// probeCert, when set, is presented by the ready probe, which must then
	// complete a handshake (the server trusts its issuer, see openssl.go).
	probeCert *tls.Certificate
	// onProbe is called after each successful ready probe.
	onProbe func()
	// release, when set, frees what configure set up besides files (the
	// receiver of HAProxy's log); it is called once, after the server has
	// stopped.
	release func()
	// reload, when set, is how the server rotates its certificate while
	// it serves (see Rotate); nil: it cannot.
	reload *reloader
	// holdStdin gives the server a standard input that stays open and
	// silent until it exits (a pipe whose write end the harness holds):
	// s_server outside -www quits at end of input.
	holdStdin bool
	// record reads the server's own record for Counts (and, when it is a
	// logRecorder, CountsBetween).
	record recorder
}

// releasePlan calls the plan's release, if any.
func (p *runPlan) releasePlan() {
	if p.release != nil {
		p.release()
		p.release = nil
	}
}

const (
	// readyTimeout bounds the wait for a started server to accept a
	// TLS handshake (the context may end it sooner).
	readyTimeout = 15 * time.Second
	// stopTimeout is how long a server gets to exit after its stop
	// signal before its whole process group is killed.
	stopTimeout = 5 * time.Second
	// portAttempts is how often a server is restarted on another free
	// port when the one picked was taken in between.
	portAttempts = 3
	// logLines is how many lines of a server's error output an error
	// quotes.
	logLines = 12
)

// Start writes the configuration of a kind of server for cfg into a
// new temporary directory, starts the server from PATH (pinned to cfg.CPUs
// from its first instruction, so every worker it forks inherits the set) on
// a free loopback port, and returns once it has answered a TLS handshake
// with the case's certificate. ctx bounds the start only: the server runs
// until Close.
//
// A server that is not installed gives a *targets.MissingBinaryError
// naming the Debian package; a case the server cannot run exactly (e.g. an
// ML-KEM group with OpenSSL 3.0) a *targets.UnsupportedError; a server that
// does not start a *ServerError quoting its error output. A kind that is
// not a managed server is an error too.
//
// nginx and HAProxy come back as a *LoggedServer, which is a
// targets.WindowCounter; openssl s_server as a *Server. targets.Start with
// Config.Kind set to one of them does the same.
func Start(ctx context.Context, kind targets.Kind, cfg targets.Config) (Target, error) {
	p, err := programFor(kind)
	if err != nil {
		return nil, err
	}
	return startTarget(ctx, p, cfg)
}

// startTarget starts p and returns it as the Target its record makes it.
func startTarget(ctx context.Context, p program, cfg targets.Config) (Target, error) {
	m, err := startServer(ctx, p, cfg)
	if err != nil {
		return nil, err // not a typed nil in a non-nil interface
	}
	if _, ok := m.plan.record.(logRecorder); ok {
		return &LoggedServer{m}, nil
	}
	return m, nil
}

// startServer starts p, retrying on another free port if the one it
// picked was taken before the server could bind it.
func startServer(ctx context.Context, p program, cfg targets.Config) (*Server, error) {
	kind := p.kind()
	capability, err := capabilities(p)
	if err != nil {
		return nil, err
	}
	if capability.MaxWorkers > 0 && cfg.Workers == 0 {
		cfg.Workers = capability.MaxWorkers // cfg is our copy
	}
	c, err := withDefaults(kind, cfg)
	if err != nil {
		return nil, err
	}
	if err := capability.Check(c, 0); err != nil {
		return nil, err
	}
	for _, id := range c.Groups {
		g, ok := tlsparams.GroupByID(id)
		if !ok {
			return nil, fmt.Errorf("managed: %s: unknown group %s (accepted: %s)", kind, id, tlsparams.GroupNames())
		}
		if err := capability.TLS.CanUse(g); err != nil {
			return nil, err
		}
	}
	bin, err := lookup(p)
	if err != nil {
		return nil, err
	}
	host, port, _ := splitListen(c.Listen)
	for attempt := 1; ; attempt++ {
		free := port
		if free == 0 {
			if free, err = freePort(host); err != nil {
				return nil, fmt.Errorf("managed: %s: find a free port on %s: %w", kind, host, err)
			}
		}
		m, err := startOn(ctx, p, c, bin, net.JoinHostPort(host, strconv.Itoa(free)))
		if err == nil {
			return m, nil
		}
		var se *ServerError
		if port == 0 && attempt < portAttempts && errors.As(err, &se) && se.portInUse() {
			continue // another process took the port between our probe and the server's bind
		}
		return nil, err
	}
}

// freePort asks the kernel for a free port on host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startOn starts p on addr: a new directory, p's configuration written
// into it, the server process, and the wait until it is ready.
func startOn(ctx context.Context, p program, cfg targets.Config, bin binary, addr string) (*Server, error) {
	kind := p.kind()
	// Removed on every path: Close, a failed start, and, when the harness
	// exits without either, cleanup.Run or the next start's sweep.
	tmp, err := tempdir.New(string(kind))
	if err != nil {
		return nil, fmt.Errorf("managed: %s: %w", kind, err)
	}
	dir := tmp.Path()
	// Workers that drop root privileges (nginx runs them as nobody) must be
	// able to reach the temporary paths the server creates in here; the
	// key file itself stays 0600.
	if err := os.Chmod(dir, 0o711); err != nil {
		tmp.Remove()
		return nil, fmt.Errorf("managed: %s: %w", kind, err)
	}
	m := &Server{
		kind:       kind,
		cfg:        cfg,
		bin:        bin,
		addr:       addr,
		serverName: serverNameOf(cfg),
		dir:        dir,
		tmp:        tmp,
		exited:     make(chan struct{}),
	}
	m.plan, err = p.configure(dir, cfg, addr, bin)
	if err != nil {
		tmp.Remove()
		return nil, err
	}
	if err := m.startProcess(); err != nil {
		m.plan.releasePlan()
		tmp.Remove()
		return nil, err
	}
	if err := m.awaitReady(ctx); err != nil {
		m.stop()
		m.plan.releasePlan()
		lines := m.lastLines(logLines)
		tmp.Remove()
		return nil, &ServerError{Kind: kind, Op: "start", Err: err, Log: lines}
	}
	return m, nil
}

func (m *Server) startProcess() error {
	stdout, err := os.OpenFile(filepath.Join(m.dir, "stdout.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("managed: %s: %w", m.kind, err)
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(m.dir, "stderr.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("managed: %s: %w", m.kind, err)
	}
	defer stderr.Close()
	cmd := exec.Command(m.bin.path, m.plan.args...)
	cmd.Dir = m.dir
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	var stdinW *os.File
	if m.plan.holdStdin {
		r, w, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("managed: %s: %w", m.kind, err)
		}
		defer r.Close() // the child has its own copy once started
		cmd.Stdin, stdinW = r, w
	}
	// Its own process group, and its stop signal at the harness's death
	// where the system can (procattr_linux.go).
	cmd.SysProcAttr = serverProcAttr(m.plan.stop)
	var set *cpuset.Set
	if m.cfg.CPUs != "" {
		s, err := cpuset.Parse(m.cfg.CPUs)
		if err != nil {
			return fmt.Errorf("managed: %s: %w", m.kind, err)
		}
		set = &s
	}
	if err := cpuset.StartPinned(cmd, set); err != nil {
		if stdinW != nil {
			stdinW.Close()
		}
		return fmt.Errorf("managed: %s: start %s: %w", m.kind, m.bin.path, err)
	}
	m.cmd = cmd
	m.pid = cmd.Process.Pid
	// A path that skips Close (a second interrupt, a panic) still kills
	// the whole group, workers included.
	pgid := m.pid
	m.unregisterKill = cleanup.Register(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	go func() {
		m.waitErr = cmd.Wait()
		if stdinW != nil {
			stdinW.Close()
		}
		close(m.exited)
	}()
	return nil
}

// awaitReady polls with TLS handshakes until the server presents the case's
// certificate, the server exits, or the deadline passes.
func (m *Server) awaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	// A probe in flight ends as soon as the server exits: when the port
	// turned out to be taken, the probe may be talking to its owner.
	go func() {
		select {
		case <-m.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	exited := func() error {
		return fmt.Errorf("%s exited before accepting a handshake: %v", filepath.Base(m.bin.path), m.exitStatus())
	}
	const interval = 25 * time.Millisecond
	// A server that answers with an alert is up but cannot negotiate with
	// the case's own parameters; after a few in a row there is no point in
	// waiting for the deadline.
	const maxRefusals = 3
	timer := time.NewTimer(interval)
	defer timer.Stop()
	var lastErr error
	refusals := 0
	for {
		err := probe(ctx, m.addr, m.cfg, m.plan.probeCert)
		if err == nil {
			if m.plan.onProbe != nil {
				m.plan.onProbe()
			}
			return nil
		}
		select {
		case <-m.exited:
			return exited()
		default:
		}
		if errors.Is(err, errWrongServer) {
			return err
		}
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "remote error" {
			if refusals++; refusals >= maxRefusals {
				return fmt.Errorf("the server refuses the harness's handshake on %s: %w", m.addr, err)
			}
		} else {
			refusals = 0
		}
		if ctx.Err() == nil {
			lastErr = err
		}
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			select {
			case <-m.exited:
				return exited()
			default:
			}
			if lastErr == nil {
				return fmt.Errorf("not ready on %s: %w", m.addr, ctx.Err())
			}
			return fmt.Errorf("not ready on %s: %w (last attempt: %v)", m.addr, ctx.Err(), lastErr)
		case <-m.exited:
			return exited()
		case <-timer.C:
		}
	}
}

func (m *Server) exitStatus() error {
	if m.waitErr == nil {
		return errors.New("exit status 0")
	}
	return m.waitErr
}

// stop signals the server, waits for it, and kills its process group when
// it does not exit in time or leaves workers behind.
func (m *Server) stop() {
	if m.cmd == nil {
		return
	}
	select {
	case <-m.exited:
	default:
		_ = syscall.Kill(m.pid, m.plan.stop)
		// A stopped (frozen) server acts on its stop signal only once it
		// continues.
		_ = syscall.Kill(-m.pid, syscall.SIGCONT)
		timer := time.NewTimer(stopTimeout)
		select {
		case <-m.exited:
			timer.Stop()
		case <-timer.C:
			_ = syscall.Kill(-m.pid, syscall.SIGKILL)
			<-m.exited
		}
	}
	// The group is gone once its last member is; workers of a master that
	// was killed would still be in it.
	deadline := time.Now().Add(stopTimeout)
	for syscall.Kill(-m.pid, 0) == nil && time.Now().Before(deadline) {
		_ = syscall.Kill(-m.pid, syscall.SIGKILL)
		time.Sleep(10 * time.Millisecond)
	}
	if syscall.Kill(-m.pid, 0) != nil {
		// Gone: its group ID may now be reused by anyone.
		m.unregisterKill()
	}
}

// Addr is the host:port the server listens on.
func (m *Server) Addr() string { return m.addr }

// ServerName is the name to send in SNI and verify the server's certificate
// against: "localhost" when the certificate has it, else its first DNS name
// or IP address.
func (m *Server) ServerName() string { return m.serverName }

func serverNameOf(cfg targets.Config) string {
	leaf := cfg.Identity.Chain[0]
	for _, n := range leaf.DNSNames {
		if n == "localhost" {
			return n
		}
	}
	if len(leaf.DNSNames) > 0 {
		return leaf.DNSNames[0]
	}
	if len(leaf.IPAddresses) > 0 {
		return leaf.IPAddresses[0].String()
	}
	return leaf.Subject.CommonName
}

// Kind is the kind of server.
func (m *Server) Kind() targets.Kind { return m.kind }

// Config is the configuration the server was started with, defaults
// applied (Workers resolved).
func (m *Server) Config() targets.Config { return m.cfg }

// Version names the server and the TLS library it runs with, e.g.
// "nginx/1.22.1 (OpenSSL 3.0.19)".
func (m *Server) Version() string { return m.bin.version + " (" + m.bin.library + ")" }

// PIDs returns the server's main process (nginx master, haproxy,
// s_server). Its descendants (nginx workers) are the rest of its CPU:
// procstat.TreeCPU sums them.
func (m *Server) PIDs() []int { return []int{m.pid} }

// Counts returns what the server itself recorded since it started, without
// the harness's ready and statistics probes. Take the difference of two
// snapshots for a window.
//
// Log-based servers (nginx, HAProxy) write a line when a connection ends,
// so Counts first waits until the log has been quiet for 150 ms, but never
// more than 250 ms: a snapshot taken after the load is complete, and one
// taken while load runs returns promptly with the log as it stands (missing
// the connections in flight and those not logged yet). Under load, use
// LoggedServer.CountsBetween instead. s_server's Counts fetches its
// statistics page over a connection that queues behind the load's (s_server
// serves one connection at a time).
func (m *Server) Counts(ctx context.Context) (targets.Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return targets.Counts{}, fmt.Errorf("managed: %s: counts: %w", m.kind, errClosed)
	}
	return m.plan.record.counts(ctx, m)
}

var errClosed = errors.New("the server has been closed")

// ErrorLog returns the last n lines of the server's error output (nginx's
// error log, HAProxy's and s_server's stderr), for a result's error
// examples. It works after Close too.
func (m *Server) ErrorLog(n int) []string {
	m.closeMu.Lock()
	final := m.finalLog
	m.closeMu.Unlock()
	if final != nil {
		if len(final) > n {
			final = final[len(final)-n:]
		}
		return append([]string(nil), final...)
	}
	return m.lastLines(n)
}

// Close stops the server by its PID (the stop signal, then SIGKILL for the
// whole process group after a timeout), waits until every process of it is
// gone and removes its directory. If the server had exited on its own
// before Close, the error says so and quotes its error output.
func (m *Server) Close() error {
	m.once.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		var early error
		select {
		case <-m.exited:
			early = fmt.Errorf("exited unexpectedly: %v", m.exitStatus())
		default:
		}
		m.stop()
		m.plan.releasePlan()
		final := m.lastLines(logLines * 4)
		if final == nil {
			final = []string{}
		}
		m.closeMu.Lock()
		m.finalLog = final
		m.closeMu.Unlock()
		if early != nil {
			m.closeErr = &ServerError{Kind: m.kind, Op: "run", Err: early, Log: m.ErrorLog(logLines)}
		}
		if err := m.tmp.Remove(); err != nil && m.closeErr == nil {
			m.closeErr = fmt.Errorf("managed: %s: remove %s: %w", m.kind, m.dir, err)
		}
	})
	return m.closeErr
}

// lastLines reads the last n lines of the server's error output files.
func (m *Server) lastLines(n int) []string {
	var out []string
	for _, p := range m.plan.logs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && (m.plan.quote == nil || m.plan.quote(line)) {
				out = append(out, line)
			}
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// ServerError reports a managed server that failed to start or died,
// quoting the last lines of its error output.
type ServerError struct {
	Kind targets.Kind
	Op   string // "start" or "run"
	Err  error
	Log  []string
}

func (e *ServerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "managed: %s: %s: %v", e.Kind, e.Op, e.Err)
	if len(e.Log) > 0 {
		b.WriteString("; its log says:")
		for _, l := range e.Log {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return b.String()
}

func (e *ServerError) Unwrap() error { return e.Err }

func (e *ServerError) portInUse() bool {
	for _, l := range e.Log {
		if strings.Contains(strings.ToLower(l), "address already in use") {
			return true
		}
	}
	return false
}
