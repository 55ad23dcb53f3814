//go:build cgo && linux && !noopenssl

package osslsign

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/pki"
)

// BenchmarkSign compares one CertificateVerify signature as a Go client
// makes it (RSA: PSS with a salt as long as SHA-256, as in TLS 1.3; ECDSA:
// ASN.1) in Go's crypto and in OpenSSL's libcrypto through this package.
func BenchmarkSign(b *testing.B) {
	d := digest(crypto.SHA256, "the transcript hash")
	for _, kt := range []pki.KeyType{pki.RSA2048, pki.RSA3072, pki.RSA4096, pki.ECDSAP256} {
		key, err := kt.GenerateKey()
		if err != nil {
			b.Fatal(err)
		}
		opts := crypto.SignerOpts(crypto.SHA256)
		if strings.HasPrefix(string(kt), "rsa") {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		}
		name := strings.TrimPrefix(string(kt), "ecdsa-")
		ossl := newSigner(b, key)
		for _, impl := range []struct {
			name string
			s    crypto.Signer
		}{{"go", key}, {"openssl", ossl}} {
			b.Run(impl.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := impl.s.Sign(rand.Reader, d, opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
