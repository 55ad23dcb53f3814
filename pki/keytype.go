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

// UnsupportedKeyError reports a private key of an algorithm (or curve)
// mtlsbench cannot use. Algorithm names it as people know it ("DSA",
// "Ed448", "ECDSA on secp256k1"), or is empty when the OID is not one
// pki knows; OID is the dotted object identifier found in the key, empty
// when the PEM block type alone said what it is. It is always the Err of a
// *PEMError, which names the file; the message never holds key material.
type UnsupportedKeyError struct {
	Algorithm string
	OID       string
	// Note adds why, when the name alone does not say it ("a
	// key-agreement key: it cannot sign a handshake").
	Note string
}

func (e *UnsupportedKeyError) Error() string {
	what := e.Algorithm
	if what == "" {
		what = "an unknown algorithm"
	}
	if e.OID != "" {
		what += " (OID " + e.OID + ")"
	}
	if e.Note != "" {
		what += ", " + e.Note
	}
	return fmt.Sprintf("%s; accepted key types: %s "+
		"(make one with 'mtlsbench pki gen --key-type TYPE' or 'openssl genpkey -algorithm ED25519')", what, KeyTypeNames())
}

// Object identifiers of key algorithms and named curves, as they appear in
// a PKCS#8 AlgorithmIdentifier or a SEC1 key's parameters.
const (
	oidRSA     = "1.2.840.113549.1.1.1"
	oidECDSA   = "1.2.840.10045.2.1" // id-ecPublicKey; the curve is in the parameters
	oidEd25519 = "1.3.101.112"
)

// keyAlgorithmNames names the key algorithms a PKCS#8 file may hold that
// mtlsbench does not use, so that a refusal says what was found.
var keyAlgorithmNames = map[string]string{
	oidRSA:                    "RSA",
	oidECDSA:                  "ECDSA",
	oidEd25519:                "Ed25519",
	"1.2.840.113549.1.1.10":   "RSA-PSS (an RSA key restricted to PSS signatures)",
	"1.2.840.10040.4.1":       "DSA",
	"1.2.840.10046.2.1":       "Diffie-Hellman (X9.42)",
	"1.2.840.113549.1.3.1":    "Diffie-Hellman (PKCS#3)",
	"1.3.101.110":             "X25519",
	"1.3.101.111":             "X448",
	"1.3.101.113":             "Ed448",
	"1.2.156.10197.1.301":     "SM2",
	"1.2.643.2.2.19":          "GOST R 34.10-2001",
	"1.2.643.7.1.1.1.1":       "GOST R 34.10-2012 (256-bit)",
	"1.2.643.7.1.1.1.2":       "GOST R 34.10-2012 (512-bit)",
	"2.16.840.1.101.3.4.3.17": "ML-DSA-44",
	"2.16.840.1.101.3.4.3.18": "ML-DSA-65",
	"2.16.840.1.101.3.4.3.19": "ML-DSA-87",
	"2.16.840.1.101.3.4.4.1":  "ML-KEM-512",
	"2.16.840.1.101.3.4.4.2":  "ML-KEM-768",
	"2.16.840.1.101.3.4.4.3":  "ML-KEM-1024",
}

// keyAlgorithmNotes say why a key that is not simply unknown cannot be used.
var keyAlgorithmNotes = map[string]string{
	"1.3.101.110":            "a key-agreement key: it cannot sign a handshake",
	"1.3.101.111":            "a key-agreement key: it cannot sign a handshake",
	"1.2.840.10046.2.1":      "a key-agreement key: it cannot sign a handshake",
	"1.2.840.113549.1.3.1":   "a key-agreement key: it cannot sign a handshake",
	"2.16.840.1.101.3.4.4.1": "a key-encapsulation key: it cannot sign a handshake",
	"2.16.840.1.101.3.4.4.2": "a key-encapsulation key: it cannot sign a handshake",
	"2.16.840.1.101.3.4.4.3": "a key-encapsulation key: it cannot sign a handshake",
}

// curveNames names elliptic curves by OID. The three mtlsbench uses map to
// their key types; the others only name what was found.
var curveNames = map[string]string{
	"1.2.840.10045.3.1.7":   "P-256",
	"1.3.132.0.34":          "P-384",
	"1.3.132.0.35":          "P-521",
	"1.3.132.0.33":          "P-224",
	"1.2.840.10045.3.1.1":   "P-192",
	"1.3.132.0.10":          "secp256k1",
	"1.3.36.3.3.2.8.1.1.7":  "brainpoolP256r1",
	"1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
	"1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
	"1.2.156.10197.1.301":   "SM2",
}

// supportedCurves are the curves of the ECDSA key types.
var supportedCurves = map[string]bool{"1.2.840.10045.3.1.7": true, "1.3.132.0.34": true, "1.3.132.0.35": true}

// unsupportedAlgorithm returns the refusal for a key whose algorithm OID
// (and, for ECDSA, curve OID; empty when the curve is given by explicit
// parameters or could not be read) is not one mtlsbench uses, or nil when
// it is one (the key may still be malformed).
func unsupportedAlgorithm(alg, curve string) *UnsupportedKeyError {
	switch alg {
	case oidRSA, oidEd25519:
		return nil
	case oidECDSA:
		return unsupportedCurve(curve)
	}
	return &UnsupportedKeyError{Algorithm: keyAlgorithmNames[alg], OID: alg, Note: keyAlgorithmNotes[alg]}
}

// unsupportedCurve returns the refusal for an ECDSA key on curve (an OID;
// empty when the key gives explicit parameters instead of a named curve,
// which crypto/x509 does not read), or nil for P-256, P-384 and P-521.
func unsupportedCurve(curve string) *UnsupportedKeyError {
	if supportedCurves[curve] {
		return nil
	}
	if curve == "" {
		return &UnsupportedKeyError{Algorithm: "ECDSA with explicit curve parameters",
			Note: "write it with a named curve: openssl pkey -in KEY -out NAMED.pem -ec_param_enc named_curve"}
	}
	name := curveNames[curve]
	if name == "" {
		name = "an unknown curve"
	}
	return &UnsupportedKeyError{Algorithm: "ECDSA on " + name, OID: curve}
}
