package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// BareConfig is the baseline the engine's own cost is measured against: the
// same mTLS handshakes Run makes, by a client written the plain way with
// crypto/tls and net and nothing else — no timing, histograms, byte
// counts, expectations or error classes. The work per connection is the
// same: connect, full or resumed handshake presenting a client certificate,
// crypto/tls's own verification of the server's chain on every full
// handshake, and in TLS 1.3 waiting for the server's first post-handshake
// record (its session ticket, sent once it has accepted the client's
// certificate) before closing.
//
// BenchmarkEngineVsBare and 'make bench-peers' run it beside the engine.
type BareConfig struct {
	// Addr is the target's host:port.
	Addr string
	// TLS is the client configuration (RootCAs, ServerName, versions,
	// groups). Its Certificates, ClientSessionCache and
	// SessionTicketsDisabled are replaced on a clone.
	TLS *tls.Config
	// Identity is the client certificate.
	Identity tls.Certificate
	// Resume offers the last session on every handshake after the first.
	Resume bool
	// Request, if set, is written after the handshake and the response is
	// read until the server closes (an HTTP/1.0 GET, as openssl s_time
	// -www does). Nil: handshake only.
	Request []byte
	// Concurrency is the number of goroutines, each running one connection
	// after another. Zero means 1.
	Concurrency int
	// Warmup runs connections for this long before the window; they are
	// not counted.
	Warmup time.Duration
	// Count ends the window after this many connections; Duration after
	// this long. One of them is required.
	Count    int64
	Duration time.Duration
	// Observer, if set, is told when the window starts and ends (only
	// WindowStart and WindowEnd are called), so a caller can sample clocks
	// exactly over the connections counted.
	Observer Observer
}

// BareResult is what RunBare did in its window.
type BareResult struct {
	Handshakes, Resumed int64
	Elapsed             time.Duration
}

// RunBare runs the baseline client. It stops at the first error.
func RunBare(ctx context.Context, c BareConfig) (BareResult, error) {
	if c.Count <= 0 && c.Duration <= 0 {
		return BareResult{}, &ConfigError{"bare client: set a count or a duration"}
	}
	if c.TLS == nil || len(c.Identity.Certificate) == 0 {
		return BareResult{}, &ConfigError{"bare client: needs a TLS configuration and a client certificate"}
	}
	cfg := c.TLS.Clone()
	cfg.Certificates = []tls.Certificate{c.Identity}
	cfg.SessionTicketsDisabled = false
	// A client advertises tickets whether or not it resumes, so the server
	// issues them (in TLS 1.3 the ticket is what tells the client it was
	// accepted): without resumption the cache just never returns one.
	if c.Resume {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	} else {
		cfg.ClientSessionCache = discardSessions{}
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	// window: 0 during the warm-up, 1 while measuring, 2 after.
	var (
		window              atomic.Int32
		done, resumed       atomic.Int64
		firstErr            error
		errOnce             sync.Once
		wg                  sync.WaitGroup
		countReached        = make(chan struct{})
		countOnce           sync.Once
		windowStart, winEnd time.Time
	)
	conc := max(1, c.Concurrency)
	// The window opens after the warm-up and after every goroutine's
	// first connection (with resumption, the full one that gets a
	// session), so no such connection is ever in it.
	var primed atomic.Int64
	allPrimed := make(chan struct{})
	for range conc {
		wg.Go(func() {
			first := false
			var rc recordConn
			buf := make([]byte, 4096)
			for ctx.Err() == nil {
				did, err := bareConnection(c, cfg, &rc, buf)
				if err != nil {
					if ctx.Err() == nil {
						errOnce.Do(func() { firstErr = err; stop() })
					}
					return
				}
				if !first {
					first = true
					if primed.Add(1) == int64(conc) {
						close(allPrimed)
					}
				}
				if window.Load() != 1 {
					continue
				}
				n := done.Add(1)
				if did {
					resumed.Add(1)
				}
				if c.Count > 0 && n >= c.Count {
					countOnce.Do(func() { close(countReached) })
				}
			}
		})
	}
	// The controller: warm-up, then the window, ended by count, duration
	// or ctx.
	timer := time.NewTimer(c.Warmup)
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
	select {
	case <-allPrimed:
	case <-ctx.Done():
	}
	if ctx.Err() == nil {
		if c.Observer != nil {
			c.Observer.WindowStart(time.Now())
		}
		windowStart = time.Now()
		window.Store(1)
		var end <-chan time.Time
		if c.Duration > 0 {
			timer.Reset(c.Duration)
			end = timer.C
		}
		select {
		case <-end:
		case <-countReached:
		case <-ctx.Done():
		}
		window.Store(2)
		winEnd = time.Now()
		if c.Observer != nil {
			c.Observer.WindowEnd(winEnd)
		}
	}
	timer.Stop()
	stop()
	wg.Wait()
	// Connections completed while the window was open all count (with a
	// count, a few may complete between the Count-th and the window's
	// close).
	res := BareResult{Handshakes: done.Load(), Resumed: resumed.Load()}
	if !windowStart.IsZero() {
		res.Elapsed = winEnd.Sub(windowStart)
	}
	return res, firstErr
}

// bareConnection is one connection of the baseline client.
func bareConnection(c BareConfig, cfg *tls.Config, rc *recordConn, buf []byte) (resumed bool, err error) {
	raw, err := net.Dial("tcp", c.Addr)
	if err != nil {
		return false, fmt.Errorf("loadgen: bare client: %w", err)
	}
	defer raw.Close()
	rc.reset(raw)
	conn := tls.Client(rc, cfg)
	if err := conn.Handshake(); err != nil {
		return false, fmt.Errorf("loadgen: bare client: handshake: %w", err)
	}
	state := conn.ConnectionState()
	switch {
	case c.Request != nil:
		if _, err := conn.Write(c.Request); err != nil {
			return false, fmt.Errorf("loadgen: bare client: request: %w", err)
		}
		for {
			_, err := conn.Read(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return false, fmt.Errorf("loadgen: bare client: response: %w", err)
			}
		}
	case state.Version >= tls.VersionTLS13:
		rc.stopAfterRecord, rc.records = true, 0
		if _, err := conn.Read(buf[:1]); err != nil && !errors.Is(err, errConfirmed) {
			return false, fmt.Errorf("loadgen: bare client: waiting for the server's ticket: %w", err)
		}
	}
	return state.DidResume, nil
}

// discardSessions is a session cache that never holds a session.
type discardSessions struct{}

func (discardSessions) Get(string) (*tls.ClientSessionState, bool) { return nil, false }
func (discardSessions) Put(string, *tls.ClientSessionState)        {}

// recordConn is the least a client needs to receive the server's first
// post-handshake record without blocking for data that never comes: once
// armed, Read stops at the first record boundary after one whole record.
// (The engine's wireConn does this and also counts and times.)
type recordConn struct {
	net.Conn
	stopAfterRecord bool
	recordScanner
}

func (c *recordConn) reset(conn net.Conn) { *c = recordConn{Conn: conn} }

func (c *recordConn) Read(p []byte) (int, error) {
	if c.stopAfterRecord && c.atBoundary() {
		return 0, errConfirmed
	}
	n, err := c.Conn.Read(p)
	c.scan(p[:n])
	return n, err
}
