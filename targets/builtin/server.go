// Package builtin is the built-in target: a Go crypto/tls server that
// requires and verifies a client certificate and counts what it sees. It
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
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/tlsparams"
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
	b.tlsConfig = b.newTLSConfig()
	b.conns.init()
	return b, nil
}

// ConfigError is a Config the built-in target refuses (before
// listening or starting a child): bad input to fix, not a failed run.
type ConfigError struct {
	Reason string // what is wrong and what would work
}

func (e *ConfigError) Error() string { return "builtin: " + e.Reason }

func refuseConfig(format string, args ...any) error {
	return &ConfigError{Reason: fmt.Sprintf(format, args...)}
}

// withDefaults validates cfg for the built-in server and returns a copy
// with every default applied.
func withDefaults(cfg targets.Config) (targets.Config, error) {
	c := cfg
	c.ClientCAs = slices.Clone(cfg.ClientCAs)
	c.CipherSuites = slices.Clone(cfg.CipherSuites)
	c.Groups = slices.Clone(cfg.Groups)
	c.Identity.Chain = slices.Clone(cfg.Identity.Chain)
	c.PIDs = slices.Clone(cfg.PIDs)
	c.ChildCommand = slices.Clone(cfg.ChildCommand)

	if len(c.Identity.Chain) == 0 || c.Identity.Chain[0] == nil || c.Identity.Key == nil {
		return targets.Config{}, refuseConfig("the built-in target needs a server identity (Config.Identity: certificate chain and private key); generate one with pki.Generate or load one with pki.LoadDir")
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := c.Identity.Chain[0].PublicKey.(equaler); !ok || !pub.Equal(c.Identity.Key.Public()) {
		return targets.Config{}, refuseConfig("the server private key (%s) does not match its certificate %q (%s)",
			pki.DescribePublicKey(c.Identity.Key.Public()), c.Identity.Chain[0].Subject.CommonName, pki.DescribePublicKey(c.Identity.Chain[0].PublicKey))
	}
	if len(c.ClientCAs) == 0 || slices.Contains(c.ClientCAs, nil) {
		return targets.Config{}, refuseConfig("the built-in target needs Config.ClientCAs, the roots client certificates must chain to (every target requires a client certificate)")
	}

	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	if c.MaxVersion == 0 {
		c.MaxVersion = tls.VersionTLS13
	}
	for _, v := range []uint16{c.MinVersion, c.MaxVersion} {
		if v != tls.VersionTLS12 && v != tls.VersionTLS13 {
			return targets.Config{}, refuseConfig("unsupported TLS version %s (accepted: 1.2, 1.3)", tls.VersionName(v))
		}
	}
	if c.MinVersion > c.MaxVersion {
		return targets.Config{}, refuseConfig("MinVersion %s is above MaxVersion %s", tlsparams.VersionString(c.MinVersion), tlsparams.VersionString(c.MaxVersion))
	}

	if cfg.CipherSuitesTLS13 != nil {
		return targets.Config{}, refuseConfig("the built-in target cannot pin a TLS 1.3 cipher suite: crypto/tls always offers all three TLS 1.3 suites and has no setting to restrict them; use an OpenSSL-based target (nginx, haproxy, openssl), which can, or leave the TLS 1.3 suite unset")
	}
	if err := checkSuites(c); err != nil {
		return targets.Config{}, err
	}
	if err := checkGroups(c); err != nil {
		return targets.Config{}, err
	}

	switch c.Mode {
	case "":
		c.Mode = targets.ModeHandshake
	case targets.ModeHandshake, targets.ModeHTTP:
	default:
		return targets.Config{}, refuseConfig("unknown mode %q (accepted: %s, %s)", c.Mode, targets.ModeHandshake, targets.ModeHTTP)
	}
	if c.HandshakeDelay < 0 {
		return targets.Config{}, refuseConfig("HandshakeDelay must not be negative, got %s", c.HandshakeDelay)
	}
	if c.HandshakeTimeout < 0 {
		return targets.Config{}, refuseConfig("HandshakeTimeout must not be negative, got %s", c.HandshakeTimeout)
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = targets.DefaultHandshakeTimeout
	}
	if c.Workers < 0 {
		return targets.Config{}, refuseConfig("Workers must not be negative, got %d", c.Workers)
	}
	return c, nil
}

// checkSuites refuses TLS 1.2 suite lists crypto/tls would silently
// ignore or could never negotiate with the server's key, so a case never
// measures a suite other than the one it names.
func checkSuites(c targets.Config) error {
	if c.CipherSuites == nil {
		return nil
	}
	auth := "ecdsa" // ECDSA and Ed25519 keys sign ECDHE_ECDSA suites
	if _, isRSA := c.Identity.Key.Public().(*rsa.PublicKey); isRSA {
		auth = "rsa"
	}
	usable := false
	for _, id := range c.CipherSuites {
		s, ok := tlsparams.SuiteByID(id)
		switch {
		case !ok:
			return refuseConfig("unsupported cipher suite %s (accepted: %s)", tls.CipherSuiteName(id), tlsparams.SuiteNames(tls.VersionTLS12))
		case s.TLS13:
			return refuseConfig("%s is a TLS 1.3 suite; CipherSuites holds TLS 1.2 suites only, and the built-in target cannot pin a TLS 1.3 suite (an OpenSSL-based target can)", s.Name)
		}
		if s.Auth == auth {
			usable = true
		}
	}
	if !usable && c.MinVersion <= tls.VersionTLS12 {
		return refuseConfig("none of the TLS 1.2 cipher suites can be used with the server's %s key (they need an %s key); accepted for this key: %s",
			pki.DescribePublicKey(c.Identity.Key.Public()), suiteAuthName(auth), suitesForAuth(auth))
	}
	return nil
}

func suiteAuthName(auth string) string {
	if auth == "rsa" {
		return "ECDSA or Ed25519"
	}
	return "RSA"
}

func suitesForAuth(auth string) string {
	var names []string
	for _, s := range tlsparams.Suites() {
		if s.Auth == auth {
			names = append(names, s.Name)
		}
	}
	return strings.Join(names, ", ")
}

// checkGroups refuses unknown groups and a TLS 1.2-only server with
// only post-quantum groups (ML-KEM hybrids exist in TLS 1.3 only).
func checkGroups(c targets.Config) error {
	if c.Groups == nil {
		return nil
	}
	if len(c.Groups) == 0 {
		return refuseConfig("Groups is empty; leave it nil for the server's defaults")
	}
	classic := false
	for _, id := range c.Groups {
		g, ok := tlsparams.GroupByID(id)
		if !ok {
			return refuseConfig("unsupported group %s (accepted: %s)", id, tlsparams.GroupNames())
		}
		if !g.PostQuantum {
			classic = true
		}
	}
	if !classic && c.MinVersion == tls.VersionTLS12 && c.MaxVersion == tls.VersionTLS12 {
		return refuseConfig("post-quantum groups need TLS 1.3, but the server accepts only TLS 1.2; add a classic group (x25519, p256, p384, p521) or allow TLS 1.3")
	}
	return nil
}

func (b *Server) newTLSConfig() *tls.Config {
	c := b.cfg
	pool := x509.NewCertPool()
	for _, ca := range c.ClientCAs {
		pool.AddCert(ca)
	}
	tc := &tls.Config{
		Certificates:           []tls.Certificate{c.Identity.TLSCertificate()},
		ClientAuth:             tls.RequireAndVerifyClientCert,
		ClientCAs:              pool,
		MinVersion:             c.MinVersion,
		MaxVersion:             c.MaxVersion,
		CipherSuites:           c.CipherSuites,
		CurvePreferences:       c.Groups,
		SessionTicketsDisabled: c.DisableTickets,
	}
	if c.HandshakeDelay > 0 {
		// GetConfigForClient runs after the ClientHello is read and before
		// the server writes anything: the delay lands where a slow server
		// would spend its time, ahead of the ServerHello.
		tc.GetConfigForClient = b.delayHandshake
	}
	return tc
}

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
