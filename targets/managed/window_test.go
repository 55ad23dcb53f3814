package managed

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
)

// These tests run load against nginx and HAProxy with a plain crypto/tls
// client, take a window in the middle of it, and compare what
// CountsBetween says the server accepted in the window with what the
// client saw, as the harness will.

// A server dates a connection with a clock it caches per event-loop turn,
// so its accept time may be off from the client's view of it (after the
// dial started, before the handshake ended):
//
//   - early by up to windowEarly: an HAProxy thread takes a connection
//     from the accept queue with the date of its own last poll, which on a
//     busy machine may be a descheduling earlier.
//   - late by up to windowLate: the truncation to milliseconds, and
//     in nginx's http{} the two clocks ($msec, $connection_time) of ±1 ms.
const (
	windowEarly = 25 * time.Millisecond
	windowLate  = 2 * time.Millisecond
)

// connTimes is one connection as the client saw it.
type connTimes struct {
	dialed    time.Time // before the TCP dial
	handshook time.Time // handshake done: the server had accepted by then
	resumed   bool
}

// loadConn makes one connection: handshake, in HTTP mode one GET,
// close.
func loadConn(addr string, conf *tls.Config, mode targets.Mode) (connTimes, error) {
	var out connTimes
	out.dialed = time.Now()
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return out, err
	}
	conn := tls.Client(raw, conf)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := conn.Handshake(); err != nil {
		return out, err
	}
	out.handshook = time.Now()
	out.resumed = conn.ConnectionState().DidResume
	if mode == targets.ModeHTTP {
		if err := httpGet(conn, conf.ServerName); err != nil {
			return out, err
		}
	}
	return out, nil
}

// httpGet makes one HTTP/1.1 request and wants a 200.
func httpGet(conn *tls.Conn, host string) error {
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return nil
}

// loadRun runs loaders goroutines making TLS 1.2 connections (resumed
// after each one's first) back to back until stop is closed.
type loadRun struct {
	wg    sync.WaitGroup
	stop  chan struct{}
	mu    sync.Mutex // guards conns and err
	conns []connTimes
	err   error
}

func startLoad(c *testClient, mode targets.Mode, loaders int) *loadRun {
	l := &loadRun{stop: make(chan struct{})}
	for range loaders {
		conf := c.config(tls.VersionTLS12, tls.NewLRUClientSessionCache(4), false)
		l.wg.Go(func() {
			var mine []connTimes
			defer func() {
				l.mu.Lock()
				l.conns = append(l.conns, mine...)
				l.mu.Unlock()
			}()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				ct, err := loadConn(c.target.Addr(), conf, mode)
				if err != nil {
					l.mu.Lock()
					if l.err == nil {
						l.err = err
					}
					l.mu.Unlock()
					return
				}
				mine = append(mine, ct)
			}
		})
	}
	return l
}

// finish stops the load and returns every connection made.
func (l *loadRun) finish(t *testing.T) []connTimes {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	if l.err != nil {
		t.Fatalf("load: %v", l.err)
	}
	return l.conns
}

// expected is the range of handshakes the server may have accepted in
// a window, given the client's times: those surely in it (dialled after
// from and done before to) up to those possibly in it (in flight at an
// edge), widened by the server's clock error.
func expected(conns []connTimes, from, to time.Time) (sure, possible int64) {
	for _, c := range conns {
		// The server dated c in [dialed-early, handshook+late].
		earliest, latest := c.dialed.Add(-windowEarly), c.handshook.Add(windowLate)
		if !earliest.Before(from) && latest.Before(to) {
			sure++
		}
		if !latest.Before(from) && earliest.Before(to) {
			possible++
		}
	}
	return sure, possible
}

func windowIntegration(t *testing.T, kind targets.Kind) {
	requireServer(t, kind)
	for _, mode := range []targets.Mode{targets.ModeHandshake, targets.ModeHTTP} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			windowRun(t, kind, mode)
		})
	}
}

// windowRun drives load for about 1.5 s and takes a window of about
// 0.5 s in the middle, in which it also makes:
//
//   - two TLS 1.3 connections (the load is TLS 1.2) accepted in the window
//     and still open after it ends: one that starts its handshake only then,
//     one that holds the connection (in HTTP mode, making a second request)
//     until then. Both must count in the window, by their accept time, and
//     in no later one.
//   - two failed connections, one with a client certificate from another CA
//     and one with no cipher in common with the server.
//
// It also times Counts while the load runs.
func windowRun(t *testing.T, kind targets.Kind, mode targets.Mode) {
	cfg := testConfig(t)
	cfg.Mode = mode
	m := testStart(t, kind, cfg)
	w, ok := m.(targets.WindowCounter)
	if !ok {
		t.Fatalf("%s (%T) is not a WindowCounter", kind, m)
	}
	c := newTestClient(t, m)
	start := time.Now()
	load := startLoad(c, mode, 4)
	defer func() {
		select {
		case <-load.stop:
		default:
			close(load.stop)
			load.wg.Wait()
		}
	}()

	time.Sleep(500 * time.Millisecond)
	from := time.Now()
	plannedTo := from.Add(500 * time.Millisecond)
	toTaken := make(chan struct{})
	var (
		wg         sync.WaitGroup // the connections and checks inside the window
		heldWG     sync.WaitGroup // the held connections, to their end
		mu         sync.Mutex     // guards errs and countsTook
		errs       []error
		countsTook time.Duration
	)
	report := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	held13 := func() *tls.Config { return c.config(tls.VersionTLS13, nil, false) }
	// Starts its handshake after the window.
	wg.Add(1)
	heldWG.Go(func() {
		time.Sleep(100 * time.Millisecond)
		raw, err := net.DialTimeout("tcp", m.Addr(), 10*time.Second)
		wg.Done()
		if err != nil {
			report(fmt.Errorf("late handshake: %w", err))
			return
		}
		<-toTaken
		time.Sleep(100 * time.Millisecond)
		conf := held13()
		conn := tls.Client(raw, conf)
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if err := conn.Handshake(); err != nil {
			report(fmt.Errorf("late handshake: %w", err))
			return
		}
		if mode == targets.ModeHTTP {
			if err := httpGet(conn, conf.ServerName); err != nil {
				report(fmt.Errorf("late handshake: %w", err))
			}
			return
		}
		drain(conn)
	})
	// Holds its connection past the window.
	wg.Add(1)
	heldWG.Go(func() {
		time.Sleep(150 * time.Millisecond)
		conf := held13()
		raw, err := net.DialTimeout("tcp", m.Addr(), 10*time.Second)
		if err != nil {
			wg.Done()
			report(fmt.Errorf("held connection: %w", err))
			return
		}
		conn := tls.Client(raw, conf)
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		err = conn.Handshake()
		if err == nil && mode == targets.ModeHTTP {
			err = httpGet(conn, conf.ServerName)
		}
		wg.Done()
		if err != nil {
			report(fmt.Errorf("held connection: %w", err))
			return
		}
		<-toTaken
		time.Sleep(100 * time.Millisecond)
		if mode == targets.ModeHTTP {
			if err := httpGet(conn, conf.ServerName); err != nil {
				report(fmt.Errorf("held connection, second request: %w", err))
			}
			return
		}
		drain(conn)
	})
	// Two failures.
	wg.Go(func() {
		time.Sleep(200 * time.Millisecond)
		if out := c.connect(c.config(tls.VersionTLS12, nil, true), mode, 1, false); out.err == nil && kind != targets.KindNginx && kind != targets.KindNode { // those two refuse after the handshake
			report(fmt.Errorf("%s accepted a client certificate from another CA", kind))
		}
		conf := c.config(tls.VersionTLS12, nil, false)
		conf.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256} // the server's key is ECDSA
		if out := c.connect(conf, mode, 1, false); out.err == nil {
			report(fmt.Errorf("%s completed a handshake without a common cipher", kind))
		}
	})
	// Counts while the load runs.
	wg.Go(func() {
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		t0 := time.Now()
		_, err := m.Counts(ctx)
		took := time.Since(t0)
		mu.Lock()
		countsTook = took
		mu.Unlock()
		if err != nil {
			report(fmt.Errorf("Counts under load: %w", err))
		}
	})
	time.Sleep(time.Until(plannedTo))
	wg.Wait() // on a slow machine, past plannedTo: the window holds them all
	to := time.Now()
	close(toTaken)
	heldWG.Wait()
	time.Sleep(200 * time.Millisecond) // load after the window
	conns := load.finish(t)
	end := time.Now()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	// Counts under load: a snapshot of the log as it stands, soon.
	t.Logf("%s %s: Counts took %s under load", kind, mode, countsTook)
	if countsTook > time.Second {
		t.Errorf("Counts took %s while load ran, want well under a second", countsTook)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	between := func(from, to time.Time) targets.Counts {
		t.Helper()
		got, err := w.CountsBetween(ctx, from, to)
		if err != nil {
			t.Fatalf("CountsBetween: %v", err)
		}
		return got
	}
	got := between(from, to)
	sure, possible := expected(conns, from, to)
	t.Logf("%s %s: %d connections in %s of load; in the %s window the server counted %d handshakes, the client %d surely and %d possibly (in flight at an edge)",
		kind, mode, len(conns), end.Sub(start).Round(time.Millisecond), to.Sub(from).Round(time.Millisecond), got.Handshakes-2, sure, possible)
	if load12 := got.Versions["1.2"]; load12 < sure || load12 > possible || load12 != got.Handshakes-2 {
		t.Errorf("the server counted %d TLS 1.2 handshakes (of %d) in the window; the client's load had %d surely and %d possibly in it",
			load12, got.Handshakes, sure, possible)
	}
	if got.Versions["1.3"] != 2 {
		t.Errorf("the server counted %d TLS 1.3 handshakes in the window, want the 2 connections accepted in it and closed after it", got.Versions["1.3"])
	}
	if got.Failed != 2 || got.VerifyFailures != 1 {
		t.Errorf("the server counted failed=%d verify_failures=%d in the window, want 2 and 1", got.Failed, got.VerifyFailures)
	}
	if mode == targets.ModeHTTP && got.Requests != got.Handshakes+1 {
		t.Errorf("the server counted %d requests for %d handshakes, want one each and the held connection's second", got.Requests, got.Handshakes)
	}
	if got.Resumed < sure-4 || got.Resumed > got.Handshakes-2 {
		t.Errorf("the server counted %d resumed of %d handshakes, want all but each loader's first", got.Resumed, got.Handshakes)
	}

	// nginx's error log, where http{} finds the failure without a common
	// cipher, is dated to the second: that failure counts in every window
	// overlapping its second.
	coarseFailures := kind == targets.KindNginx && mode == targets.ModeHTTP

	// After the window: the load's last connections, and not the held ones.
	after := between(to, end.Add(time.Second))
	if after.Versions["1.3"] != 0 {
		t.Errorf("after the window the server counted %d TLS 1.3 handshakes, want none", after.Versions["1.3"])
	}
	if after.Failed != 0 && !coarseFailures {
		t.Errorf("after the window the server counted %d failures, want none", after.Failed)
	}
	// Adjacent windows share the records out exactly, and the whole run
	// holds every connection the client made.
	all := between(start.Add(-time.Second), end.Add(time.Second))
	var sum targets.Counts
	for _, p := range [][2]time.Time{{start.Add(-time.Second), from}, {from, to}, {to, end.Add(time.Second)}} {
		part := between(p[0], p[1])
		sum.Handshakes += part.Handshakes
		sum.Failed += part.Failed
		sum.Requests += part.Requests
	}
	if sum.Handshakes != all.Handshakes || sum.Requests != all.Requests || (sum.Failed != all.Failed && !coarseFailures) {
		t.Errorf("three adjacent windows counted %+v, the whole run %+v", sum, all)
	}
	if want := int64(len(conns) + 2); all.Handshakes != want || all.Failed != 2 {
		t.Errorf("over the whole run the server counted %d handshakes and %d failures; the client made %d and 2", all.Handshakes, all.Failed, want)
	}
	if empty := between(start.Add(-time.Hour), start.Add(-time.Minute)); !reflect.DeepEqual(empty, targets.Counts{}) {
		t.Errorf("a window before the server started counted %+v", empty)
	}
}

// drain reads what the server sends after a TLS 1.3 handshake (its
// session tickets) for a moment, so closing does not reset the connection.
func drain(conn *tls.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var b [64]byte
	_, _ = conn.Read(b[:])
}

// TestCountsBetweenErrors checks the errors of CountsBetween that
// need no server.
func TestCountsBetweenErrors(t *testing.T) {
	now := time.Now()
	m := &LoggedServer{&Server{kind: targets.KindNginx, plan: runPlan{record: &nginxLog{access: &logTail{path: t.TempDir() + "/access.log"}}}}}
	ctx := context.Background()
	if _, err := m.CountsBetween(ctx, now, now.Add(-time.Second)); err == nil {
		t.Error("a window ending before it starts gave no error")
	}
	s := m.plan.record.(*nginxLog)
	s.tally.add(acceptTime{}, handshakeKind(logRecord{}), "mtlsbench/2 - - 200 ...")
	if _, err := m.CountsBetween(ctx, now.Add(-time.Second), now); err == nil {
		t.Error("a log with an undated record gave no error")
	}
	m.closed = true
	if _, err := m.CountsBetween(ctx, now.Add(-time.Second), now); err == nil {
		t.Error("CountsBetween after Close gave no error")
	}
}
