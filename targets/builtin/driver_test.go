package builtin

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

func TestCapabilities(t *testing.T) {
	c, err := targets.Capabilities(targets.KindBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.Has(tlsparams.PinTLS13Suite) || len(c.TLS.MissingGroups()) != 0 || c.TLS.Name != "the builtin target" {
		t.Errorf("builtin: %+v", c)
	}
	if zero, err := targets.Capabilities(""); err != nil || zero.Kind != targets.KindBuiltin {
		t.Errorf("the zero kind: %+v, %v; want the builtin target's", zero, err)
	}
}

// TestStart: targets.Start runs the built-in target in a child process, or
// in this one with InProcess, and refuses a bad config with a *ConfigError
// either way.
func TestStart(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	for _, inProcess := range []bool{false, true} {
		cfg := testConfig(b)
		cfg.InProcess = inProcess
		cfg.ChildCommand = childCommand("serve")
		tgt, err := targets.Start(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		switch tgt.(type) {
		case *Server:
			if !inProcess {
				t.Errorf("InProcess false started a %T", tgt)
			}
		case *Process:
			if inProcess {
				t.Errorf("InProcess started a %T", tgt)
			}
		default:
			t.Errorf("started a %T", tgt)
		}
		if _, err := dial(t, tgt.Addr(), clientConfig(b, 0, nil)); err != nil {
			t.Errorf("in process %v: %v", inProcess, err)
		}
		if err := tgt.Close(); err != nil {
			t.Error(err)
		}

		cfg.CipherSuitesTLS13 = []uint16{tls.TLS_AES_128_GCM_SHA256}
		if tgt, err := targets.Start(t.Context(), cfg); !errors.As(err, new(*ConfigError)) || tgt != nil {
			t.Errorf("in process %v: bad config gave %v, %v; want a nil Target and a *ConfigError", inProcess, tgt, err)
		}
	}
	cfg := testConfig(b)
	if _, err := targets.Start(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "no command to start the child") {
		t.Errorf("no ChildCommand: %v", err)
	}
}
