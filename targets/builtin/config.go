package builtin

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"

	"github.com/mtlsbench/mtlsbench/pki"
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
// with every default applied.
func withDefaults(cfg targets.Config) (targets.Config, error) {
	c := cfg
	c.ClientCAs = slices.Clone(cfg.ClientCAs)
	c.CipherSuites = slices.Clone(cfg.CipherSuites)
	c.Groups = slices.Clone(cfg.Groups)
	c.Identity.Chain = slices.Clone(cfg.Identity.Chain)
	c.PIDs = slices.Clone(cfg.PIDs)
	c.ChildCommand = slices.Clone(cfg.ChildCommand)

	if len(c.Identity.Chain) == 0 || c.Identity.Chain[0] == nil || c.Identity.Key == nil {
		return targets.Config{}, refuseConfig("the built-in target needs a server identity (Config.Identity: certificate chain and private key); generate one with pki.Generate or load one with pki.LoadDir")
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := c.Identity.Chain[0].PublicKey.(equaler); !ok || !pub.Equal(c.Identity.Key.Public()) {
		return targets.Config{}, refuseConfig("the server private key (%s) does not match its certificate %q (%s)",
			pki.DescribePublicKey(c.Identity.Key.Public()), c.Identity.Chain[0].Subject.CommonName, pki.DescribePublicKey(c.Identity.Chain[0].PublicKey))
	}
	if len(c.ClientCAs) == 0 || slices.Contains(c.ClientCAs, nil) {
		return targets.Config{}, refuseConfig("the built-in target needs Config.ClientCAs, the roots client certificates must chain to (every target requires a client certificate)")
	}

	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	if c.MaxVersion == 0 {
		c.MaxVersion = tls.VersionTLS13
	}
	for _, v := range []uint16{c.MinVersion, c.MaxVersion} {
		if v != tls.VersionTLS12 && v != tls.VersionTLS13 {
			return targets.Config{}, refuseConfig("unsupported TLS version %s (accepted: 1.2, 1.3)", tls.VersionName(v))
		}
	}
	if c.MinVersion > c.MaxVersion {
		return targets.Config{}, refuseConfig("MinVersion %s is above MaxVersion %s", tlsparams.VersionString(c.MinVersion), tlsparams.VersionString(c.MaxVersion))
	}

	if len(cfg.CipherSuitesTLS13) > 0 {
		return targets.Config{}, RefusePinTLS13(tlsparams.SuiteName(cfg.CipherSuitesTLS13[0]))
	}
	if err := checkSuites(c); err != nil {
		return targets.Config{}, err
	}
	if err := checkGroups(c); err != nil {
		return targets.Config{}, err
	}

	switch c.Mode {
	case "":
		c.Mode = targets.ModeHandshake
	case targets.ModeHandshake, targets.ModeHTTP:
	default:
		return targets.Config{}, refuseConfig("unknown mode %q (accepted: %s, %s)", c.Mode, targets.ModeHandshake, targets.ModeHTTP)
	}
	if c.HandshakeDelay < 0 {
		return targets.Config{}, refuseConfig("HandshakeDelay must not be negative, got %s", c.HandshakeDelay)
	}
	if c.HandshakeTimeout < 0 {
		return targets.Config{}, refuseConfig("HandshakeTimeout must not be negative, got %s", c.HandshakeTimeout)
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = targets.DefaultHandshakeTimeout
	}
	if c.Workers < 0 {
		return targets.Config{}, refuseConfig("Workers must not be negative, got %d", c.Workers)
	}
	return c, nil
}

// checkSuites refuses TLS 1.2 suite lists crypto/tls would silently
// ignore or could never negotiate with the server's key, so a case never
// measures a suite other than the one it names.
func checkSuites(c targets.Config) error {
	if c.CipherSuites == nil {
		return nil
	}
	auth := "ecdsa" // ECDSA and Ed25519 keys sign ECDHE_ECDSA suites
	if _, isRSA := c.Identity.Key.Public().(*rsa.PublicKey); isRSA {
		auth = "rsa"
	}
	usable := false
	for _, id := range c.CipherSuites {
		s, ok := tlsparams.SuiteByID(id)
		switch {
		case !ok:
			return refuseConfig("unsupported cipher suite %s (accepted: %s)", tls.CipherSuiteName(id), tlsparams.SuiteNames(tls.VersionTLS12))
		case s.TLS13:
			return RefusePinTLS13(s.Name)
		}
		if s.Auth == auth {
			usable = true
		}
	}
	if !usable && c.MinVersion <= tls.VersionTLS12 {
		return refuseConfig("none of the TLS 1.2 cipher suites can be used with the server's %s key (they need an %s key); accepted for this key: %s",
			pki.DescribePublicKey(c.Identity.Key.Public()), suiteAuthName(auth), suitesForAuth(auth))
	}
	return nil
}

func suiteAuthName(auth string) string {
	if auth == "rsa" {
		return "ECDSA or Ed25519"
	}
	return "RSA"
}

func suitesForAuth(auth string) string {
	var names []string
	for _, s := range tlsparams.Suites() {
		if s.Auth == auth {
			names = append(names, s.Name)
		}
	}
	return strings.Join(names, ", ")
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
