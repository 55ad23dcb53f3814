//go:build cgo && linux && !noopenssl

package loadgen

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// osslConfigFor is a run of the openssl client against srv with b's PKI.
func osslConfigFor(srv *testServer, b *pki.Bundle, p tlsparams.Params) Config {
	p.Client = tlsparams.ClientOpenSSL
	return Config{
		Addr: srv.addr(), TLS: p, Roots: b.RootPool(), RootCerts: []*x509.Certificate{b.Root.Cert},
		ServerName: "localhost", Identities: b.ClientCertificates(), Concurrency: 2, Count: 10,
	}
}

// The openssl client against crypto/tls: every key type in both versions,
// confirmed, verified, with what the go client records (but no sign
// phase: OpenSSL signs inside the handshake).
func TestOpenSSLEveryKeyTypeBothVersions(t *testing.T) {
	for _, kt := range pki.KeyTypes() {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			t.Run(string(kt)+"/"+versionName(v), func(t *testing.T) {
				b := bundle(t, kt)
				srv := startServer(t, b, serverOpts{})
				res := run(t, osslConfigFor(srv, b, withServerKey(caseParams(v, tls.X25519), kt)))
				if res.OK != 10 || res.Errors != 0 {
					t.Fatalf("ok=%d errors=%v examples=%v", res.OK, res.ErrorsByClass, res.Examples)
				}
				if len(res.Negotiated) != 1 || res.Negotiated[0].ServerKeyType != string(kt) || res.Negotiated[0].TLSVersion != versionName(v) || res.Negotiated[0].Group != "x25519" {
					t.Errorf("negotiated %+v", res.Negotiated)
				}
				if res.Latency["verify"] == nil || res.Latency["handshake"].TotalCount() != 10 {
					t.Errorf("phases missing: %v", keys(res.Latency))
				}
				if res.HandshakeSentMean < 100 || res.HandshakeReceivedMean < 300 {
					t.Errorf("bytes per handshake sent %.0f received %.0f: too small for an mTLS handshake", res.HandshakeSentMean, res.HandshakeReceivedMean)
				}
				if res.Acceptance != "confirmed" || !res.ServerVerified {
					t.Errorf("acceptance %q, server verified %v", res.Acceptance, res.ServerVerified)
				}
				if got := srv.handshakes.Load(); got < 10 {
					t.Errorf("the server counted %d handshakes", got)
				}
			})
		}
	}
}

func TestOpenSSLResumption(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(versionName(v), func(t *testing.T) {
			srv := startServer(t, b, serverOpts{})
			cfg := osslConfigFor(srv, b, withResume(caseParams(v), tlsparams.ResumeTickets))
			cfg.Concurrency, cfg.Count = 3, 200
			res := run(t, cfg)
			if res.Errors != 0 {
				t.Fatalf("errors %v %v", res.ErrorsByClass, res.Examples)
			}
			if res.OK != 200 || float64(res.Resumed)/float64(res.OK) < 0.99 {
				t.Fatalf("ok=%d resumed=%d, want >= 99%% resumed", res.OK, res.Resumed)
			}
			if srv.resumed.Load() < res.Resumed {
				t.Errorf("server saw %d resumptions, client %d", srv.resumed.Load(), res.Resumed)
			}
		})
	}
}

func TestOpenSSLHelloRetryRequestAndRequests(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{groups: []tls.CurveID{tls.CurveP256}, http: true})
	cfg := osslConfigFor(srv, b, caseParams(tls.VersionTLS13, tls.X25519, tls.CurveP256))
	cfg.Requests = 3
	res := run(t, cfg)
	if res.OK != 10 || res.HRR != 10 || res.Requests != 30 {
		t.Fatalf("ok=%d hrr=%d requests=%d errors=%v %v", res.OK, res.HRR, res.Requests, res.ErrorsByClass, res.Examples)
	}
}

// The one thing the go client cannot do against crypto/tls: offer a
// single TLS 1.3 suite; the server (which accepts all three) takes it.
func TestOpenSSLPinsTLS13Suite(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	p := caseParams(tls.VersionTLS13)
	p.Suite, _ = tlsparams.ParseSuite("TLS_AES_256_GCM_SHA384")
	res := run(t, osslConfigFor(srv, b, p))
	if res.OK != 10 || len(res.Negotiated) != 1 || res.Negotiated[0].CipherSuite != "TLS_AES_256_GCM_SHA384" {
		t.Fatalf("ok=%d negotiated %+v errors %v", res.OK, res.Negotiated, res.Examples)
	}
}

func TestOpenSSLFailureClasses(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	other := bundle(t, pki.Ed25519)
	tests := []struct {
		name      string
		version   uint16
		server    serverOpts
		client    func(*Config)
		want      string
		wantInMsg string
	}{
		{"tls1.3 client cert from another CA", tls.VersionTLS13, serverOpts{clientCAs: other.RootPool()}, nil, "unknown_ca", "after the client's Finished"},
		{"tls1.2 client cert from another CA", tls.VersionTLS12, serverOpts{clientCAs: other.RootPool()}, nil, "unknown_ca", "unknown_ca"},
		{"server cert from a CA the client does not trust", tls.VersionTLS13, serverOpts{}, func(c *Config) {
			c.Roots, c.RootCerts = other.RootPool(), []*x509.Certificate{other.Root.Cert}
		}, "server_cert_invalid", "did not verify"},
		{"wrong server name", tls.VersionTLS13, serverOpts{}, func(c *Config) {
			c.ServerName = "elsewhere.example"
		}, "server_cert_invalid", "did not verify"},
		{"group other than expected", tls.VersionTLS13, serverOpts{groups: []tls.CurveID{tls.CurveP256}}, func(c *Config) {
			c.TLS.Group, _ = tlsparams.GroupByID(tls.X25519)
			c.TLS.KeyShare, _ = tlsparams.GroupByID(tls.CurveP256)
		}, "param_mismatch", "expected"},
		{"server key type other than expected", tls.VersionTLS13, serverOpts{}, func(c *Config) {
			c.TLS.ServerKey = pki.RSA2048
		}, "param_mismatch", "server key ecdsa-p256, expected rsa2048"},
		{"version the server refuses", tls.VersionTLS12, serverOpts{min: tls.VersionTLS13}, nil, "protocol_version", "protocol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, b, tc.server)
			cfg := osslConfigFor(srv, b, caseParams(tc.version))
			cfg.Count = 6
			if tc.client != nil {
				tc.client(&cfg)
			}
			res := run(t, cfg)
			if res.OK != 0 || res.ErrorsByClass[tc.want] != 6 {
				t.Fatalf("ok=%d errors=%v, want 6 %s; examples %v", res.OK, res.ErrorsByClass, tc.want, res.Examples)
			}
			if msg := res.Examples[tc.want]; !strings.Contains(msg, tc.wantInMsg) {
				t.Errorf("example %q lacks %q", msg, tc.wantInMsg)
			}
		})
	}
}

// What the openssl client cannot run is refused before any connection.
func TestOpenSSLRefusals(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	for name, tc := range map[string]struct {
		change func(*Config)
		want   string
	}{
		"early data with requests": {func(c *Config) { c.TLS.EarlyData, c.TLS.Resume, c.Requests = 512, 1, 1 }, "filler"},
		"roots as a pool only":     {func(c *Config) { c.RootCerts = nil }, "RootCerts"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := osslConfigFor(srv, b, caseParams(tls.VersionTLS13))
			tc.change(&cfg)
			_, err := Run(t.Context(), cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a ConfigError naming %q", err, tc.want)
			}
		})
	}
	// The go client is refused what only the openssl client does.
	cfg := osslConfigFor(srv, b, withResume(caseParams(tls.VersionTLS12), tlsparams.ResumeTickets))
	cfg.TLS.Client, cfg.TLS.ResumeBy = tlsparams.ClientGo, tlsparams.ResumeBySessionID
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "openssl client") {
		t.Fatalf("go client with session IDs: %v", err)
	}
}

func TestOpenSSLCapabilities(t *testing.T) {
	c := StackOpenSSL.Capabilities()
	if !strings.HasPrefix(c.Library, "OpenSSL ") || !c.Speaks(tlsparams.TLS13) || !c.Has(tlsparams.PinTLS13Suite) || !c.Has(tlsparams.EarlyData) {
		t.Fatalf("capabilities %+v", c)
	}
	x25519, _ := tlsparams.ParseGroup("x25519")
	if !c.Offers(x25519) {
		t.Errorf("x25519 not offered: %v", c.Groups)
	}
	if err := StackOpenSSL.Available(); err != nil {
		t.Errorf("Available: %v", err)
	}
}

// BenchmarkConnectionOpenSSL is BenchmarkConnection's engine side with the
// openssl client: one worker's connections against the pinned built-in
// target, Go allocations and time per connection.
func BenchmarkConnectionOpenSSL(b *testing.B) {
	bundle := bundle(b, pki.ECDSAP256)
	addr := startPinnedTarget(b, bundle)
	for _, tc := range vsBareCases {
		b.Run(tc.name, func(b *testing.B) {
			p := caseParams(tc.version, tls.X25519)
			p.Client = tlsparams.ClientOpenSSL
			if tc.resume {
				p.Resume = tlsparams.ResumeTickets
			}
			cfg := Config{
				Addr: addr, TLS: p, Roots: bundle.RootPool(), RootCerts: []*x509.Certificate{bundle.Root.Cert},
				ServerName: "localhost", Identities: bundle.ClientCertificates()[:1],
			}.withDefaults()
			target, err := resolveTarget(cfg.Addr, cfg.SourceAddrs)
			if err != nil {
				b.Fatal(err)
			}
			e := newEngine(cfg, target)
			if err := e.openOpenSSL(); err != nil {
				b.Fatal(err)
			}
			defer e.closeOpenSSL(nil)
			e.t0 = time.Now()
			e.wsOff.Store(0)
			w := e.addWorker()
			w.connection(time.Time{}) // priming
			b.ReportAllocs()
			for b.Loop() {
				w.connection(time.Time{})
			}
			if n := w.failed.Load(); n != 0 {
				b.Fatalf("%d failed: %v", n, w.examples)
			}
			if tc.resume && w.resumed != w.ok.Load() {
				b.Fatalf("resumed %d of %d", w.resumed, w.ok.Load())
			}
		})
	}
}

// The openssl client's late workers adopt the run's first session, as the
// go client's do (TestLateWorkersShareTheSession).
func TestOpenSSLLateWorkersShareTheSession(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cfg := osslConfigFor(srv, b, withResume(caseParams(v), tlsparams.ResumeTickets))
		cfg.Count, cfg.Concurrency, cfg.RampUp, cfg.Duration = 0, 8, 480*time.Millisecond, time.Second
		res := run(t, cfg)
		if res.Errors != 0 {
			t.Fatalf("errors %v", res.Examples)
		}
		if res.Primed >= 8 {
			t.Errorf("TLS %s: %d priming handshakes for 8 workers: the late ones should have resumed the first session", versionName(v), res.Primed)
		}
		if res.Resumed != res.OK || res.OK == 0 {
			t.Errorf("TLS %s: resumed %d of %d", versionName(v), res.Resumed, res.OK)
		}
	}
}

// HTTP/2 on the openssl client: ALPN h2 offered and checked, every
// request answered over HTTP/2, streams in flight; a server without h2 is
// a param_mismatch, as for the go client.
func TestOpenSSLHTTP2(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startH2Server(t, b, h2Opts{hold: 2 * time.Millisecond})
	cfg := h2Config(b, srv.ln.Addr().String(), 8, 4)
	cfg.TLS.Client, cfg.RootCerts = tlsparams.ClientOpenSSL, []*x509.Certificate{b.Root.Cert}
	res := run(t, cfg)
	if res.OK != 10 || res.Errors != 0 || res.Requests != 80 {
		t.Fatalf("ok=%d requests=%d errors=%v %v", res.OK, res.Requests, res.ErrorsByClass, res.Examples)
	}
	if got := srv.requests.Load(); got < 80 || srv.h2.Load() != got {
		t.Errorf("server answered %d requests, %d over HTTP/2; want at least 80, all HTTP/2", got, srv.h2.Load())
	}
	if srv.maxInFlight.Load() <= 2 {
		t.Errorf("at most %d requests in flight at the server with 4 streams a connection", srv.maxInFlight.Load())
	}

	plain := startH2Server(t, b, h2Opts{alpn: []string{}})
	cfg = h2Config(b, plain.ln.Addr().String(), 1, 1)
	cfg.TLS.Client, cfg.RootCerts = tlsparams.ClientOpenSSL, []*x509.Certificate{b.Root.Cert}
	cfg.Count = 4
	res = run(t, cfg)
	if res.OK != 0 || !strings.Contains(res.Examples["param_mismatch"], `application protocol "" (ALPN), expected "h2"`) {
		t.Fatalf("no h2 at the server: ok=%d errors=%v %v", res.OK, res.ErrorsByClass, res.Examples)
	}
}
