package pki

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func verify(t *testing.T, b *Bundle, id Identity, usage x509.ExtKeyUsage, name string) {
	t.Helper()
	inter := x509.NewCertPool()
	for _, c := range id.Chain[1:] {
		inter.AddCert(c)
	}
	_, err := id.Leaf().Verify(x509.VerifyOptions{
		Roots: b.RootPool(), Intermediates: inter, DNSName: name,
		KeyUsages: []x509.ExtKeyUsage{usage},
	})
	if err != nil {
		t.Fatalf("%s does not verify: %v", id.Leaf().Subject.CommonName, err)
	}
}

func TestGenerateEveryKeyType(t *testing.T) {
	for _, kt := range KeyTypes() {
		t.Run(string(kt), func(t *testing.T) {
			t.Parallel()
			b, err := Generate(Options{ServerKeyType: kt, Clients: 2})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Server.KeyType(); got != kt {
				t.Errorf("server key type = %s, want %s", got, kt)
			}
			if len(b.Clients) != 2 {
				t.Fatalf("got %d clients, want 2", len(b.Clients))
			}
			if b.Clients[0].Leaf().SerialNumber.Cmp(b.Clients[1].Leaf().SerialNumber) == 0 {
				t.Error("client identities share a serial number")
			}
			verify(t, b, b.Server, x509.ExtKeyUsageServerAuth, "localhost")
			verify(t, b, b.Server, x509.ExtKeyUsageServerAuth, "127.0.0.1")
			verify(t, b, b.Server, x509.ExtKeyUsageServerAuth, "::1")
			for _, c := range b.Clients {
				if got := c.KeyType(); got != kt {
					t.Errorf("client key type = %s, want %s", got, kt)
				}
				verify(t, b, c, x509.ExtKeyUsageClientAuth, "")
			}
		})
	}
}

func TestGenerateMixedKeyTypesAndIntermediate(t *testing.T) {
	b, err := Generate(Options{ServerKeyType: RSA2048, ClientKeyType: Ed25519, Intermediate: true, SANs: []string{"svc.example", "10.1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Intermediate == nil {
		t.Fatal("no intermediate")
	}
	if len(b.Server.Chain) != 2 || len(b.Clients[0].Chain) != 2 {
		t.Fatalf("chain lengths server=%d client=%d, want 2 and 2", len(b.Server.Chain), len(b.Clients[0].Chain))
	}
	if b.Server.KeyType() != RSA2048 || b.Clients[0].KeyType() != Ed25519 {
		t.Errorf("key types server=%s client=%s", b.Server.KeyType(), b.Clients[0].KeyType())
	}
	verify(t, b, b.Server, x509.ExtKeyUsageServerAuth, "svc.example")
	verify(t, b, b.Server, x509.ExtKeyUsageServerAuth, "10.1.2.3")
	verify(t, b, b.Clients[0], x509.ExtKeyUsageClientAuth, "")
	// A client leaf must not pass as a server certificate.
	inter := x509.NewCertPool()
	inter.AddCert(b.Intermediate.Cert)
	if _, err := b.Clients[0].Leaf().Verify(x509.VerifyOptions{Roots: b.RootPool(), Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate verified for server auth")
	}
}

func TestExpiredLeaf(t *testing.T) {
	b, err := Generate(Options{})
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-48 * time.Hour)
	id, err := b.Root.Issue(LeafRequest{CommonName: "old", NotBefore: past, NotAfter: past.Add(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = id.Leaf().Verify(x509.VerifyOptions{Roots: b.RootPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	var inv x509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != x509.Expired {
		t.Fatalf("verify expired leaf: %v, want x509 Expired", err)
	}
}

func TestParseKeyType(t *testing.T) {
	for in, want := range map[string]KeyType{"RSA3072": RSA3072, "p256": ECDSAP256, "ecdsa-p521": ECDSAP521, " ed25519 ": Ed25519} {
		got, err := ParseKeyType(in)
		if err != nil || got != want {
			t.Errorf("ParseKeyType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseKeyType("dsa1024")
	var uk *UnknownKeyTypeError
	if !errors.As(err, &uk) || !strings.Contains(err.Error(), `"dsa1024"`) || !strings.Contains(err.Error(), "ecdsa-p256") {
		t.Fatalf("ParseKeyType(dsa1024) error = %v; want it to name the value and the accepted ones", err)
	}
	if _, err := Generate(Options{ServerKeyType: "rsa1024"}); !errors.As(err, &uk) {
		t.Fatalf("Generate with rsa1024: %v, want UnknownKeyTypeError", err)
	}
}

func TestSaveLoadEveryFormat(t *testing.T) {
	cases := []struct {
		server, client KeyType
		format         KeyFormat
	}{
		{ECDSAP384, ECDSAP256, SEC1},
		{RSA2048, RSA2048, PKCS1},
		{Ed25519, ECDSAP521, PKCS8},
		{RSA2048, Ed25519, PKCS1}, // Ed25519 keys fall back to PKCS#8
	}
	for _, tc := range cases {
		t.Run(string(tc.server)+"-"+string(tc.format), func(t *testing.T) {
			dir := t.TempDir()
			b, err := Generate(Options{ServerKeyType: tc.server, ClientKeyType: tc.client, Clients: 3, Intermediate: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Save(dir, SaveOptions{KeyFormat: tc.format}); err != nil {
				t.Fatal(err)
			}
			for _, f := range b.Files() {
				st, err := os.Stat(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				want := os.FileMode(0o644)
				if strings.HasSuffix(f, "-key.pem") {
					want = 0o600
				}
				if st.Mode().Perm() != want {
					t.Errorf("%s mode %v, want %v", f, st.Mode().Perm(), want)
				}
			}
			keyPEM, _ := os.ReadFile(filepath.Join(dir, ServerKeyFile))
			wantBlock := map[KeyFormat]string{PKCS8: "PRIVATE KEY", PKCS1: "RSA PRIVATE KEY", SEC1: "EC PRIVATE KEY"}[tc.format]
			if !strings.Contains(string(keyPEM), "BEGIN "+wantBlock) {
				t.Errorf("server key not written as %s:\n%.40s", wantBlock, keyPEM)
			}
			got, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Clients) != 3 || got.Intermediate == nil || got.Root.Key == nil {
				t.Fatalf("loaded %d clients, intermediate=%v, root key=%v", len(got.Clients), got.Intermediate != nil, got.Root.Key != nil)
			}
			if !got.Server.Leaf().Equal(b.Server.Leaf()) || len(got.Server.Chain) != 2 {
				t.Error("server chain changed in the round trip")
			}
			for i := range b.Clients {
				if !got.Clients[i].Leaf().Equal(b.Clients[i].Leaf()) {
					t.Errorf("client %d changed in the round trip", i+1)
				}
			}
			// Refuses to overwrite without permission, and leaves the files as they were.
			if err := b.Save(dir, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("second Save: %v, want refusal", err)
			}
		})
	}
}

func TestBadPEM(t *testing.T) {
	dir := t.TempDir()
	a, err := Generate(Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Generate(Options{ServerKeyType: RSA2048})
	if err != nil {
		t.Fatal(err)
	}
	certPEM := EncodeCertsPEM(a.Server.Chain...)
	keyPEM, _ := EncodeKeyPEM(a.Server.Key, PKCS8)
	otherKey, _ := EncodeKeyPEM(other.Server.Key, PKCS8)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert := write("cert.pem", certPEM)
	good := write("key.pem", keyPEM)
	if _, err := LoadKeyPair(cert, good); err != nil {
		t.Fatalf("good pair: %v", err)
	}
	cases := []struct {
		name       string
		cert, key  string
		wantSubstr []string
	}{
		{"mismatched key", cert, write("other-key.pem", otherKey), []string{"does not match", "other-key.pem", "rsa2048", "ecdsa-p256"}},
		{"key as cert", good, good, []string{"key.pem", `"PRIVATE KEY" PEM block where certificates were expected`}},
		{"cert as key", cert, cert, []string{"cert.pem", `"CERTIFICATE" PEM block where a private key was expected`}},
		{"garbage cert", write("junk.pem", []byte("hello")), good, []string{"junk.pem", "no PEM CERTIFICATE block"}},
		{"truncated key", cert, write("trunc.pem", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")), []string{"trunc.pem", "malformed PRIVATE KEY"}},
		{"encrypted key", cert, write("enc.pem", []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")), []string{"enc.pem", "encrypted"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKeyPair(tc.cert, tc.key)
			var pe *PEMError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want *PEMError", err, err)
			}
			for _, s := range tc.wantSubstr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("error quotes PEM material: %q", err)
			}
		})
	}
}

// A client's copy of a PKI directory (a Kubernetes Secret) holds no CA or
// server key: LoadClientDir reads it, and never reads a private key it
// does not need, even when one is there.
func TestLoadClientDir(t *testing.T) {
	dir := t.TempDir()
	b, err := Generate(Options{ServerKeyType: ECDSAP256, Clients: 4, Intermediate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(dir, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	// Unreadable as keys: LoadClientDir must not even try.
	for _, f := range []string{RootKeyFile, IntermediateKeyFile, ServerKeyFile} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("not a key"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(dir, ServerCertFile))
	got, err := LoadClientDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Clients) != 4 || got.Root.Key != nil || got.Intermediate == nil || got.Intermediate.Key != nil || got.Server.Key != nil {
		t.Errorf("loaded %d clients, root key %v, intermediate %v, server key %v", len(got.Clients), got.Root.Key != nil, got.Intermediate != nil, got.Server.Key != nil)
	}
	if _, err := LoadDir(dir); err == nil {
		t.Error("LoadDir read a directory without a server identity")
	}
}
