package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
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
// ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY").
// Encrypted keys are refused with a hint.
func ParseKeyPEM(data []byte, source string) (crypto.Signer, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, &PEMError{Source: source, Reason: "no PEM private key block found (accepted: PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY)"}
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, &PEMError{Source: source, Reason: "the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN.pem)"}
		case "EC PARAMETERS":
			continue // openssl ecparam -genkey writes this before the key
		default:
			return nil, &PEMError{Source: source, Reason: fmt.Sprintf("found a %q PEM block where a private key was expected", block.Type)}
		}
		if err != nil {
			return nil, &PEMError{Source: source, Reason: fmt.Sprintf("malformed %s", block.Type), Err: errors.Unwrap(err)}
		}
		switch k := key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return k.(crypto.Signer), nil
		}
		return nil, &PEMError{Source: source, Reason: fmt.Sprintf("unsupported private key type %T", key)}
	}
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
