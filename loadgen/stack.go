package loadgen

import (
	"crypto/tls"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Stack names a TLS client implementation the engine drives. Its
// Capabilities are what the case may ask of it; tlsparams.Check compares
// them with the target's before any load. Go's crypto/tls is the only
// stack so far: a second one is one more value here, with its own
// Capabilities and its own configuration built from a case's
// tlsparams.Params (as goConfig does for Go), while pacing, workers,
// timing, error classes and recording stay the engine's.
type Stack string

// StackGo is Go's crypto/tls.
const StackGo Stack = "go"

// Capabilities are what the stack can be made to do.
func (s Stack) Capabilities() tlsparams.Capabilities {
	return tlsparams.GoTLS("the " + string(s) + " client")
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
	ex := expectation{version: uint16(p.Version), suite: p.Suite.ID, group: p.Group.ID, serverKey: p.ServerKey}
	switch {
	case p.Group.ID == 0:
	case p.ExpectsHRR():
		ex.hrr = hrrAlways
	default:
		ex.hrr = hrrNever
	}
	return ex
}
