// Package builtin is the built-in target: a Go crypto/tls server that
// requires and verifies a client certificate (or, as a case asks, requests
// none, or serves plain TCP without TLS) and counts what it sees. It
// runs in this process (New) or, as a run uses it by default so that its
// CPU time is its own, in a child process (StartProcess), whose side is
// RunChild, speaking the line protocol described in child.go. The package
// owns the server's lock-free counters and its hand-written HTTP/1.1
// responder (http.go), both part of what is measured.
//
// Importing the package registers targets.KindBuiltin, so that
// targets.Start and targets.Capabilities know the built-in target.
package builtin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// Server is the built-in target: a crypto/tls server that requires and
// verifies a client certificate, runs in this process and counts what it
// sees. It is the thing being measured, so its per-connection overhead is
// kept small: lock-free counters in fixed arrays, pooled buffers, and no
// work after the handshake beyond reading (ModeHandshake) or a hand-written
// HTTP/1.1 responder (ModeHTTP).
//
// Config.CPUs and Config.Workers do not apply in-process: StartProcess runs
// the same server in a child process pinned to CPUs, which is how a run
// keeps the target's CPU separate from the generator's.
type Server struct {
	cfg       targets.Config // defaults applied; never the caller's value
	tlsConfig *tls.Config
	// cert is the certificate every new handshake presents, read by
	// GetCertificate: Rotate swaps it without a lock, and a handshake in
	// flight keeps the one it read.
	cert atomic.Pointer[tls.Certificate]

	stats serverStats
	conns connRegistry

	// done is closed when Close begins; handshake delays and accept
	// back-off stop waiting on it.
	done chan struct{}

	mu      sync.Mutex // guards ln and started
	ln      net.Listener
	started bool

	closeOnce sync.Once
	wg        sync.WaitGroup // the accept loop and every connection goroutine
}

var _ targets.Target = (*Server)(nil)

// New checks cfg and returns a server that is not yet listening. A
// config it refuses gives a *ConfigError.
// Defaults are applied on a copy: the caller's Config is never modified and
// its slices are not retained.
func New(cfg targets.Config) (*Server, error) {
	c, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	b := &Server{cfg: c, done: make(chan struct{})}
	cert := c.Identity.TLSCertificate()
	b.cert.Store(&cert)
	b.tlsConfig = b.newTLSConfig()
	b.conns.init()
	return b, nil
}

func (b *Server) newTLSConfig() *tls.Config {
	c := b.cfg
	pool := x509.NewCertPool()
	for _, ca := range c.ClientCAs {
		pool.AddCert(ca)
	}
	clientAuth := tls.RequireAndVerifyClientCert
	if !c.Auth.Mutual() {
		clientAuth = tls.NoClientCert // one-way TLS: no CertificateRequest
	}
	tc := &tls.Config{
		GetCertificate:         b.certificate,
		ClientAuth:             clientAuth,
		ClientCAs:              pool,
		MinVersion:             c.MinVersion,
		MaxVersion:             c.MaxVersion,
		CipherSuites:           c.CipherSuites,
		CurvePreferences:       c.Groups,
		SessionTicketsDisabled: c.DisableTickets,
	}
	if len(c.CRLs) > 0 {
		tc.VerifyPeerCertificate = newRevocation(c.CRLs).verify
	}
	if c.Mode == targets.ModeHTTP2 {
		// h2 only: a client that does not offer it fails the handshake
		// (no_application_protocol) rather than measure HTTP/1.1.
		tc.NextProtos = []string{"h2"}
	}
	if c.HandshakeDelay > 0 {
		// GetConfigForClient runs after the ClientHello is read and before
		// the server writes anything: the delay lands where a slow server
		// would spend its time, ahead of the ServerHello.
		tc.GetConfigForClient = b.delayHandshake
	}
	return tc
}

// certificate is the server's current certificate (see Rotate).
func (b *Server) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return b.cert.Load(), nil
}

// Rotate makes every handshake from now on present id: an atomic swap,
// so no handshake waits and none sees half of a certificate; those in
// flight finish with the one they read. id must match the server's key
// type for the case's suites, as the first identity did.
func (b *Server) Rotate(_ context.Context, id pki.Identity) error {
	c := b.cfg
	c.Identity = id
	if _, err := withDefaults(c); err != nil {
		return fmt.Errorf("builtin: rotate: %w", err)
	}
	cert := id.TLSCertificate()
	b.cert.Store(&cert)
	return nil
}

var _ targets.Rotator = (*Server)(nil)

// delayHandshake waits Config.HandshakeDelay, or until Close.
func (b *Server) delayHandshake(*tls.ClientHelloInfo) (*tls.Config, error) {
	t := time.NewTimer(b.cfg.HandshakeDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil, nil // nil: carry on with the server's own config
	case <-b.done:
		return nil, errServerClosed
	}
}

var errServerClosed = errors.New("builtin: server closed")

// Start listens on Config.Listen and serves until Close.
func (b *Server) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return errors.New("builtin: built-in target already started")
	}
	select {
	case <-b.done:
		return errors.New("builtin: built-in target is closed")
	default:
	}
	ln, err := net.Listen("tcp", b.cfg.Listen)
	if err != nil {
		return fmt.Errorf("builtin: listen %s: %w", b.cfg.Listen, err)
	}
	b.ln = ln
	b.started = true
	b.wg.Add(1)
	go b.acceptLoop(ln)
	return nil
}

// Addr is the address the server listens on ("" before Start).
func (b *Server) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ln == nil {
		return ""
	}
	return b.ln.Addr().String()
}

// ServerName is the name the server's certificate is valid for.
func (b *Server) ServerName() string { return "localhost" }

// Counts returns what the server has observed since it started.
func (b *Server) Counts(context.Context) (targets.Counts, error) { return b.stats.snapshot(), nil }

// PIDs is nil: the in-process server's CPU is this process's.
func (b *Server) PIDs() []int { return nil }

// Config returns the configuration in effect, defaults applied.
func (b *Server) Config() targets.Config { return b.cfg }

// Close stops accepting, closes every open connection (also those a client
// is holding open) and returns once every goroutine of the server is gone.
// It is safe to call more than once and from several goroutines.
func (b *Server) Close() error {
	b.closeOnce.Do(func() {
		close(b.done)
		b.mu.Lock()
		ln := b.ln
		b.mu.Unlock()
		if ln != nil {
			ln.Close()
		}
		b.conns.closeAll()
		b.wg.Wait()
	})
	return nil
}

// acceptLoop accepts connections until the listener is closed. Temporary
// errors (out of file descriptors under a large --hold) back off as
// net/http does, so the loop never spins.
func (b *Server) acceptLoop(ln net.Listener) {
	defer b.wg.Done()
	var backoff time.Duration
	for {
		raw, err := ln.Accept()
		if err != nil {
			select {
			case <-b.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-b.done:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		b.wg.Add(1)
		go b.serveConn(raw)
	}
}
