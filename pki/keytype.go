package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
)

// KeyType names a certificate key algorithm and size. The zero value is not
// a valid key type; callers that want a default use DefaultKeyType.
type KeyType string

// The key types mtlsbench can generate and recognise.
const (
	RSA2048   KeyType = "rsa2048"
	RSA3072   KeyType = "rsa3072"
	RSA4096   KeyType = "rsa4096"
	ECDSAP256 KeyType = "ecdsa-p256"
	ECDSAP384 KeyType = "ecdsa-p384"
	ECDSAP521 KeyType = "ecdsa-p521"
	Ed25519   KeyType = "ed25519"
)

// DefaultKeyType is used wherever a key type is left empty.
const DefaultKeyType = ECDSAP256

var keyTypes = []KeyType{RSA2048, RSA3072, RSA4096, ECDSAP256, ECDSAP384, ECDSAP521, Ed25519}

// KeyTypes returns every supported key type, in a stable order (RSA by size,
// ECDSA by curve, then Ed25519).
func KeyTypes() []KeyType { return append([]KeyType(nil), keyTypes...) }

// KeyTypeNames returns the accepted spellings, comma separated, for error
// messages and help text.
func KeyTypeNames() string {
	names := make([]string, len(keyTypes))
	for i, k := range keyTypes {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// UnknownKeyTypeError reports a key type name that is not one of KeyTypes.
type UnknownKeyTypeError struct{ Name string }

func (e *UnknownKeyTypeError) Error() string {
	return fmt.Sprintf("pki: unknown key type %q (accepted: %s)", e.Name, KeyTypeNames())
}

// ParseKeyType parses a key type name. It is case-insensitive and accepts a
// few common aliases ("p256", "ecdsa256", "rsa-2048", "ed25519").
func ParseKeyType(s string) (KeyType, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	switch n {
	case "rsa-2048", "rsa2048":
		return RSA2048, nil
	case "rsa-3072", "rsa3072":
		return RSA3072, nil
	case "rsa-4096", "rsa4096":
		return RSA4096, nil
	case "ecdsa-p256", "p256", "ecdsa256", "ecdsa-256", "p-256":
		return ECDSAP256, nil
	case "ecdsa-p384", "p384", "ecdsa384", "ecdsa-384", "p-384":
		return ECDSAP384, nil
	case "ecdsa-p521", "p521", "ecdsa521", "ecdsa-521", "p-521":
		return ECDSAP521, nil
	case "ed25519":
		return Ed25519, nil
	}
	return "", &UnknownKeyTypeError{Name: s}
}

// Valid reports whether k is one of KeyTypes.
func (k KeyType) Valid() bool {
	for _, t := range keyTypes {
		if k == t {
			return true
		}
	}
	return false
}

// String returns the canonical name.
func (k KeyType) String() string { return string(k) }

// GenerateKey creates a new private key of this type from crypto/rand.
func (k KeyType) GenerateKey() (crypto.Signer, error) {
	switch k {
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case ECDSAP521:
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, &UnknownKeyTypeError{Name: string(k)}
}

// KeyTypeOf classifies a public key. It is cheap enough to call on every
// handshake (no allocation): RSA by modulus size, ECDSA by curve identity.
// ok is false for keys of other types or sizes.
func KeyTypeOf(pub crypto.PublicKey) (k KeyType, ok bool) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		switch p.N.BitLen() {
		case 2048:
			return RSA2048, true
		case 3072:
			return RSA3072, true
		case 4096:
			return RSA4096, true
		}
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return ECDSAP256, true
		case elliptic.P384():
			return ECDSAP384, true
		case elliptic.P521():
			return ECDSAP521, true
		}
	case ed25519.PublicKey:
		return Ed25519, true
	}
	return "", false
}

// DescribePublicKey names a public key for messages, including keys that
// KeyTypeOf does not classify (e.g. "rsa1024").
func DescribePublicKey(pub crypto.PublicKey) string {
	if k, ok := KeyTypeOf(pub); ok {
		return string(k)
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa%d", p.N.BitLen())
	case *ecdsa.PublicKey:
		return "ecdsa-" + strings.ToLower(strings.ReplaceAll(p.Curve.Params().Name, "-", ""))
	}
	return fmt.Sprintf("%T", pub)
}
