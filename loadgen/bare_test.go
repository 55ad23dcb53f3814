package loadgen

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// The bare loop does the same handshakes as the engine: full ones verify
// the server (and present the client certificate the server requires),
// resumed ones resume, and in TLS 1.3 it returns after the server's ticket
// instead of waiting on a server that says nothing more.
func TestRunBare(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, resume := range []bool{false, true} {
			srv := startServer(t, b, serverOpts{})
			res, err := RunBare(context.Background(), BareConfig{
				Addr: srv.addr(), TLS: bareClientConfig(b, v, tls.X25519), Identity: b.ClientCertificates()[0],
				Resume: resume, Concurrency: 3, Count: 30,
			})
			if err != nil {
				t.Fatalf("TLS %s resume %v: %v", versionName(v), resume, err)
			}
			want := int64(0)
			if resume {
				want = res.Handshakes
			}
			if res.Handshakes < 30 || res.Resumed != want {
				t.Errorf("TLS %s resume %v: %d handshakes, %d resumed", versionName(v), resume, res.Handshakes, res.Resumed)
			}
			if srv.handshakes.Load() < res.Handshakes {
				t.Errorf("the server completed %d handshakes, the bare loop counted %d", srv.handshakes.Load(), res.Handshakes)
			}
		}
	}
	// A server certificate the client does not trust stops it.
	srv := startServer(t, b, serverOpts{})
	cfg := bareClientConfig(b, tls.VersionTLS13)
	cfg.RootCAs = bundle(t, pki.Ed25519).RootPool()
	if _, err := RunBare(context.Background(), BareConfig{Addr: srv.addr(), TLS: cfg, Identity: b.ClientCertificates()[0], Duration: 5 * time.Second}); err == nil {
		t.Error("no error with an untrusted server certificate")
	}
}
