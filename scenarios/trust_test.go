package scenarios

import (
	"strings"
	"testing"
)

// trust_store and crl_entries expand like every axis: each value is a
// case, named "ca200"/"crl1000" when the axis varies, and the key names
// them only away from their defaults (1 and 0), so a key from before
// these axes still matches its case. revoked_clients ends the key.
func TestTrustStoreAndCRLAxes(t *testing.T) {
	spec, err := Parse([]byte("matrix:\n  trust_store: [1, 200]\n  crl_entries: [0, 1000]\ntarget:\n  revoked_clients: 0\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name      string
		ca, crl   int
		keySuffix string
	}{
		{"tls1.3-full-ecdsa-p256-x25519-ca1-crl0", 1, 0, "requests=0,target=builtin,mode=handshake"},
		{"tls1.3-full-ecdsa-p256-x25519-ca1-crl1000", 1, 1000, "requests=0,crl_entries=1000,target=builtin,mode=handshake"},
		{"tls1.3-full-ecdsa-p256-x25519-ca200-crl0", 200, 0, "requests=0,trust_store=200,target=builtin,mode=handshake"},
		{"tls1.3-full-ecdsa-p256-x25519-ca200-crl1000", 200, 1000, "requests=0,trust_store=200,crl_entries=1000,target=builtin,mode=handshake"},
	}
	if len(cases) != len(want) {
		t.Fatalf("%d cases, want %d", len(cases), len(want))
	}
	for i, w := range want {
		c := cases[i]
		if c.Name != w.name || c.TrustStore != w.ca || c.CRLEntries != w.crl || !strings.HasSuffix(c.Key, w.keySuffix) {
			t.Errorf("case %d: %s (trust %d, crl %d) key %s; want %s (%d, %d) key ending %s", i, c.Name, c.TrustStore, c.CRLEntries, c.Key, w.name, w.ca, w.crl, w.keySuffix)
		}
	}
	// The flags' way in, and revoked_clients in the key.
	spec, _ = Parse([]byte("name: x\n"), "x.yaml")
	k := 1
	if err := spec.Apply(Overrides{Axes: []AxisOverride{{Axis: "crl-entries", Values: []string{"100000"}}}, RevokedClients: &k}); err != nil {
		t.Fatal(err)
	}
	cases, _, err = Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if c := cases[0]; c.CRLEntries != 100000 || c.TrustStore != 1 || !strings.HasSuffix(c.Key, ",revoked=1") {
		t.Errorf("case %+v", c)
	}
}

// Out-of-range values, these axes on an external target, and revoked
// clients without a CRL or beyond the identities are refused, each naming
// the fix.
func TestTrustStoreAndCRLRefused(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"matrix:\n  trust_store: [0]\n", "from 1 to 1000"},
		{"matrix:\n  trust_store: [1001]\n", "64 KiB CertificateRequest"},
		{"matrix:\n  crl_entries: [-1]\n", "from 0 (no CRL) to 1000000"},
		{"matrix:\n  crl_entries: [1000001]\n", "from 0 (no CRL) to 1000000"},
		{"target:\n  kind: external\n  addr: 10.0.0.5:443\n  cert: c.pem\n  key: k.pem\n  ca: ca.pem\nmatrix:\n  trust_store: [10]\n", "trust_store is not for an external target"},
		{"target:\n  kind: external\n  addr: 10.0.0.5:443\n  cert: c.pem\n  key: k.pem\n  ca: ca.pem\nmatrix:\n  crl_entries: [10]\n", "pki gen --revoked K --crl-entries N"},
		{"target:\n  kind: external\n  addr: 10.0.0.5:443\n  cert: c.pem\n  key: k.pem\n  ca: ca.pem\n  revoked_clients: 1\n", "crl.pem"},
		{"target:\n  revoked_clients: 1\n", "needs a CRL to be on"},
		{"target:\n  revoked_clients: 2\nmatrix:\n  crl_entries: [10]\n", "more than the case's one client identity"},
		{"target:\n  revoked_clients: 5\nmatrix:\n  crl_entries: [10, 3]\n  client_identities: [10]\n", "crl_entries 3 is below target.revoked_clients 5"},
		{"target:\n  revoked_clients: 5\nmatrix:\n  crl_entries: [10]\n  client_identities: [4]\n", "client_identities 4 is below target.revoked_clients 5"},
	} {
		spec, err := Parse([]byte(tc.yaml), "r.yaml")
		if err == nil {
			_, _, err = Expand(*spec)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}
