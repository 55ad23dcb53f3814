package loadgen

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

func withAuth(p tlsparams.Params, a tlsparams.Auth) tlsparams.Params {
	p.Auth = a
	return p
}

// Each auth against the server it asks for succeeds; against the other
// kind of server it is a param_mismatch, never a silent success: a server
// that asks for a certificate in a one-way case, or one that does not in
// a mutual case.
func TestAuthIsChecked(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	mutualSrv := startServer(t, b, serverOpts{})
	oneWaySrv := startServer(t, b, serverOpts{noClientCert: true})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, tt := range []struct {
			name     string
			auth     tlsparams.Auth
			srv      *testServer
			mismatch string // "" when every handshake must succeed
		}{
			{"mutual", tlsparams.AuthMutual, mutualSrv, ""},
			{"zero is mutual", "", mutualSrv, ""},
			{"server", tlsparams.AuthServer, oneWaySrv, ""},
			{"server asked for a certificate", tlsparams.AuthServer, mutualSrv, "requested a client certificate"},
			{"mutual not asked", tlsparams.AuthMutual, oneWaySrv, "did not request a client certificate"},
		} {
			t.Run(versionName(v)+"/"+tt.name, func(t *testing.T) {
				res := run(t, Config{
					Addr: tt.srv.addr(), TLS: withAuth(caseParams(v), tt.auth), Roots: b.RootPool(), ServerName: "localhost",
					Identities: b.ClientCertificates(), Concurrency: 2, Count: 8,
				})
				if tt.mismatch == "" {
					if res.OK != 8 || res.Errors != 0 {
						t.Fatalf("ok=%d errors=%v %v", res.OK, res.ErrorsByClass, res.Examples)
					}
					if res.Acceptance != results.AcceptanceConfirmed || !res.ServerVerified {
						t.Errorf("acceptance %q, server verified %v", res.Acceptance, res.ServerVerified)
					}
					return
				}
				if res.OK != 0 || res.ErrorsByClass["param_mismatch"] == 0 || !strings.Contains(res.Examples["param_mismatch"], tt.mismatch) {
					t.Fatalf("ok=%d errors=%v %v, want param_mismatch %q", res.OK, res.ErrorsByClass, res.Examples, tt.mismatch)
				}
			})
		}
	}
}

// One-way TLS needs no client identity; its handshakes send fewer bytes
// than mutual ones by at least the client's certificate.
func TestServerAuthSendsNoCertificate(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	mutual := run(t, Config{
		Addr: startServer(t, b, serverOpts{}).addr(), TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost",
		Identities: b.ClientCertificates(), Concurrency: 1, Count: 5,
	})
	oneWay := run(t, Config{
		Addr: startServer(t, b, serverOpts{noClientCert: true}).addr(), TLS: withAuth(caseParams(tls.VersionTLS13), tlsparams.AuthServer),
		Roots: b.RootPool(), ServerName: "localhost", Concurrency: 1, Count: 5,
	})
	if mutual.OK != 5 || oneWay.OK != 5 {
		t.Fatalf("ok %d and %d: %v %v", mutual.OK, oneWay.OK, mutual.Examples, oneWay.Examples)
	}
	cert := float64(len(b.ClientCertificates()[0].Certificate[0]))
	if d := mutual.HandshakeSentMean - oneWay.HandshakeSentMean; d < cert {
		t.Errorf("mutual sends %.0f bytes per handshake, one-way %.0f: %.0f more, less than the %.0f-byte certificate",
			mutual.HandshakeSentMean, oneWay.HandshakeSentMean, d, cert)
	}
	if _, err := Run(t.Context(), Config{Addr: "127.0.0.1:1", TLS: caseParams(tls.VersionTLS13), ServerName: "localhost", Count: 1}); !IsConfigError(err) {
		t.Errorf("mutual without identities: %v, want a ConfigError", err)
	}
}

// Plain TCP: connections and requests with no TLS at all, no handshake
// phase and no handshake bytes; the time series has the connection's
// latency.
func TestPlainTCP(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	for _, requests := range []int{0, 3} {
		srv := startServer(t, b, serverOpts{plain: true, http: requests > 0})
		res := run(t, Config{
			Addr: srv.addr(), TLS: withAuth(caseParams(tls.VersionTLS13), tlsparams.AuthNone), ServerName: "localhost",
			Concurrency: 2, Count: 10, Requests: requests,
		})
		if res.OK != 10 || res.Errors != 0 || res.Requests != int64(10*requests) {
			t.Fatalf("requests %d: ok=%d requests=%d errors=%v %v", requests, res.OK, res.Requests, res.ErrorsByClass, res.Examples)
		}
		if _, ok := res.Latency["handshake"]; ok && res.Latency["handshake"].TotalCount() > 0 {
			t.Errorf("a handshake phase without TLS")
		}
		if res.Latency["connect"].TotalCount() != 10 || res.Latency["total"].TotalCount() != 10 {
			t.Errorf("connect %d, total %d recorded", res.Latency["connect"].TotalCount(), res.Latency["total"].TotalCount())
		}
		if res.HandshakeSentMean != 0 || res.HandshakeReceivedMean != 0 || res.Negotiated == nil || len(res.Negotiated) != 0 || res.Resumed != 0 {
			t.Errorf("TLS figures without TLS: bytes %v/%v, negotiated %v, resumed %d", res.HandshakeSentMean, res.HandshakeReceivedMean, res.Negotiated, res.Resumed)
		}
		if res.Acceptance != results.AcceptanceNone || res.ServerVerified {
			t.Errorf("acceptance %q, server verified %v", res.Acceptance, res.ServerVerified)
		}
		// The server counts on its own goroutine, maybe after the client
		// has closed.
		deadline := time.Now().Add(5 * time.Second)
		for srv.handshakes.Load() < 10 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := srv.handshakes.Load(); n < 10 {
			t.Errorf("the server saw %d connections", n)
		}
	}
}
