package loadgen

import (
	"crypto"
	"crypto/tls"
	"fmt"

	"github.com/mtlsbench/mtlsbench/internal/osslsign"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// ClientSigner names what makes the Go client's CertificateVerify
// signatures with the client certificates' keys.
type ClientSigner string

const (
	// SignerGo (also the zero value) signs in Go's crypto, as a Go client
	// in production does.
	SignerGo ClientSigner = "go"
	// SignerOpenSSL signs through OpenSSL's libcrypto (internal/osslsign):
	// an RSA-2048 signature costs the generator about a third of Go's, so
	// the generator spends less CPU per full handshake than a Go client
	// would; results record it (client_signer). Only in a build with the
	// OpenSSL engine (cgo, libssl-dev).
	SignerOpenSSL ClientSigner = "openssl"
)

// ClientSignerNames are the accepted names, for messages and help.
const ClientSignerNames = "go, openssl"

// ParseClientSigner reads a signer's name; empty is SignerGo.
func ParseClientSigner(s string) (ClientSigner, error) {
	switch ClientSigner(s) {
	case "", SignerGo:
		return SignerGo, nil
	case SignerOpenSSL:
		return SignerOpenSSL, nil
	}
	return "", &ConfigError{fmt.Sprintf("client signer %q: want one of %s", s, ClientSignerNames)}
}

// CheckClientSigner refuses, before any load, a signer this build cannot
// make: SignerOpenSSL in a build without OpenSSL (a *ConfigError saying
// how to get it).
func CheckClientSigner(s ClientSigner) error {
	s, err := ParseClientSigner(string(s))
	if err != nil || s != SignerOpenSSL || osslsign.Available {
		return err
	}
	return &ConfigError{Msg: "client signer openssl: " + osslsign.ErrUnavailable.Error()}
}

// withClientSigner is c with its identities' keys signing as c.Signer
// says: for SignerOpenSSL each key becomes an OpenSSL signer, once per
// identity, before any load (never per handshake); the caller's
// Identities are not modified. release frees the OpenSSL keys once the
// run's handshakes are over. The signer is the Go client's: the openssl
// client stack signs with OpenSSL anyway and takes the keys as they are,
// and a case without a client certificate signs nothing.
func (c Config) withClientSigner() (_ Config, release func(), err error) {
	release = func() {}
	s, err := ParseClientSigner(string(c.Signer))
	if err != nil || s == SignerGo || !c.TLS.Auth.Mutual() || c.TLS.Client == tlsparams.ClientOpenSSL {
		return c, release, err
	}
	if err := CheckClientSigner(s); err != nil {
		return c, release, err
	}
	ids := make([]tls.Certificate, len(c.Identities))
	made := make([]*osslsign.Signer, 0, len(ids))
	release = func() {
		for _, k := range made {
			k.Close()
		}
	}
	for i, id := range c.Identities {
		key, ok := id.PrivateKey.(crypto.Signer)
		if !ok {
			release()
			return c, func() {}, &ConfigError{Msg: fmt.Sprintf("client identity %d: its key (%T) cannot sign", i+1, id.PrivateKey)}
		}
		k, err := osslsign.New(key)
		if err != nil {
			release()
			return c, func() {}, &ConfigError{Msg: fmt.Sprintf("client signer openssl: client identity %d: %v", i+1, err)}
		}
		made = append(made, k)
		id.PrivateKey = k
		ids[i] = id
	}
	c.Identities = ids
	return c, release, nil
}
