package targets_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

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
