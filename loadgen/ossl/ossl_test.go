//go:build cgo && linux && !noopenssl

package ossl

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// server is a crypto/tls server on loopback that requires and verifies
// client certificates, answers "ok" to any bytes and counts handshakes.
type server struct {
	l       net.Listener
	done    chan struct{}
	results chan tls.ConnectionState
	errs    chan error
}

func startServer(t *testing.T, b *pki.Bundle, cfg *tls.Config) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{l: l, done: make(chan struct{}), results: make(chan tls.ConnectionState, 100), errs: make(chan error, 100)}
	go func() {
		defer close(s.done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				tc := tls.Server(c, cfg)
				if err := tc.Handshake(); err != nil {
					s.errs <- err
					return
				}
				s.results <- tc.ConnectionState()
				buf := make([]byte, 4096)
				for {
					n, err := tc.Read(buf)
					if n > 0 {
						if _, err := tc.Write([]byte("ok")); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); <-s.done })
	return s
}

func bundle(t *testing.T, kt pki.KeyType) *pki.Bundle {
	t.Helper()
	b, err := pki.Generate(pki.Options{ServerKeyType: kt, Clients: 2})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serverConfig(b *pki.Bundle) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{b.Server.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    b.RootPool(),
	}
}

// started is a connection of a new Ctx with cfg to addr, started with the
// server name localhost; both are freed when the test ends.
func started(t *testing.T, addr string, cfg Config) *Conn {
	t.Helper()
	conn := dial(t, addr)
	x, err := NewCtx(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Close)
	c := x.NewConn()
	t.Cleanup(c.Free)
	if err := c.Start(conn, "localhost", nil, 0); err != nil {
		t.Fatal(err)
	}
	return c
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// A mutual TLS 1.3 handshake, confirmed by the server's ticket, then a
// resumption with it, against crypto/tls: what the engine relies on.
func TestHandshakeConfirmResume(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	s := startServer(t, b, serverConfig(b))
	x, err := NewCtx(Config{Version: tls.VersionTLS13, Groups: []string{"X25519"}, Verify: true, Roots: []*x509.Certificate{b.Root.Cert}, Mutual: true, Identities: b.ClientCertificates()})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	c := x.NewConn()
	defer c.Free()

	nc := dial(t, s.l.Addr().String())
	if err := c.Start(nc, "localhost", nil, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Await(make([]byte, 64)); err != nil {
		t.Fatalf("await: %v", err)
	}
	info := c.Info()
	if info.Version != tls.VersionTLS13 || info.Group != tls.X25519 || info.Resumed || info.HRR || info.ServerKey != pki.ECDSAP256 || !info.KeyShare {
		t.Errorf("full handshake: %+v", info)
	}
	if c.Presented() != 1 || c.CANames() != 1 {
		t.Errorf("presented %d, CA names %d; want identity 1 and the server's one CA", c.Presented(), c.CANames())
	}
	if c.VerifyNanos() <= 0 {
		t.Errorf("verification not timed")
	}
	st := <-s.results
	if len(st.PeerCertificates) == 0 || st.PeerCertificates[0].SerialNumber.Cmp(b.Clients[1].Leaf().SerialNumber) != 0 {
		t.Errorf("the server did not get client identity 2")
	}
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "ok" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	sess := c.TakeSession()
	c.End()
	if sess == nil {
		t.Fatal("no session after the ticket")
	}
	defer sess.Free()

	nc2 := dial(t, s.l.Addr().String())
	if err := c.Start(nc2, "localhost", sess, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	// crypto/tls resumes with psk_dhe_ke: a key share, and so a group.
	if info := c.Info(); !info.Resumed || info.Version != tls.VersionTLS13 || !info.KeyShare || info.Group != tls.X25519 {
		t.Errorf("resumption: %+v", info)
	}
	if c.Presented() != -1 || c.CANames() != -1 {
		t.Errorf("a resumption asked for a certificate: presented %d, CA names %d", c.Presented(), c.CANames())
	}
	c.End()
	if st := <-s.results; !st.DidResume {
		t.Errorf("the server did not resume")
	}
}

// A HelloRetryRequest is seen, and the group it retried to reported.
func TestHelloRetryRequest(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	cfg := serverConfig(b)
	cfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
	s := startServer(t, b, cfg)
	c := started(t, s.l.Addr().String(), Config{Version: tls.VersionTLS13, Groups: []string{"X25519", "P-256"}, Mutual: true, Identities: b.ClientCertificates()})
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if info := c.Info(); !info.HRR || info.Group != tls.CurveP256 {
		t.Errorf("want a HelloRetryRequest to P-256, got %+v", info)
	}
	c.End()
}

// A server that rejects the client's certificate after its Finished
// (TLS 1.3): the handshake completes, Await gets the alert.
func TestRejectedAfterFinished(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	other := bundle(t, pki.ECDSAP256) // a CA the server does not trust
	s := startServer(t, b, serverConfig(b))
	c := started(t, s.l.Addr().String(), Config{Version: tls.VersionTLS13, Verify: true, Roots: []*x509.Certificate{b.Root.Cert}, Mutual: true, Identities: other.ClientCertificates()})
	if err := c.Handshake(); err != nil {
		t.Fatalf("the client's side of the handshake should complete: %v", err)
	}
	_, err := c.Await(make([]byte, 64))
	var oe *Error
	if !errors.As(err, &oe) {
		t.Fatalf("await: %v, want an *Error", err)
	}
	if code, ok := oe.RemoteAlert(); !ok || code != 42 && code != 48 {
		t.Errorf("alert %d (%v), want bad_certificate or unknown_ca: %v", code, ok, err)
	}
	c.End()
}

// The server's certificate not verifying is the client's error, with
// OpenSSL's verify result.
func TestServerNotVerified(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	other := bundle(t, pki.ECDSAP256)
	s := startServer(t, b, serverConfig(b))
	c := started(t, s.l.Addr().String(), Config{Version: tls.VersionTLS12, Verify: true, Roots: []*x509.Certificate{other.Root.Cert}, Mutual: true, Identities: b.ClientCertificates()})
	err := c.Handshake()
	if info := c.Info(); info.KeyShare {
		t.Errorf("a TLS 1.2 ServerHello read as carrying a key share: %+v", info)
	}
	var oe *Error
	if !errors.As(err, &oe) || oe.Verify == 0 || !strings.Contains(err.Error(), "did not verify") {
		t.Fatalf("handshake: %v, want a verification failure", err)
	}
	c.End()
}

// A closed connection mid-handshake reads as io.EOF (the socket's).
func TestEOF(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			// The whole ClientHello is read, so the close is a FIN.
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c := started(t, l.Addr().String(), Config{})
	if err := c.Handshake(); !errors.Is(err, io.EOF) {
		t.Errorf("handshake: %v, want EOF", err)
	}
	c.End()
}

func TestVersion(t *testing.T) {
	if v := Version(); !strings.HasPrefix(v, "OpenSSL 3.") {
		t.Errorf("Version() = %q", v)
	}
	if !AtLeast(1, 1) || AtLeast(99, 0) {
		t.Errorf("AtLeast is wrong for %s", Version())
	}
	if !SupportsGroup("X25519") || SupportsGroup("NoSuchGroup") {
		t.Errorf("SupportsGroup is wrong")
	}
}
