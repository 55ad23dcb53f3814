package targets_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
	_ "github.com/mtlsbench/mtlsbench/targets/builtin"
	_ "github.com/mtlsbench/mtlsbench/targets/managed"
)

// TestEveryKindIsRegistered: a program that imports targets/builtin and
// targets/managed (as bench does) can start every kind.
func TestEveryKindIsRegistered(t *testing.T) {
	registered := targets.Kinds()
	for _, k := range targets.KindConstants(t) {
		if !slices.Contains(registered, k) {
			t.Errorf("kind %q is not registered (registered: %v)", k, registered)
		}
	}
}

func TestStartUnknownKind(t *testing.T) {
	_, err := targets.Start(context.Background(), targets.Config{Kind: "envoy"})
	if err == nil || !strings.Contains(err.Error(), `unknown target kind "envoy"`) {
		t.Errorf("Start envoy: %v", err)
	}
	if _, err := targets.Capabilities("envoy"); err == nil || !strings.Contains(err.Error(), `unknown target kind "envoy"`) {
		t.Errorf("Capabilities envoy: %v", err)
	}
}

func TestExternal(t *testing.T) {
	ctx := context.Background()
	tgt, err := targets.Start(ctx, targets.Config{Kind: targets.KindExternal, Addr: "127.0.0.1:8443", PIDs: []int{42}})
	if err != nil {
		t.Fatal(err)
	}
	if tgt.Addr() != "127.0.0.1:8443" || tgt.ServerName() != "127.0.0.1" || !slices.Equal(tgt.PIDs(), []int{42}) {
		t.Errorf("addr %q, server name %q, PIDs %v", tgt.Addr(), tgt.ServerName(), tgt.PIDs())
	}
	if _, err := tgt.Counts(ctx); !errors.Is(err, targets.ErrNoCounts) {
		t.Errorf("Counts: %v, want ErrNoCounts", err)
	}
	if err := tgt.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	named, err := targets.Start(ctx, targets.Config{Kind: targets.KindExternal, Addr: "[::1]:8443", ServerName: "localhost"})
	if err != nil || named.ServerName() != "localhost" {
		t.Errorf("ServerName given: %v, %v", named, err)
	}
	if _, err := targets.Start(ctx, targets.Config{Kind: targets.KindExternal}); err == nil || !strings.Contains(err.Error(), "Config.Addr") {
		t.Errorf("no Addr: %v, want an error naming Config.Addr", err)
	}
	c, err := targets.Capabilities(targets.KindExternal)
	if err != nil || c.Kind != targets.KindExternal || c.ClientVerifyInHandshake || c.CrossCheck != "" {
		t.Errorf("capabilities %+v, %v", c, err)
	}
	if err := c.Check(targets.Config{Mode: targets.ModeHTTP, Workers: 8}, 100); err != nil || !c.TLS.Unconfigured {
		t.Errorf("Check refused what a client can do: %v", err)
	}
}

// TestConfigWithDefaults: the defaults every started target shares are
// applied on a copy, and a config no target can serve is a *ConfigError.
func TestConfigWithDefaults(t *testing.T) {
	b, err := pki.Generate(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := targets.Config{Identity: b.Server, ClientCAs: []*x509.Certificate{b.Root.Cert}, Groups: []tls.CurveID{tls.X25519}}
	got, err := cfg.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.Listen != "127.0.0.1:0" || got.MinVersion != tls.VersionTLS12 || got.MaxVersion != tls.VersionTLS13 ||
		got.Mode != targets.ModeHandshake || got.HandshakeTimeout != targets.DefaultHandshakeTimeout {
		t.Errorf("defaults: %+v", got)
	}
	got.Groups[0] = tls.CurveP256
	if cfg.Groups[0] != tls.X25519 || cfg.Listen != "" {
		t.Error("WithDefaults changed the caller's Config")
	}
	var ce *targets.ConfigError
	for name, bad := range map[string]targets.Config{
		"no client CAs": {Identity: b.Server},
		"TLS 1.1":       {Identity: b.Server, ClientCAs: cfg.ClientCAs, MinVersion: tls.VersionTLS11},
		"RSA suites":    {Identity: b.Server, ClientCAs: cfg.ClientCAs, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
		"a mode":        {Identity: b.Server, ClientCAs: cfg.ClientCAs, Mode: "grpc"},
	} {
		if _, err := bad.WithDefaults(); !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a *targets.ConfigError", name, err)
		}
	}
}
