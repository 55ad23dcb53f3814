package main

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A name that cannot be a SAN is refused before anything is generated or
// written, with exit 2, naming the value and the accepted forms.
func TestPKIGenRefusesInvalidSAN(t *testing.T) {
	for _, tc := range []struct{ san, reason string }{
		{"bad name!", "a space is not allowed"},
		{"svc.example,under_score.example", `'_' is not allowed`},
		{"example.com:8443", "without its port: write example.com"},
		{"a..b", "empty label"},
		{"https://svc.example", "URI names are not supported"},
	} {
		t.Run(tc.san, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "pki")
			code, _, errOut := runCommand(t, "pki", "gen", "--out", out, "--san", tc.san)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s", code, errOut)
			}
			for _, want := range []string{"--san", tc.reason, "accepted: a DNS name", "IPv4 or IPv6 address"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was created (%v); nothing should be written", out, err)
			}
		})
	}
	// Valid names, spaces after commas included, go into the certificate.
	out := filepath.Join(t.TempDir(), "pki")
	code, stdout, errOut := runCommand(t, "pki", "gen", "--out", out, "--san", "svc.example, *.svc.example,10.0.0.7,fd00::7")
	if code != 0 {
		t.Fatalf("valid SANs: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(stdout, "SANs localhost,svc.example,*.svc.example,127.0.0.1,::1,10.0.0.7,fd00::7") {
		t.Errorf("server SANs not as given:\n%s", stdout)
	}
}

// A key encrypted with OpenSSL's legacy PEM encryption is refused as
// encrypted (it used to read "malformed EC PRIVATE KEY"), with exit 2, the
// file's name and the command that decrypts it.
func TestPKIShowEncryptedKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if code, _, errOut := runCommand(t, "pki", "gen", "--out", dir); code != 0 {
		t.Fatalf("pki gen: exit %d\n%s", code, errOut)
	}
	key := filepath.Join(dir, "client-1-key.pem")
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   bytes.Repeat([]byte{0x5a}, 128)})
	if err := os.WriteFile(key, encrypted, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCommand(t, "pki", "show", dir)
	if code != 2 {
		t.Errorf("exit %d, want 2\n%s", code, errOut)
	}
	plain := strings.TrimSuffix(key, ".pem") + "-plain.pem"
	for _, want := range []string{key + ": the EC PRIVATE KEY is encrypted", "Proc-Type: 4,ENCRYPTED", "openssl pkey -in " + key + " -out " + plain} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "malformed") || strings.Contains(errOut, "WlpaWlpa") {
		t.Errorf("stderr calls the key malformed or quotes it:\n%s", errOut)
	}
}

// pki gen --revoked K writes crl.pem revoking the last K clients; pki
// revoke adds more, keeping them and raising the CRL's number; pki show
// says which are revoked. Bad numbers are refused with exit 2.
func TestPKIRevoke(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	code, stdout, errOut := runCommand(t, "pki", "gen", "--out", dir, "--clients", "3", "--revoked", "1", "--crl-entries", "50", "--intermediate")
	if code != 0 {
		t.Fatalf("pki gen: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(stdout, "(50 entries, number 1): revoked clients 3;") {
		t.Errorf("pki gen does not describe the CRL:\n%s", stdout)
	}
	code, stdout, errOut = runCommand(t, "pki", "revoke", dir, "--client", "1")
	if code != 0 {
		t.Fatalf("pki revoke: exit %d\n%s", code, errOut)
	}
	// The intermediate's 50 entries and client 1; the root's CRL is empty.
	if !strings.Contains(stdout, "(51 entries, number 2): revoked clients 1,3;") {
		t.Errorf("pki revoke:\n%s", stdout)
	}
	code, stdout, _ = runCommand(t, "pki", "show", dir)
	if code != 0 || !strings.Contains(stdout, "revoked clients 1,3;") {
		t.Errorf("pki show: exit %d\n%s", code, stdout)
	}
	for _, args := range [][]string{
		{"pki", "revoke", dir, "--client", "4"},
		{"pki", "revoke", dir},
		{"pki", "gen", "--out", filepath.Join(t.TempDir(), "x"), "--clients", "2", "--revoked", "3"},
		{"pki", "gen", "--out", filepath.Join(t.TempDir(), "x"), "--revoked", "1", "--crl-entries", "2000000"},
	} {
		if code, _, errOut := runCommand(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, errOut)
		}
	}
}
