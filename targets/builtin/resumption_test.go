package builtin

import (
	"errors"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/pki"
)

// crypto/tls keeps no session-ID cache and takes no early data: the
// built-in target refuses both, in tlsparams' words, before it listens.
func TestRefusesSessionIDsAndEarlyData(t *testing.T) {
	b := testBundle(t, pki.DefaultKeyType)
	cfg := testConfig(b)
	cfg.SessionIDs = true
	_, err := withDefaults(cfg)
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "the builtin target cannot resume by session ID: Go's crypto/tls resumes only with tickets") {
		t.Errorf("session IDs: %v", err)
	}
	cfg = testConfig(b)
	cfg.MinVersion, cfg.MaxVersion = 0x0304, 0x0304
	cfg.EarlyData = 512
	if _, err := withDefaults(cfg); !errors.As(err, &ce) || !strings.Contains(err.Error(), "neither sends nor accepts TLS 1.3 early data") {
		t.Errorf("early data: %v", err)
	}
}
