package targets

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// ConfigError is a Config no started target can serve as given: input to
// fix, found before anything listens or starts.
type ConfigError struct {
	Reason string // what is wrong and what would work
}

func (e *ConfigError) Error() string { return "targets: " + e.Reason }

func refuse(format string, args ...any) *ConfigError {
	return &ConfigError{Reason: fmt.Sprintf(format, args...)}
}

// WithDefaults checks what every target mtlsbench starts needs of cfg and
// returns a copy (its slices cloned; the caller's Config is never changed)
// with the defaults they share applied: Listen, MinVersion, MaxVersion,
// Mode, Auth and HandshakeTimeout, as each field documents. It refuses,
// with a *ConfigError: no server identity or a key that does not match
// it, an unknown auth, no client CAs for mutual TLS, a TLS version other than 1.2 and 1.3, MinVersion above
// MaxVersion, an unknown mode, negative durations or workers, and a TLS
// 1.2 suite list with an unknown suite or none that the server's key can
// sign. What only one kind can or cannot do is that kind's to check.
func (cfg Config) WithDefaults() (Config, error) {
	c := cfg
	c.ClientCAs = slices.Clone(cfg.ClientCAs)
	c.CRLs = slices.Clone(cfg.CRLs)
	c.CipherSuites = slices.Clone(cfg.CipherSuites)
	c.CipherSuitesTLS13 = slices.Clone(cfg.CipherSuitesTLS13)
	c.Groups = slices.Clone(cfg.Groups)
	c.Identity.Chain = slices.Clone(cfg.Identity.Chain)
	c.PIDs = slices.Clone(cfg.PIDs)
	c.ChildCommand = slices.Clone(cfg.ChildCommand)

	if len(c.Identity.Chain) == 0 || c.Identity.Chain[0] == nil || c.Identity.Key == nil {
		return Config{}, refuse("the server needs an identity (Config.Identity: certificate chain and private key); generate one with pki.Generate or load one with pki.LoadDir")
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := c.Identity.Chain[0].PublicKey.(equaler); !ok || !pub.Equal(c.Identity.Key.Public()) {
		return Config{}, refuse("the server private key (%s) does not match its certificate %q (%s)",
			pki.DescribePublicKey(c.Identity.Key.Public()), c.Identity.Chain[0].Subject.CommonName, pki.DescribePublicKey(c.Identity.Chain[0].PublicKey))
	}
	switch c.Auth {
	case "":
		c.Auth = tlsparams.AuthMutual
	case tlsparams.AuthMutual, tlsparams.AuthServer, tlsparams.AuthNone:
	default:
		return Config{}, refuse("unknown auth %q (accepted: %s)", c.Auth, tlsparams.AuthNames)
	}
	if c.Auth == tlsparams.AuthMutual && (len(c.ClientCAs) == 0 || slices.Contains(c.ClientCAs, nil)) {
		return Config{}, refuse("the server needs Config.ClientCAs, the roots client certificates must chain to (mutual TLS: the target requires and verifies a client certificate)")
	}
	if slices.Contains(c.CRLs, nil) {
		return Config{}, refuse("Config.CRLs holds a nil revocation list")
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
			return Config{}, refuse("unsupported TLS version %s (accepted: 1.2, 1.3)", tls.VersionName(v))
		}
	}
	if c.MinVersion > c.MaxVersion {
		return Config{}, refuse("MinVersion %s is above MaxVersion %s", tlsparams.VersionString(c.MinVersion), tlsparams.VersionString(c.MaxVersion))
	}
	if err := checkSuites(c); err != nil {
		return Config{}, err
	}
	switch c.Mode {
	case "":
		c.Mode = ModeHandshake
	case ModeHandshake, ModeHTTP, ModeHTTP2:
	default:
		return Config{}, refuse("unknown mode %q (accepted: %s, %s, %s)", c.Mode, ModeHandshake, ModeHTTP, ModeHTTP2)
	}
	if c.HandshakeDelay < 0 {
		return Config{}, refuse("HandshakeDelay must not be negative, got %s", c.HandshakeDelay)
	}
	if c.HandshakeTimeout < 0 {
		return Config{}, refuse("HandshakeTimeout must not be negative, got %s", c.HandshakeTimeout)
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.Workers < 0 {
		return Config{}, refuse("Workers must not be negative, got %d", c.Workers)
	}
	if c.SessionIDs && c.DisableTickets {
		return Config{}, refuse("SessionIDs (resumption by session ID: a session cache on) and DisableTickets (no resumption at all) contradict each other; set one")
	}
	if c.EarlyData < 0 || c.EarlyData > tlsparams.MaxEarlyData {
		return Config{}, refuse("EarlyData %d is out of range: 0 (none) to %d bytes", c.EarlyData, tlsparams.MaxEarlyData)
	}
	if c.EarlyData > 0 && c.MaxVersion != tls.VersionTLS13 {
		return Config{}, refuse("EarlyData is TLS 1.3 early data, and MaxVersion is %s", tlsparams.VersionString(c.MaxVersion))
	}
	return c, nil
}

// checkSuites refuses TLS 1.2 suite lists a server would silently ignore
// or could never negotiate with its key, so a case never measures a suite
// other than the one it names. A TLS 1.3 suite here is refused too: TLS
// 1.3 suites go in CipherSuitesTLS13.
func checkSuites(c Config) error {
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
			return refuse("unsupported cipher suite %s (accepted: %s)", tlsparams.SuiteName(id), tlsparams.SuiteNames(tls.VersionTLS12))
		case s.TLS13:
			return refuse("%s is a TLS 1.3 suite: CipherSuites holds TLS 1.2 suites, CipherSuitesTLS13 the TLS 1.3 ones", s.Name)
		}
		if s.Auth == auth {
			usable = true
		}
	}
	if !usable && c.MinVersion <= tls.VersionTLS12 {
		return refuse("none of the TLS 1.2 cipher suites can be used with the server's %s key (they need an %s key); accepted for this key: %s",
			pki.DescribePublicKey(c.Identity.Key.Public()), otherAuth(auth), suitesForAuth(auth))
	}
	return nil
}

func otherAuth(auth string) string {
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
