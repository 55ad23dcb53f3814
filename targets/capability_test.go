package targets

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	// A target without ML-KEM refuses those groups, naming its library and
	// what would work.
	old := Capability{Kind: KindNginx, Library: "OpenSSL 3.0.19", MissingGroups: []string{"x25519mlkem768"}}
	err := old.Check(Config{Groups: []tls.CurveID{tls.X25519, tls.X25519MLKEM768}})
	var unsupported *UnsupportedError
	if !errors.As(err, &unsupported) {
		t.Fatalf("got %v, want an *UnsupportedError", err)
	}
	for _, want := range []string{"x25519mlkem768", "OpenSSL 3.0.19", "OpenSSL 3.5", "builtin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
	one := Capability{Kind: KindOpenSSL, MaxWorkers: 1}
	if err := one.Check(Config{Workers: 2}); !errors.As(err, &unsupported) {
		t.Errorf("two s_server workers: %v", err)
	}
}
