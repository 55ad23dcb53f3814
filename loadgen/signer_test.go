package loadgen

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/osslsign"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// TestClientSignerOpenSSL: with Signer openssl the client certificates'
// keys sign through OpenSSL, in TLS 1.2 and 1.3; the server verifies
// every signature (a bad one fails the handshake), the sign phase is
// timed, and the caller's identities keep their Go keys. A build without
// OpenSSL refuses the run before any load, saying how to get it.
func TestClientSignerOpenSSL(t *testing.T) {
	b := bundle(t, pki.RSA2048)
	srv := startServer(t, b, serverOpts{})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		ids := b.ClientCertificates()
		cfg := Config{Addr: srv.addr(), TLS: caseParams(v), Roots: b.RootPool(), ServerName: "localhost", Identities: ids,
			Signer: SignerOpenSSL, Concurrency: 2, Count: 6}
		if !osslsign.Available {
			if _, err := Run(t.Context(), cfg); !IsConfigError(err) || !strings.Contains(err.Error(), "libssl-dev") {
				t.Fatalf("Run without OpenSSL = %v, want a *ConfigError naming libssl-dev", err)
			}
			return
		}
		res := run(t, cfg)
		if res.OK != 6 || res.Errors != 0 {
			t.Fatalf("TLS %s: ok=%d errors=%v %v", versionName(v), res.OK, res.ErrorsByClass, res.Examples)
		}
		if n := res.Latency["sign"].TotalCount(); n != 6 {
			t.Errorf("TLS %s: %d signatures timed, want 6", versionName(v), n)
		}
		for i, id := range ids {
			if _, ok := id.PrivateKey.(*rsa.PrivateKey); !ok {
				t.Errorf("the caller's identity %d now holds a %T", i+1, id.PrivateKey)
			}
		}
	}
}

// TestWithClientSigner: the engine's identities sign through OpenSSL
// signers made once per identity and freed by release; a name the engine
// does not know, and a key OpenSSL cannot take, are refused before load.
func TestWithClientSigner(t *testing.T) {
	if !osslsign.Available {
		t.Skip("needs OpenSSL (cgo and libssl-dev); TestClientSignerOpenSSL checks the refusal")
	}
	b := bundle(t, pki.ECDSAP256)
	c := Config{TLS: caseParams(tls.VersionTLS13), Identities: b.ClientCertificates(), Signer: SignerOpenSSL}
	got, release, err := c.withClientSigner()
	if err != nil {
		t.Fatal(err)
	}
	d := make([]byte, 32)
	for i, id := range got.Identities {
		s, ok := id.PrivateKey.(*osslsign.Signer)
		if !ok {
			t.Fatalf("identity %d signs with a %T, want an OpenSSL signer", i+1, id.PrivateKey)
		}
		if _, err := s.Sign(nil, d, crypto.SHA256); err != nil {
			t.Fatal(err)
		}
	}
	release()
	if _, err := got.Identities[0].PrivateKey.(crypto.Signer).Sign(nil, d, crypto.SHA256); !errors.Is(err, osslsign.ErrClosed) {
		t.Errorf("after release: %v, want the OpenSSL key freed", err)
	}

	c.Signer = "boringssl"
	if _, _, err := c.withClientSigner(); !IsConfigError(err) || !strings.Contains(err.Error(), `"boringssl"`) || !strings.Contains(err.Error(), ClientSignerNames) {
		t.Errorf("unknown signer: %v", err)
	}
	// The openssl client stack takes the keys as they are (it signs with
	// OpenSSL itself), and one-way TLS signs nothing.
	c.Signer = SignerOpenSSL
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"openssl client", func(c *Config) { c.TLS.Client = tlsparams.ClientOpenSSL }},
		{"one-way TLS", func(c *Config) { c.TLS.Auth = tlsparams.AuthServer }},
	} {
		cc := c
		tc.edit(&cc)
		got, release, err := cc.withClientSigner()
		release()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, ok := got.Identities[0].PrivateKey.(*osslsign.Signer); ok {
			t.Errorf("%s: the identities' keys were wrapped", tc.name)
		}
	}
	c.Identities = []tls.Certificate{{Certificate: [][]byte{{1}}, PrivateKey: opaqueKey{b.Clients[0].Key}}}
	if _, _, err := c.withClientSigner(); !IsConfigError(err) || !strings.Contains(err.Error(), "client identity 1") {
		t.Errorf("a key OpenSSL cannot take: %v", err)
	}
}

type opaqueKey struct{ crypto.Signer }
