package builtin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// testBundles caches one PKI per key type for the whole test binary:
// RSA-4096 keys take seconds to generate on a busy machine.
var testBundles sync.Map // pki.KeyType → func() (*pki.Bundle, error)

func testBundle(t testing.TB, kt pki.KeyType) *pki.Bundle {
	t.Helper()
	f, _ := testBundles.LoadOrStore(kt, sync.OnceValues(func() (*pki.Bundle, error) {
		return pki.Generate(pki.Options{ServerKeyType: kt})
	}))
	b, err := f.(func() (*pki.Bundle, error))()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testConfig is a server config for bundle b on a free loopback port.
func testConfig(b *pki.Bundle) targets.Config {
	return targets.Config{Identity: b.Server, ClientCAs: []*x509.Certificate{b.Root.Cert}}
}

// startServer starts a Server that the test closes at its end.
func startServer(t testing.TB, cfg targets.Config) *Server {
	t.Helper()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// clientConfig is a client config trusting b's root and presenting
// client (b's first client by default), for one TLS version (0: any).
func clientConfig(b *pki.Bundle, version uint16, client *pki.Identity) *tls.Config {
	id := b.Clients[0]
	if client != nil {
		id = *client
	}
	cert := id.TLSCertificate()
	cfg := &tls.Config{
		RootCAs: b.RootPool(),
		// Always present the certificate: with Certificates, crypto/tls
		// sends none at all when the certificate is not issued by a CA the
		// server lists, so a wrong-CA certificate would never reach the
		// server's verification.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
		ServerName:           "localhost",
		MinVersion:           tls.VersionTLS12,
		MaxVersion:           tls.VersionTLS13,
	}
	if version != 0 {
		cfg.MinVersion, cfg.MaxVersion = version, version
	}
	return cfg
}

// dial dials addr and completes the client side of the handshake.
// The connection is closed at the end of the test.
func dial(t testing.TB, addr string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c.(*tls.Conn), nil
}

// waitCounts polls target's counts until ok accepts them: the server counts
// on its own goroutine, after the client has already seen the result.
func waitCounts(t testing.TB, target targets.Target, ok func(targets.Counts) bool) targets.Counts {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := target.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts never reached the expected values; last: %+v", c)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ticketCache is a client session cache that reports each ticket stored.
type ticketCache struct {
	tls.ClientSessionCache
	put chan struct{}
}

func newTicketCache() *ticketCache {
	return &ticketCache{ClientSessionCache: tls.NewLRUClientSessionCache(8), put: make(chan struct{}, 16)}
}

func (c *ticketCache) Put(key string, cs *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs != nil {
		c.put <- struct{}{}
	}
}

// awaitTicket reads from a TLS 1.3 connection until the server's session
// ticket has been stored (it arrives after the handshake, and crypto/tls
// processes it only inside Read), then stops the Read with a deadline.
func awaitTicket(t testing.TB, conn *tls.Conn, cache *ticketCache) {
	t.Helper()
	go func() {
		select {
		case <-cache.put:
		case <-time.After(20 * time.Second):
		}
		conn.SetReadDeadline(time.Now())
	}()
	_, err := conn.Read(make([]byte, 1))
	if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
		t.Fatalf("reading the session ticket: got %v, want the read to be stopped by a deadline", err)
	}
	if len(cache.put) != 0 {
		t.Fatal("the session ticket never arrived")
	}
}

var testVersions = []struct {
	name    string
	version uint16
}{{"1.2", tls.VersionTLS12}, {"1.3", tls.VersionTLS13}}

func TestHandshakeEveryKeyTypeAndVersion(t *testing.T) {
	for _, kt := range pki.KeyTypes() {
		t.Run(string(kt), func(t *testing.T) {
			t.Parallel()
			b := testBundle(t, kt)
			srv := startServer(t, testConfig(b))
			for _, v := range testVersions {
				conn, err := dial(t, srv.Addr(), clientConfig(b, v.version, nil))
				if err != nil {
					t.Fatalf("TLS %s: %v", v.name, err)
				}
				if got := conn.ConnectionState().Version; got != v.version {
					t.Fatalf("TLS %s: negotiated %s", v.name, tls.VersionName(got))
				}
				conn.Close()
			}
			c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Handshakes == 2 })
			if c.Failed != 0 || c.Resumed != 0 || c.Versions["1.2"] != 1 || c.Versions["1.3"] != 1 {
				t.Errorf("counts = %+v, want 2 handshakes, one per version, none failed or resumed", c)
			}
			var perSuite int64
			for _, n := range c.Ciphers {
				perSuite += n
			}
			if perSuite != 2 {
				t.Errorf("per-suite counts %v add up to %d, want 2", c.Ciphers, perSuite)
			}
		})
	}
}

func TestIntermediateChain(t *testing.T) {
	b, err := pki.Generate(pki.Options{Intermediate: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, testConfig(b))
	if _, err := dial(t, srv.Addr(), clientConfig(b, tls.VersionTLS12, nil)); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, srv, func(c targets.Counts) bool { return c.Handshakes == 1 })
}

func TestResumption(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	for _, v := range testVersions {
		t.Run(v.name, func(t *testing.T) {
			srv := startServer(t, testConfig(b))
			cache := newTicketCache()
			cfg := clientConfig(b, v.version, nil)
			cfg.ClientSessionCache = cache
			for i, wantResumed := range []bool{false, true, true} {
				conn, err := dial(t, srv.Addr(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				if got := conn.ConnectionState().DidResume; got != wantResumed {
					t.Fatalf("handshake %d: resumed = %v, want %v", i, got, wantResumed)
				}
				if v.version == tls.VersionTLS13 {
					awaitTicket(t, conn, cache)
				}
				conn.Close()
			}
			c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Handshakes == 3 })
			if c.Resumed != 2 || c.Failed != 0 {
				t.Errorf("counts = %+v, want 3 handshakes of which 2 resumed", c)
			}
		})
	}
}

func TestNoTicketsNoResumption(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	for _, v := range testVersions {
		t.Run(v.name, func(t *testing.T) {
			cfg := testConfig(b)
			cfg.DisableTickets = true
			srv := startServer(t, cfg)
			ccfg := clientConfig(b, v.version, nil)
			ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
			for range 2 {
				conn, err := dial(t, srv.Addr(), ccfg)
				if err != nil {
					t.Fatal(err)
				}
				if conn.ConnectionState().DidResume {
					t.Fatal("resumed with session tickets disabled")
				}
				conn.Close()
			}
			c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Handshakes == 2 })
			if c.Resumed != 0 {
				t.Errorf("counts = %+v, want no resumption", c)
			}
		})
	}
}

// TestRejectsClientCertificates checks that a client certificate the
// server must refuse is refused, counted as a verify failure, and seen by a
// TLS 1.3 client on its first Read (its own handshake completes before the
// server has looked at the certificate).
func TestRejectsClientCertificates(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	other, err := pki.Generate(pki.Options{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := b.Issuer().Issue(pki.LeafRequest{
		CommonName: "expired client",
		NotBefore:  time.Now().Add(-48 * time.Hour),
		NotAfter:   time.Now().Add(-24 * time.Hour),
	}, b.Intermediate)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		client *pki.Identity
		alert  string
	}{
		{"other CA", &other.Clients[0], "unknown certificate authority"},
		{"expired", &expired, "expired certificate"},
	} {
		for _, v := range testVersions {
			t.Run(tc.name+"/"+v.name, func(t *testing.T) {
				srv := startServer(t, testConfig(b))
				conn, err := dial(t, srv.Addr(), clientConfig(b, v.version, tc.client))
				if v.version == tls.VersionTLS13 {
					if err != nil {
						t.Fatalf("TLS 1.3 client handshake: %v (it completes before the server verifies)", err)
					}
					conn.SetReadDeadline(time.Now().Add(20 * time.Second))
					_, err = conn.Read(make([]byte, 1))
				}
				if err == nil || !strings.Contains(err.Error(), tc.alert) {
					t.Fatalf("client error = %v, want the alert %q", err, tc.alert)
				}
				c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Failed == 1 })
				if c.VerifyFailures != 1 || c.Handshakes != 0 {
					t.Errorf("counts = %+v, want 1 failed handshake that is a verify failure", c)
				}
			})
		}
	}
}

func TestNoClientCertificateIsVerifyFailure(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	srv := startServer(t, testConfig(b))
	cfg := clientConfig(b, tls.VersionTLS13, nil)
	cfg.GetClientCertificate = nil
	conn, err := dial(t, srv.Addr(), cfg)
	if err == nil {
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err = conn.Read(make([]byte, 1))
	}
	if err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Fatalf("client error = %v, want the alert certificate_required", err)
	}
	c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Failed == 1 })
	if c.VerifyFailures != 1 {
		t.Errorf("counts = %+v, want a verify failure", c)
	}
}

func TestCipherSuiteAndGroup(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
	cfg.Groups = []tls.CurveID{tls.CurveP384}
	srv := startServer(t, cfg)
	for _, v := range testVersions {
		conn, err := dial(t, srv.Addr(), clientConfig(b, v.version, nil))
		if err != nil {
			t.Fatalf("TLS %s: %v", v.name, err)
		}
		st := conn.ConnectionState()
		if st.CurveID != tls.CurveP384 {
			t.Errorf("TLS %s: group %s, want P-384", v.name, st.CurveID)
		}
		if v.version == tls.VersionTLS12 && st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
			t.Errorf("TLS 1.2: suite %s", tls.CipherSuiteName(st.CipherSuite))
		}
		conn.Close()
	}
	c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Handshakes == 2 })
	if c.Ciphers["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"] != 1 {
		t.Errorf("per-suite counts = %v, want the pinned TLS 1.2 suite once", c.Ciphers)
	}
}

func TestVersionBounds(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	srv := startServer(t, cfg)
	if _, err := dial(t, srv.Addr(), clientConfig(b, tls.VersionTLS12, nil)); err == nil {
		t.Fatal("a TLS 1.2 client connected to a TLS 1.3-only server")
	}
	c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Failed == 1 })
	if c.VerifyFailures != 0 {
		t.Errorf("a version mismatch was counted as a verify failure: %+v", c)
	}
}

func TestHandshakeDelay(t *testing.T) {
	const delay = 50 * time.Millisecond
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.HandshakeDelay = delay
	srv := startServer(t, cfg)
	for _, v := range testVersions {
		start := time.Now()
		if _, err := dial(t, srv.Addr(), clientConfig(b, v.version, nil)); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < delay {
			t.Errorf("TLS %s handshake took %s, want at least the %s delay", v.name, took, delay)
		}
	}
}

func TestHandshakeTimeoutAndProbes(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.HandshakeTimeout = 100 * time.Millisecond
	srv := startServer(t, cfg)

	// A port probe (connect, close, no ClientHello) is not a handshake.
	probe, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	probe.Close()
	waitOpenConns(t, srv, 0)

	// A client that connects and stalls is dropped and counted as failed.
	stalled, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := stalled.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("stalled client read %v, want EOF (dropped by the server)", err)
	}
	c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Failed >= 1 })
	if c.Failed != 1 || c.VerifyFailures != 0 {
		t.Errorf("counts = %+v, want exactly the stalled handshake failed, not the probe", c)
	}
}

// waitOpenConns waits until the server has n connections open.
func waitOpenConns(t testing.TB, srv *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for srv.conns.open() != n {
		if time.Now().After(deadline) {
			t.Fatalf("server has %d connections open, want %d", srv.conns.open(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCloseEndsHeldConnections(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	for _, mode := range []targets.Mode{targets.ModeHandshake, targets.ModeHTTP} {
		cfg := testConfig(b)
		cfg.Mode = mode
		srv := startServer(t, cfg)
		cfg.HandshakeDelay = time.Hour // a handshake in progress must not hold Close up either
		delayed := startServer(t, cfg)
		var conns []*tls.Conn
		for i := range 10 {
			conn, err := dial(t, srv.Addr(), clientConfig(b, testVersions[i%2].version, nil))
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, conn)
		}
		waitOpenConns(t, srv, 10)
		stuck, err := net.Dial("tcp", delayed.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer stuck.Close()
		go tls.Client(stuck, clientConfig(b, 0, nil)).Handshake()
		waitOpenConns(t, delayed, 1)

		closed := make(chan struct{})
		go func() {
			srv.Close()
			delayed.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(20 * time.Second):
			t.Fatal("Close did not return with connections held open")
		}
		for _, conn := range conns {
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			if _, err := conn.Read(make([]byte, 1)); err == nil {
				t.Fatal("a held connection is still open after Close")
			}
		}
		if err := srv.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		c, _ := delayed.Counts(context.Background())
		if c.Failed != 0 {
			t.Errorf("a handshake cut short by Close was counted as failed: %+v", c)
		}
	}
}

func TestListenError(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	srv := startServer(t, testConfig(b))
	cfg := testConfig(b)
	cfg.Listen = srv.Addr()
	second, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(); err == nil || !strings.HasPrefix(err.Error(), "builtin: listen "+srv.Addr()) {
		t.Fatalf("Start on a used port: %v", err)
	}
}

func TestIsClientCertRejection(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, true},
		{errors.New("tls: client didn't provide a certificate"), true},
		{errors.New("tls: invalid signature by the client certificate: crypto/ecdsa: verification error"), true},
		{&net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, false}, // the client refusing us
		{errors.New("tls: client offered only unsupported versions: [302 301]"), false},
		{io.EOF, false},
	} {
		if got := isClientCertRejection(tc.err); got != tc.want {
			t.Errorf("isClientCertRejection(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
