package pki

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// keySeeds are PEM keys of every format and key type pki writes, and the
// refused ones under testdata/keys.
func keySeeds(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	for _, kt := range []KeyType{ECDSAP256, ECDSAP384, Ed25519, RSA2048} {
		key, err := kt.GenerateKey()
		if err != nil {
			f.Fatal(err)
		}
		for _, format := range []KeyFormat{PKCS8, PKCS1, SEC1} {
			if data, err := EncodeKeyPEM(key, format); err == nil {
				seeds = append(seeds, data)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "keys", "*.pem"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}

// FuzzParseKeyPEM feeds arbitrary bytes to ParseKeyPEM, the reader of
// --key files and PKI directories. It must never panic; every error must
// be a *PEMError naming the source that quotes no line of a PEM body; and
// a key it accepts must be of a usable type and survive PKCS#8 encoding.
func FuzzParseKeyPEM(f *testing.F) {
	for _, seed := range keySeeds(f) {
		f.Add(seed)
	}
	for _, seed := range []string{
		"", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n",
		"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
		"\x30\x82\x01\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParseKeyPEM(data, "fuzz.pem")
		if err != nil {
			checkNoKeyMaterial(t, err, data)
			return
		}
		if _, ok := KeyTypeOf(key.Public()); !ok && !strings.HasPrefix(DescribePublicKey(key.Public()), "rsa") {
			t.Fatalf("accepted a %s key", DescribePublicKey(key.Public()))
		}
		der, err := EncodeKeyPEM(key, PKCS8)
		if err != nil {
			t.Fatalf("an accepted key cannot be encoded: %v", err)
		}
		back, err := ParseKeyPEM(der, "again.pem")
		if err != nil {
			t.Fatalf("an accepted key does not read back from PKCS#8: %v", err)
		}
		type equaler interface {
			Equal(x crypto.PrivateKey) bool
		}
		if eq, ok := back.(equaler); !ok || !eq.Equal(key) {
			t.Fatal("an accepted key changed in a PKCS#8 round trip")
		}
	})
}

// checkNoKeyMaterial asserts err is a *PEMError naming fuzz.pem and quoting
// no line of any PEM block's body.
func checkNoKeyMaterial(t *testing.T, err error, data []byte) {
	t.Helper()
	var pe *PEMError
	if !errors.As(err, &pe) || pe.Source != "fuzz.pem" {
		t.Fatalf("error %v (%T): want a *PEMError naming the source", err, err)
	}
	msg := err.Error()
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		body := pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: block.Bytes})
		for _, line := range strings.Split(string(body), "\n") {
			if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line) {
				t.Fatalf("error quotes key material %q: %s", line, msg)
			}
		}
	}
}

// FuzzParseCertsPEM feeds arbitrary bytes to ParseCertsPEM, the reader of
// --ca and --cert files. It must never panic; every error must be a
// *PEMError naming the source; certificates it accepts must encode and
// parse back to the same DER.
func FuzzParseCertsPEM(f *testing.F) {
	b, err := Generate(Options{ServerKeyType: Ed25519, Intermediate: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(EncodeCertsPEM(b.Server.Chain...))
	f.Add(EncodeCertsPEM(b.Root.Cert))
	for _, seed := range []string{
		"", "hello", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertsPEM(data, "fuzz.pem")
		if err != nil {
			var pe *PEMError
			if !errors.As(err, &pe) || pe.Source != "fuzz.pem" {
				t.Fatalf("error %v (%T): want a *PEMError naming the source", err, err)
			}
			return
		}
		if len(certs) == 0 {
			t.Fatal("no certificates and no error")
		}
		back, err := ParseCertsPEM(EncodeCertsPEM(certs...), "again.pem")
		if err != nil || len(back) != len(certs) {
			t.Fatalf("accepted certificates do not read back: %d of %d, %v", len(back), len(certs), err)
		}
		for i := range certs {
			if !bytes.Equal(back[i].Raw, certs[i].Raw) {
				t.Fatalf("certificate %d changed in a round trip", i+1)
			}
		}
	})
}

// FuzzValidateSAN feeds arbitrary names to ValidateSAN. It must never
// panic; a refusal is a *SANError naming the value; and a name it accepts
// goes into a certificate exactly as given, as an IP address or a DNS name.
func FuzzValidateSAN(f *testing.F) {
	for _, seed := range []string{
		"localhost", "svc.example", "*.svc.example", "10.1.2.3", "::1", "fd00::7", "xn--bcher-kva.example",
		"bad name!", "", "a..b", "example.com.", "-a.example", "*", "a.*.b", "1.2.3.256", "[::1]", "fe80::1%eth0",
		"svc.example:8443", "https://svc.example", "me@example.com", "bücher.example", "under_score.example",
		strings.Repeat("a", 64) + ".example",
	} {
		f.Add(seed)
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateSAN(name)
		if err != nil {
			var se *SANError
			if !errors.As(err, &se) || se.Name != name || se.Reason == "" {
				t.Fatalf("ValidateSAN(%q) = %v (%T): want a *SANError naming the value", name, err, err)
			}
			return
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(3600, 0)}
		ip := net.ParseIP(name)
		if ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		} else {
			tmpl.DNSNames = []string{name}
		}
		der, err := x509.CreateCertificate(nil, tmpl, tmpl, pub, priv)
		if err != nil {
			t.Fatalf("ValidateSAN accepted %q, which crypto/x509 cannot certify: %v", name, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("ValidateSAN accepted %q, whose certificate does not parse: %v", name, err)
		}
		switch {
		case ip != nil && (len(cert.IPAddresses) != 1 || !cert.IPAddresses[0].Equal(ip)):
			t.Fatalf("IP SAN %q came back as %v", name, cert.IPAddresses)
		case ip == nil && (len(cert.DNSNames) != 1 || cert.DNSNames[0] != name):
			t.Fatalf("DNS SAN %q came back as %q", name, cert.DNSNames)
		}
	})
}
