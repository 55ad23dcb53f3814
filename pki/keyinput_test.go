package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The keys under testdata/keys are throwaway test keys made with OpenSSL
// 3.0 (openssl genpkey, ecparam, gendsa; the encrypted ones with the
// passphrase "test"); they protect nothing.
// notUnsupported marks an expected error that is not an *UnsupportedKeyError.
const notUnsupported = "(not unsupported)"

func TestKeyInputMessages(t *testing.T) {
	cases := []struct {
		file      string
		want      []string // substrings of the message
		algorithm string   // UnsupportedKeyError.Algorithm, or notUnsupported
	}{
		{"test-only-p256-legacy-encrypted.pem", []string{"EC PRIVATE KEY is encrypted", "Proc-Type: 4,ENCRYPTED", "AES-128-CBC",
			"openssl pkey -in testdata/keys/test-only-p256-legacy-encrypted.pem -out testdata/keys/test-only-p256-legacy-encrypted-plain.pem"}, notUnsupported},
		{"test-only-rsa-legacy-encrypted.pem", []string{"RSA PRIVATE KEY is encrypted", "Proc-Type: 4,ENCRYPTED", "openssl pkey -in "}, notUnsupported},
		{"test-only-p256-pkcs8-encrypted.pem", []string{"encrypted (PKCS#8 ENCRYPTED PRIVATE KEY)", "openssl pkey -in testdata/keys/test-only-p256-pkcs8-encrypted.pem"}, notUnsupported},
		{"test-only-dsa-pkcs8.pem", []string{"DSA (OID 1.2.840.10040.4.1)"}, "DSA"},
		{"test-only-dsa-traditional.pem", []string{"unsupported private key: DSA; accepted"}, "DSA"},
		{"test-only-x448.pem", []string{"X448 (OID 1.3.101.111)", "cannot sign"}, "X448"},
		{"test-only-x25519.pem", []string{"X25519 (OID 1.3.101.110)", "cannot sign"}, "X25519"},
		{"test-only-ed448.pem", []string{"Ed448 (OID 1.3.101.113)"}, "Ed448"},
		{"test-only-rsa-pss.pem", []string{"RSA-PSS", "1.2.840.113549.1.1.10"}, "RSA-PSS (an RSA key restricted to PSS signatures)"},
		{"test-only-secp256k1-sec1.pem", []string{"ECDSA on secp256k1 (OID 1.3.132.0.10)"}, "ECDSA on secp256k1"},
		{"test-only-secp256k1-pkcs8.pem", []string{"ECDSA on secp256k1 (OID 1.3.132.0.10)"}, "ECDSA on secp256k1"},
		{"test-only-brainpool-sec1.pem", []string{"ECDSA on brainpoolP256r1"}, "ECDSA on brainpoolP256r1"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "keys", tc.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseKeyPEM(data, path)
			checkKeyError(t, err, data, path, tc.algorithm, tc.want...)
		})
	}
}

// checkKeyError asserts err is a *PEMError naming source, holding every
// want, never "malformed" for a well-formed key, never a line of the PEM
// body, and (when algorithm is not notUnsupported) wrapping an
// *UnsupportedKeyError of that algorithm ("" for an unknown OID) whose
// message lists the accepted key types.
func checkKeyError(t *testing.T, err error, data []byte, source, algorithm string, want ...string) {
	t.Helper()
	var pe *PEMError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want *PEMError", err, err)
	}
	msg := err.Error()
	want = append(want, source)
	for _, s := range want {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
	if strings.Contains(msg, "malformed") {
		t.Errorf("error %q calls a well-formed key malformed", msg)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && !strings.Contains(line, ":") && strings.Contains(msg, line) {
			t.Errorf("error quotes key material %q", line)
		}
	}
	var u *UnsupportedKeyError
	if algorithm == notUnsupported {
		if errors.As(err, &u) {
			t.Errorf("error %q is an UnsupportedKeyError", msg)
		}
		return
	}
	if !errors.As(err, &u) || u.Algorithm != algorithm {
		t.Fatalf("error %q: want an *UnsupportedKeyError naming %q, got %+v", msg, algorithm, u)
	}
	if !strings.Contains(msg, "accepted key types: "+KeyTypeNames()) {
		t.Errorf("error %q does not list the accepted key types", msg)
	}
}

// Keys no OpenSSL fixture covers: a PKCS#8 key of an algorithm nobody
// knows, ECDSA on P-224 (crypto/x509 reads it, TLS cannot sign with it), an
// OpenSSH key and a DER file.
func TestKeyInputMessagesBuilt(t *testing.T) {
	unknown, err := asn1.Marshal(struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 3, 4, 5}}, []byte{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224DER, err := x509.MarshalPKCS8PrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		data      []byte
		want      []string
		algorithm string
	}{
		{"unknown OID", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: unknown}), []string{"an unknown algorithm (OID 1.2.3.4.5)"}, ""},
		{"P-224", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p224DER}), []string{"ECDSA on P-224"}, "ECDSA on P-224"},
		{"OpenSSH", pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte("openssh-key-v1\x00")}), []string{"OpenSSH private key", "ssh-keygen"}, notUnsupported},
		{"DER", p224DER, []string{"DER", "openssl pkey -inform DER"}, notUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKeyPEM(tc.data, "in.pem")
			checkKeyError(t, err, tc.data, "in.pem", tc.algorithm, tc.want...)
		})
	}
}
