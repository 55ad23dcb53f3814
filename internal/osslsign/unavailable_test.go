//go:build !cgo || !linux || noopenssl

package osslsign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// TestUnavailable: a build without OpenSSL says so, and how to get it.
func TestUnavailable(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(k); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "libssl-dev") {
		t.Fatalf("New = %v, want ErrUnavailable naming libssl-dev", err)
	}
	if Library() != "" || Available {
		t.Fatal("a build without OpenSSL reports a library")
	}
}
