package builtin

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Mutual TLS is counted SUCCESS per handshake; one-way TLS asks for no
// certificate and is counted NONE.
func TestAuthClientVerifyCounts(t *testing.T) {
	b := testBundle(t, "ecdsa-p256")
	for _, tt := range []struct {
		auth    tlsparams.Auth
		verdict string
	}{{"", targets.ClientVerifySuccess}, {tlsparams.AuthServer, targets.ClientVerifyNone}} {
		cfg := testConfig(b)
		cfg.Auth = tt.auth
		srv := startServer(t, cfg)
		client := clientConfig(b, tls.VersionTLS13, nil)
		asked := false
		get := client.GetClientCertificate
		client.GetClientCertificate = func(i *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked = true
			return get(i)
		}
		for range 3 {
			conn, err := dial(t, srv.Addr(), client)
			if err != nil {
				t.Fatalf("auth %q: %v", tt.auth, err)
			}
			conn.Close()
		}
		if asked != (tt.verdict == targets.ClientVerifySuccess) {
			t.Errorf("auth %q: the server asked for a client certificate: %v", tt.auth, asked)
		}
		c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Handshakes == 3 })
		if len(c.ClientVerify) != 1 || c.ClientVerify[tt.verdict] != 3 {
			t.Errorf("auth %q: client verify %v, want %s 3", tt.auth, c.ClientVerify, tt.verdict)
		}
	}
}

// Auth none is a plaintext listener in either mode: each connection
// counts, HTTP requests are answered, and nothing of TLS is counted.
func TestAuthNonePlaintext(t *testing.T) {
	b := testBundle(t, "ecdsa-p256")
	cfg := testConfig(b)
	cfg.Auth, cfg.Mode = tlsparams.AuthNone, targets.ModeHTTP
	srv := startServer(t, cfg)
	conn, err := net.DialTimeout("tcp", srv.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	for range 2 {
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("status line %q, %v", line, err)
		}
		for {
			h, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if h == "\r\n" {
				break
			}
		}
		if _, err := br.Discard(len(httpBody)); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Handshakes == 1 && c.Requests == 2 })
	if c.ClientVerify != nil || c.Versions != nil || c.Ciphers != nil || c.Failed != 0 {
		t.Errorf("TLS counts for plain TCP: %+v", c)
	}
}
