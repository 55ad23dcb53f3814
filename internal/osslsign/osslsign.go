// Package osslsign owns a crypto.Signer whose signatures are made by
// OpenSSL's libcrypto through cgo: the client certificate keys of the Go
// client stack can sign their CertificateVerify there instead of in Go
// (an RSA-2048 signature costs several times less in OpenSSL 3.0 on x86-64
// than in Go's crypto/rsa).
//
// New converts a key once into an EVP_PKEY (from its PKCS #8 DER); Sign
// hands the digest to EVP_PKEY_sign with the padding and digest the
// options name, on a context of its own, so one Signer serves many
// goroutines at once. C keeps no Go pointer. The EVP_PKEY is freed by
// Close, or when the Signer becomes unreachable.
//
// It exists only in a cgo build on Linux linked against libcrypto
// (Debian: libssl-dev), without the noopenssl build tag — the same
// condition as the OpenSSL client engine; elsewhere New returns
// ErrUnavailable.
package osslsign

import (
	"errors"
)

// ErrUnavailable is New's error in a build without OpenSSL.
var ErrUnavailable = errors.New("osslsign: this build has no OpenSSL signer: build with cgo (CGO_ENABLED=1) on Linux with libcrypto's headers installed (Debian: apt-get install libssl-dev), without -tags noopenssl")

// ErrUnsupportedKey is New's error, wrapped with the key's type, for a key
// OpenSSL signing is not offered for: only *rsa.PrivateKey,
// *ecdsa.PrivateKey and ed25519.PrivateKey are.
var ErrUnsupportedKey = errors.New("osslsign: unsupported key type")

// ErrClosed is Sign's error after Close.
var ErrClosed = errors.New("osslsign: signer closed")
