package builtin

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// ConfigError is a Config the built-in target refuses (before
// listening or starting a child): bad input to fix, not a failed run.
type ConfigError struct {
	Reason string // what is wrong and what would work
	// Err is the refusal behind Reason, when there is one (a
	// *tlsparams.UnsupportedError: what crypto/tls cannot do).
	Err error
}

func (e *ConfigError) Error() string { return "builtin: " + e.Reason }

func (e *ConfigError) Unwrap() error { return e.Err }

// Capabilities are the built-in target's TLS capabilities: Go's crypto/tls.
func Capabilities() tlsparams.Capabilities { return tlsparams.GoTLS("the builtin target") }

// RefusePinTLS13 is the built-in target's refusal of TLS 1.3 suite name,
// worded as every refusal of a capability is (tlsparams).
func RefusePinTLS13(name string) *ConfigError {
	err := Capabilities().Refuse(tlsparams.PinTLS13Suite, "pin TLS 1.3 suite "+name,
		"use an OpenSSL-based target (nginx, haproxy, openssl), which can, or leave the TLS 1.3 suite unset")
	return &ConfigError{Reason: err.Error(), Err: err}
}

func refuseConfig(format string, args ...any) error {
	return &ConfigError{Reason: fmt.Sprintf(format, args...)}
}

// withDefaults validates cfg for the built-in server and returns a copy
// with every default applied: those every target shares
// (targets.Config.WithDefaults), after refusing any TLS 1.3 suite, which
// crypto/tls cannot pin, and then checking the groups.
func withDefaults(cfg targets.Config) (targets.Config, error) {
	if len(cfg.CipherSuitesTLS13) > 0 {
		return targets.Config{}, RefusePinTLS13(tlsparams.SuiteName(cfg.CipherSuitesTLS13[0]))
	}
	for _, id := range cfg.CipherSuites {
		if s, ok := tlsparams.SuiteByID(id); ok && s.TLS13 {
			return targets.Config{}, RefusePinTLS13(s.Name)
		}
	}
	for _, f := range []struct {
		asked bool
		f     tlsparams.Feature
	}{{cfg.SessionIDs, tlsparams.SessionIDResumption}, {cfg.EarlyData > 0, tlsparams.EarlyData}} {
		if f.asked {
			err := Capabilities().Refuse(f.f, string(f.f), "use --target openssl (s_server), which can")
			return targets.Config{}, &ConfigError{Reason: err.Error(), Err: err}
		}
	}
	c, err := cfg.WithDefaults()
	if err != nil {
		var ce *targets.ConfigError
		if errors.As(err, &ce) {
			return targets.Config{}, &ConfigError{Reason: ce.Reason, Err: err}
		}
		return targets.Config{}, err
	}
	if err := checkGroups(c); err != nil {
		return targets.Config{}, err
	}
	if err := checkCRLs(c.CRLs, time.Now()); err != nil {
		return targets.Config{}, err
	}
	return c, nil
}

// checkGroups refuses unknown groups and a TLS 1.2-only server with
// only post-quantum groups (ML-KEM hybrids exist in TLS 1.3 only).
func checkGroups(c targets.Config) error {
	if c.Groups == nil {
		return nil
	}
	if len(c.Groups) == 0 {
		return refuseConfig("Groups is empty; leave it nil for the server's defaults")
	}
	classic := false
	for _, id := range c.Groups {
		g, ok := tlsparams.GroupByID(id)
		if !ok {
			return refuseConfig("unsupported group %s (accepted: %s)", id, tlsparams.GroupNames())
		}
		if !g.PostQuantum {
			classic = true
		}
	}
	if !classic && c.MinVersion == tls.VersionTLS12 && c.MaxVersion == tls.VersionTLS12 {
		return refuseConfig("post-quantum groups need TLS 1.3, but the server accepts only TLS 1.2; add a classic group (x25519, p256, p384, p521) or allow TLS 1.3")
	}
	return nil
}
