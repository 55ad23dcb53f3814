package builtin

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

func TestConfigChecks(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	rsa := testBundle(t, pki.RSA2048)
	for _, tc := range []struct {
		name   string
		change func(*targets.Config)
		want   string
	}{
		{"no identity", func(c *targets.Config) { c.Identity = pki.Identity{} }, "needs an identity"},
		{"key mismatch", func(c *targets.Config) { c.Identity.Key = rsa.Server.Key }, "does not match"},
		{"no client CAs", func(c *targets.Config) { c.ClientCAs = nil }, "ClientCAs"},
		{"TLS 1.3 suites", func(c *targets.Config) { c.CipherSuitesTLS13 = []uint16{tls.TLS_AES_128_GCM_SHA256} }, "OpenSSL-based target (nginx, haproxy, openssl)"},
		{"TLS 1.3 suite as TLS 1.2", func(c *targets.Config) { c.CipherSuites = []uint16{tls.TLS_AES_128_GCM_SHA256} }, "cannot pin TLS 1.3 suite TLS_AES_128_GCM_SHA256"},
		{"unknown suite", func(c *targets.Config) { c.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256} }, "unsupported cipher suite TLS_RSA_WITH_AES_128_GCM_SHA256"},
		{"RSA suites with an ECDSA key", func(c *targets.Config) { c.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256} }, "server's ecdsa-p256 key (they need an RSA key); accepted for this key: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "},
		{"unknown group", func(c *targets.Config) { c.Groups = []tls.CurveID{42} }, "unsupported group"},
		{"PQ groups with TLS 1.2 only", func(c *targets.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.Groups = []tls.CurveID{tls.X25519MLKEM768}
		}, "need TLS 1.3"},
		{"TLS 1.1", func(c *targets.Config) { c.MinVersion = tls.VersionTLS11 }, "accepted: 1.2, 1.3"},
		{"min above max", func(c *targets.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS13, tls.VersionTLS12 }, "above MaxVersion"},
		{"bad mode", func(c *targets.Config) { c.Mode = "echo" }, `unknown mode "echo"`},
		{"negative delay", func(c *targets.Config) { c.HandshakeDelay = -1 }, "HandshakeDelay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(b)
			tc.change(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "builtin: ") {
				t.Fatalf("New error = %v, want a builtin: error containing %q", err, tc.want)
			}
			if _, ok := errors.AsType[*ConfigError](err); !ok {
				t.Errorf("New error is a %T, want *ConfigError", err)
			}
		})
	}
}

func TestDefaultsOnACopy(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.Groups = []tls.CurveID{tls.X25519}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != "" || cfg.Listen != "" || cfg.HandshakeTimeout != 0 {
		t.Errorf("New modified the caller's Config: %+v", cfg)
	}
	cfg.Groups[0] = tls.CurveP521
	got := srv.Config()
	if got.Groups[0] != tls.X25519 {
		t.Error("the server shares the caller's Groups slice")
	}
	if got.Mode != targets.ModeHandshake || got.Listen != "127.0.0.1:0" || got.HandshakeTimeout != targets.DefaultHandshakeTimeout ||
		got.MinVersion != tls.VersionTLS12 || got.MaxVersion != tls.VersionTLS13 {
		t.Errorf("defaults not applied: %+v", got)
	}
	if srv.Addr() != "" || srv.PIDs() != nil || srv.ServerName() != "localhost" {
		t.Errorf("before Start: Addr %q, PIDs %v, ServerName %q", srv.Addr(), srv.PIDs(), srv.ServerName())
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close before Start: %v", err)
	}
	if err := srv.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}
