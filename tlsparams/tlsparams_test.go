package tlsparams

import (
	"crypto/tls"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Version{"1.2": TLS12, "TLSv1.3": TLS13, "tls1.3": TLS13} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %x, %v", in, got, err)
		}
	}
	if _, err := ParseVersion("1.1"); err == nil || !strings.Contains(err.Error(), "1.2, 1.3") {
		t.Errorf("ParseVersion(1.1) = %v, want error listing accepted versions", err)
	}
	for in, want := range map[string]tls.CurveID{"x25519": tls.X25519, "P-256": tls.CurveP256, "prime256v1": tls.CurveP256,
		"X25519MLKEM768": tls.X25519MLKEM768, "secp384r1mlkem1024": tls.SecP384r1MLKEM1024} {
		if g, err := ParseGroup(in); err != nil || g.ID != want {
			t.Errorf("ParseGroup(%q) = %v, %v", in, g.ID, err)
		}
	}
	if _, err := ParseGroup("ffdhe2048"); err == nil || !strings.Contains(err.Error(), "x25519mlkem768") {
		t.Errorf("ParseGroup(ffdhe2048) = %v", err)
	}
	for in, want := range map[string]uint16{"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		"tls_chacha20_poly1305_sha256": tls.TLS_CHACHA20_POLY1305_SHA256} {
		if s, err := ParseSuite(in); err != nil || s.ID != want {
			t.Errorf("ParseSuite(%q) = %v, %v", in, s.ID, err)
		}
	}
}

// Every suite crypto/tls considers secure has a name here, and every name
// here is one crypto/tls knows, so the table cannot drift from the stack.
func TestSuitesMatchCryptoTLS(t *testing.T) {
	for _, cs := range tls.CipherSuites() {
		s, ok := SuiteByID(cs.ID)
		if !ok {
			t.Errorf("%s missing from the table", cs.Name)
			continue
		}
		if s.Name != cs.Name {
			t.Errorf("table names %#04x %s, crypto/tls %s", cs.ID, s.Name, cs.Name)
		}
	}
	if len(suites) != len(tls.CipherSuites()) {
		t.Errorf("table has %d suites, crypto/tls %d", len(suites), len(tls.CipherSuites()))
	}
}
