package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeyFormat is a private-key PEM encoding.
type KeyFormat string

// Private key encodings. PKCS#8 works for every key type; PKCS#1 is RSA
// only and SEC1 is ECDSA only.
const (
	PKCS8 KeyFormat = "pkcs8" // "PRIVATE KEY"
	PKCS1 KeyFormat = "pkcs1" // "RSA PRIVATE KEY"
	SEC1  KeyFormat = "sec1"  // "EC PRIVATE KEY"
)

// ParseKeyFormat parses "pkcs8", "pkcs1" or "sec1".
func ParseKeyFormat(s string) (KeyFormat, error) {
	switch f := KeyFormat(strings.ToLower(s)); f {
	case PKCS8, PKCS1, SEC1:
		return f, nil
	}
	return "", fmt.Errorf("pki: unknown key format %q (accepted: pkcs8, pkcs1, sec1)", s)
}

// PEMError reports material that cannot be used: malformed PEM, the wrong
// block type, or a key that does not match its certificate. Source names the
// file (or other origin) so the user knows which input to fix. The message
// never contains key material.
type PEMError struct {
	Source string
	Reason string
	Err    error
}

func (e *PEMError) Error() string {
	msg := "pki: " + e.Source + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *PEMError) Unwrap() error { return e.Err }

// EncodeCertsPEM encodes certificates as consecutive CERTIFICATE blocks.
func EncodeCertsPEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// EncodeKeyPEM encodes a private key in format f. Zero f means PKCS8.
func EncodeKeyPEM(key crypto.Signer, f KeyFormat) ([]byte, error) {
	var block *pem.Block
	switch f {
	case PKCS8, "":
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("pki: encode PKCS#8 key: %w", err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	case PKCS1:
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("pki: PKCS#1 holds only RSA keys, not %s; use pkcs8", DescribePublicKey(key.Public()))
		}
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case SEC1:
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("pki: SEC1 holds only ECDSA keys, not %s; use pkcs8", DescribePublicKey(key.Public()))
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("pki: encode SEC1 key: %w", err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	default:
		return nil, fmt.Errorf("pki: unknown key format %q (accepted: pkcs8, pkcs1, sec1)", f)
	}
	return pem.EncodeToMemory(block), nil
}

// ParseCertsPEM decodes every CERTIFICATE block in data. Other block types
// are an error (a key pasted into a certificate file is a common mistake).
func ParseCertsPEM(data []byte, source string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, &PEMError{Source: source, Reason: fmt.Sprintf("found a %q PEM block where certificates were expected", block.Type)}
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &PEMError{Source: source, Reason: fmt.Sprintf("certificate %d is malformed", len(certs)+1), Err: err}
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, &PEMError{Source: source, Reason: "no PEM CERTIFICATE block found"}
	}
	return certs, nil
}

// ParseKeyPEM decodes the first private key block in data: PKCS#8
// ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"),
// of one of the algorithms of KeyTypes (RSA of any size crypto/tls
// accepts). Every failure is a *PEMError naming source and never holding
// key material: an encrypted key (PKCS#8 "ENCRYPTED PRIVATE KEY" or
// OpenSSL's legacy "Proc-Type: 4,ENCRYPTED") says how to decrypt it; a key
// of another algorithm or curve wraps an *UnsupportedKeyError naming it
// (the PKCS#8 or SEC1 object identifier is read here, since crypto/x509
// only says "unknown algorithm").
func ParseKeyPEM(data []byte, source string) (crypto.Signer, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, &PEMError{Source: source, Reason: noKeyReason(data)}
		}
		if block.Type == "EC PARAMETERS" {
			continue // openssl ecparam -genkey writes this before the key
		}
		if _, legacy := block.Headers["DEK-Info"]; legacy || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			cipher, _, _ := strings.Cut(block.Headers["DEK-Info"], ",") // the IV after the comma is not echoed
			how := "OpenSSL's legacy PEM encryption, Proc-Type: 4,ENCRYPTED"
			if c := strings.TrimSpace(cipher); c != "" && len(c) <= 32 && isPrintableASCII(c) {
				how += ", " + c
			}
			return nil, &PEMError{Source: source, Reason: fmt.Sprintf(
				"the %s is encrypted (%s); mtlsbench reads unencrypted keys only: %s", block.Type, how, decryptHint(source))}
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			if alg, curve, ok := pkcs8Algorithm(block.Bytes); ok {
				if u := unsupportedAlgorithm(alg, curve); u != nil {
					return nil, &PEMError{Source: source, Reason: "unsupported private key", Err: u}
				}
			}
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			if curve, ok := sec1Curve(block.Bytes); ok {
				if u := unsupportedCurve(curve); u != nil {
					return nil, &PEMError{Source: source, Reason: "unsupported private key", Err: u}
				}
			}
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "DSA PRIVATE KEY":
			return nil, &PEMError{Source: source, Reason: "unsupported private key", Err: &UnsupportedKeyError{Algorithm: "DSA"}}
		case "ENCRYPTED PRIVATE KEY":
			return nil, &PEMError{Source: source, Reason: "the private key is encrypted (PKCS#8 ENCRYPTED PRIVATE KEY); " +
				"mtlsbench reads unencrypted keys only: " + decryptHint(source)}
		case "OPENSSH PRIVATE KEY":
			return nil, &PEMError{Source: source, Reason: "an OpenSSH private key, which mtlsbench does not read (accepted: PEM PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY); " +
				"convert a copy of an RSA or ECDSA key in place with 'ssh-keygen -p -m PKCS8 -f COPY', or make a key with 'mtlsbench pki gen'"}
		default:
			return nil, &PEMError{Source: source, Reason: fmt.Sprintf(
				"found a %q PEM block where a private key was expected (accepted: PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY)", clip(block.Type))}
		}
		if err != nil {
			return nil, &PEMError{Source: source, Reason: fmt.Sprintf("malformed %s", block.Type), Err: errors.Unwrap(err)}
		}
		switch k := key.(type) {
		case *rsa.PrivateKey, ed25519.PrivateKey:
			return k.(crypto.Signer), nil
		case *ecdsa.PrivateKey:
			if _, ok := KeyTypeOf(k.Public()); !ok {
				// P-224: crypto/x509 reads it, no TLS signature scheme uses it.
				return nil, &PEMError{Source: source, Reason: "unsupported private key", Err: &UnsupportedKeyError{Algorithm: "ECDSA on " + k.Curve.Params().Name}}
			}
			return k, nil
		case *ecdh.PrivateKey:
			return nil, &PEMError{Source: source, Reason: "unsupported private key", Err: &UnsupportedKeyError{
				Algorithm: "X25519", Note: keyAlgorithmNotes["1.3.101.110"]}}
		}
		return nil, &PEMError{Source: source, Reason: "unsupported private key", Err: &UnsupportedKeyError{Algorithm: fmt.Sprintf("%T", key)}}
	}
}

// noKeyReason says why data holds no PEM block, with a hint when it looks
// like a DER (binary) key.
func noKeyReason(data []byte) string {
	const accepted = "no PEM private key block found (accepted: PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY)"
	if len(data) > 1 && data[0] == 0x30 && !bytes.Contains(data, []byte("-----BEGIN")) {
		return accepted + "; the file looks like a DER (binary) key: convert it with 'openssl pkey -inform DER -in KEY.der -out KEY.pem'"
	}
	return accepted
}

// decryptHint says how to write a decrypted copy of the key in source.
func decryptHint(source string) string {
	in, out := "k.pem", "k-plain.pem"
	if source != "" && !strings.ContainsAny(source, " \t\n'\"\\$`;&|<>(){}*?!#~") {
		in, out = source, strings.TrimSuffix(source, ".pem")+"-plain.pem"
	}
	return fmt.Sprintf("decrypt it with 'openssl pkey -in %s -out %s' (it asks for the passphrase; keep the copy 0600) and pass %s", in, out, out)
}

// pkcs8Algorithm reads the algorithm OID of a PKCS#8 PrivateKeyInfo and,
// for an EC key, the named curve's OID (empty if the parameters are not a
// named curve). ok is false when der is not even that much of a PKCS#8
// structure; crypto/x509 then says what is wrong.
func pkcs8Algorithm(der []byte) (alg, curve string, ok bool) {
	var info struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
		// attributes and the public key (v2) are not needed
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return "", "", false
	}
	alg = info.Algo.Algorithm.String()
	if alg == oidECDSA {
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &oid); err == nil {
			curve = oid.String()
		}
	}
	return alg, curve, true
}

// sec1Curve reads the named curve's OID of a SEC1 ECPrivateKey: ok is
// false when der is not one or names no curve (crypto/x509 then explains).
func sec1Curve(der []byte) (curve string, ok bool) {
	var key struct {
		Version       int
		PrivateKey    []byte
		NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
		PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
	}
	if _, err := asn1.Unmarshal(der, &key); err != nil || len(key.NamedCurveOID) == 0 {
		return "", false
	}
	return key.NamedCurveOID.String(), true
}

// clip shortens a PEM block type echoed in a message (it comes from the
// input, and is never key material: the key is in the block's body).
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ParseKeyPair builds a tls.Certificate from a certificate chain and its key,
// checking that the key belongs to the first certificate.
func ParseKeyPair(certPEM, keyPEM []byte, certSource, keySource string) (tls.Certificate, error) {
	certs, err := ParseCertsPEM(certPEM, certSource)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := ParseKeyPEM(keyPEM, keySource)
	if err != nil {
		return tls.Certificate{}, err
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := certs[0].PublicKey.(equaler); !ok || !pub.Equal(key.Public()) {
		return tls.Certificate{}, &PEMError{Source: keySource, Reason: fmt.Sprintf(
			"private key (%s) does not match the certificate in %s (%s, %q)",
			DescribePublicKey(key.Public()), certSource, DescribePublicKey(certs[0].PublicKey), certs[0].Subject.CommonName)}
	}
	der := make([][]byte, len(certs))
	for i, c := range certs {
		der[i] = c.Raw
	}
	return tls.Certificate{Certificate: der, PrivateKey: key, Leaf: certs[0]}, nil
}

// LoadKeyPair reads a certificate chain file and its key file.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: read key: %w", err)
	}
	return ParseKeyPair(certPEM, keyPEM, certFile, keyFile)
}

// LoadCertPool reads a file of CA certificates into a pool.
func LoadCertPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("pki: read CA file: %w", err)
	}
	certs, err := ParseCertsPEM(data, file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}
