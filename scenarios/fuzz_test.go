package scenarios

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic; every
// error must be an *Error; and any spec it accepts must expand, or fail
// with an *Error, into cases with unique names and keys.
func FuzzParse(f *testing.F) {
	for _, e := range Library() {
		f.Add(e.Source)
	}
	for _, seed := range []string{
		"",
		"matrix: {tls: [1.2, 1.3], group: [x25519, x25519mlkem768], key_share: [p256]}\n",
		"load: &l {duration: 2s}\ntarget: {<<: *l}\n",
		"exclude: [{tls: 1.2}]\ninclude: [{tls: 1.2, resume: '50%'}, {group: p256, key_share: x25519}]\n",
		"target: {kind: external, addr: 'h:1', ca: a, cert: c, key: k}\nmatrix: {cipher: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256], tls: 1.2}\n",
		"load: {steps: [1, 2], step_duration: 1s, rate: 3}\n",
		"a: &a [1]\n---\nb: *a\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := Parse(data, "fuzz.yaml")
		if err != nil {
			checkTyped(t, err)
			return
		}
		cases, skipped, err := Expand(*spec)
		if err != nil {
			checkTyped(t, err)
			return
		}
		if len(cases) == 0 {
			t.Fatal("Expand returned no case and no error")
		}
		checkUnique(t, cases, skipped)
		for _, c := range cases {
			// 11 commas, and one each for auth, trust_store, crl_entries,
			// client, early_data, psk_mode and revoked when they are not
			// their defaults.
			if n := strings.Count(c.Key, ","); c.Name == "" || n < 11 || n > 18 {
				t.Fatalf("case %q has key %q", c.Name, c.Key)
			}
		}
	})
}

func checkTyped(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *scenarios.Error", err, err)
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}
