//go:build !(cgo && linux && !noopenssl)

package main

import (
	"strings"
	"testing"
)

// A binary without the openssl client (CGO_ENABLED=0, -tags noopenssl,
// make dist) refuses it before any load, exit 2, saying how to get it.
// make cross runs this in such a build.
func TestOpenSSLClientMissing(t *testing.T) {
	code, _, stderr := runCommand(t, "run", "--client", "openssl", "-d", "1s", "-q")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitUsage, stderr)
	}
	for _, want := range []string{"built without the OpenSSL client", "libssl-dev"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q: %q", want, stderr)
		}
	}
}
