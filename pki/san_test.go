package pki

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateSAN(t *testing.T) {
	for _, ok := range []string{
		"localhost", "svc.example", "*.svc.example", "a-b.c0", "xn--bcher-kva.example", "EXAMPLE.com",
		"10.1.2.3", "::1", "fd00::7", "::ffff:10.0.0.1",
		strings.Repeat("a", 63) + ".example",
		strings.Repeat(strings.Repeat("a", 62)+".", 4)[:249] + ".com", // 253 characters
	} {
		if err := ValidateSAN(ok); err != nil {
			t.Errorf("ValidateSAN(%q) = %v, want nil", ok, err)
		}
	}
	for _, tc := range []struct{ name, reason string }{
		{"bad name!", "a space is not allowed"},
		{"bad!", `'!' is not allowed`},
		{"", "empty"},
		{"under_score.example", `'_' is not allowed`},
		{"a..b", "empty label"},
		{".example", "empty label"},
		{"example.com.", "drop the trailing dot: example.com"},
		{"-a.example", "starts or ends with a hyphen"},
		{"a-.example", "starts or ends with a hyphen"},
		{strings.Repeat("a", 64) + ".example", "label 1 is 64 characters"},
		{strings.Repeat(strings.Repeat("a", 62)+".", 4)[:250] + ".com", "254 characters"},
		{"*", "needs a domain after it"},
		{"*.*.example", "only as the whole first label"},
		{"a.*.example", "only as the whole first label"},
		{"f*.example", "only as the whole first label"},
		{"1.2.3.256", "last label cannot be all digits"},
		{"01.2.3.4", "last label cannot be all digits"},
		{"[::1]", "without brackets: ::1"},
		{"fe80::1%eth0", "zone"},
		{"1:2:3", "not a valid IPv6 address"},
		{"svc.example:8443", "write svc.example"},
		{"spiffe://cluster/ns/a", "URI names are not supported"},
		{"me@example.com", "e-mail addresses are not supported"},
		{"bücher.example", "xn--"},
		{"tab\there", "control character 0x09"},
		{"a\x00b", "control character 0x00"},
		{"\xff.example", "UTF-8"},
	} {
		err := ValidateSAN(tc.name)
		var se *SANError
		if !errors.As(err, &se) || se.Name != tc.name {
			t.Errorf("ValidateSAN(%q) = %v, want a *SANError", tc.name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.reason) || !strings.Contains(msg, "accepted: a DNS name") || !strings.HasPrefix(msg, "pki: ") {
			t.Errorf("ValidateSAN(%q) = %q, want it to say %q and the accepted forms", tc.name, msg, tc.reason)
		}
	}
}

// Nothing invalid reaches a certificate, whichever way it is asked for.
func TestInvalidSANNeverIssued(t *testing.T) {
	var se *SANError
	if _, err := Generate(Options{SANs: []string{"svc.example", "bad name!"}}); !errors.As(err, &se) || se.Name != "bad name!" {
		t.Errorf("Generate with SAN %q: %v, want a *SANError", "bad name!", err)
	}
	root, err := NewRoot(Ed25519, "test root", time.Now().Add(-time.Hour), 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Issue(LeafRequest{KeyType: Ed25519, Server: true, SANs: []string{"under_score.example"}}, nil); !errors.As(err, &se) {
		t.Errorf("Issue with SAN %q: %v, want a *SANError", "under_score.example", err)
	}
}
