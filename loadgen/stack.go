package loadgen

import (
	"crypto/tls"

	"github.com/mtlsbench/mtlsbench/loadgen/ossl"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Stack names a TLS client implementation the engine drives. Its
// Capabilities are what the case may ask of it; tlsparams.Check compares
// them with the target's before any load. Each has its own configuration
// built from a case's tlsparams.Params (goConfig, osslConfig), while
// pacing, workers, timing, error classes and recording stay the
// engine's.
type Stack string

const (
	// StackGo is Go's crypto/tls.
	StackGo Stack = "go"
	// StackOpenSSL is the system's libssl through package loadgen/ossl.
	StackOpenSSL Stack = "openssl"
)

// StackOf is the stack of a case's client parameter.
func StackOf(c tlsparams.Client) Stack {
	if c == tlsparams.ClientOpenSSL {
		return StackOpenSSL
	}
	return StackGo
}

// Available reports nil, or why this binary cannot run the stack (the
// openssl client needs cgo and libssl's headers at build time).
func (s Stack) Available() error {
	if s == StackOpenSSL {
		return ossl.Available()
	}
	return nil
}

// OpenSSLVersion is the libssl the openssl client runs with, as it names
// itself ("OpenSSL 3.0.19 27 Jan 2026"); "" in a binary without it.
func OpenSSLVersion() string { return ossl.Version() }

// Capabilities are what the stack can be made to do. The openssl client's
// depend on the libssl found at run time (its groups are probed).
func (s Stack) Capabilities() tlsparams.Capabilities {
	if s == StackOpenSSL {
		return opensslCapabilities()
	}
	return tlsparams.GoTLS("the " + string(s) + " client")
}

// opensslCapabilities: TLS 1.2 and 1.3, the groups the libssl knows, a
// pinned TLS 1.3 suite, session IDs, early data and psk_ke; its first key
// share goes to the first group offered.
func opensslCapabilities() tlsparams.Capabilities {
	c := tlsparams.Capabilities{Name: "the openssl client", Library: ossl.Version()}
	if err := ossl.Available(); err != nil {
		c.Lacks = map[tlsparams.Feature]string{}
		for _, f := range []tlsparams.Feature{tlsparams.PinTLS13Suite, tlsparams.SessionIDResumption, tlsparams.EarlyData, tlsparams.PSKKE} {
			c.Lacks[f] = err.Error()
		}
		return c
	}
	c.Versions = []tlsparams.Version{tlsparams.TLS12, tlsparams.TLS13}
	for _, g := range tlsparams.Groups() {
		if ossl.SupportsGroup(g.OpenSSL) {
			c.Groups = append(c.Groups, g)
		}
	}
	c.Features = []tlsparams.Feature{tlsparams.PinTLS13Suite, tlsparams.SessionIDResumption, tlsparams.EarlyData, tlsparams.PSKKE}
	return c
}

// goConfig is the crypto/tls client configuration for a run: the case's
// parameters (one version, its groups as tlsparams.Params.Offered lists
// them, a pinned TLS 1.2 suite; crypto/tls cannot pin a TLS 1.3 one, which
// Stack.Capabilities says), the roots and the server name. Workers clone
// it and add their own session cache, certificate and verification.
func goConfig(c *Config) *tls.Config {
	p := &c.TLS
	cfg := &tls.Config{
		RootCAs:    c.Roots,
		ServerName: c.ServerName,
		MinVersion: uint16(p.Version),
		MaxVersion: uint16(p.Version),
	}
	if p.Group.ID != 0 {
		// Offering exactly the case's groups: a post-quantum share is
		// sent only when the case asks for it (it costs the client
		// ~40-125 µs).
		cfg.CurvePreferences = p.Offered()
	}
	if !p.Suite.IsZero() && !p.Suite.TLS13 {
		cfg.CipherSuites = []uint16{p.Suite.ID}
	}
	return cfg
}

// expectation is what every handshake must negotiate, from the case's
// parameters; zero fields accept anything.
type expectation struct {
	version   uint16
	suite     uint16
	group     tls.CurveID
	serverKey pki.KeyType
	hrr       hrrExpectation
	alpn      string // the application protocol (Config.HTTP2: "h2")
	// pskKE: a TLS 1.3 resumption must be psk_ke (no key share, so no
	// group); a full handshake still negotiates the group.
	pskKE bool
}

// hrrExpectation says whether a HelloRetryRequest must, may or must not
// happen.
type hrrExpectation int

const (
	hrrAny hrrExpectation = iota
	hrrNever
	hrrAlways
)

func expect(p tlsparams.Params) expectation {
	ex := expectation{version: uint16(p.Version), suite: p.Suite.ID, group: p.Group.ID, serverKey: p.ServerKey, pskKE: p.PSKMode.KE()}
	switch {
	case p.Group.ID == 0:
	case p.ExpectsHRR():
		ex.hrr = hrrAlways
	default:
		ex.hrr = hrrNever
	}
	return ex
}
