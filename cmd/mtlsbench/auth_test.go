package main

import (
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/testenv"
)

// --auth is an axis flag: a bad value is a usage error naming it and the
// accepted ones, before any load; plain TCP on s_server is refused before
// any load too, saying why.
func TestAuthFlag(t *testing.T) {
	code, stdout, stderr := runCommand(t, "run", "--auth", "oneway")
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, `--auth: unknown auth "oneway"`) || !strings.Contains(stderr, "server (one-way TLS") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	t.Run("openssl", func(t *testing.T) {
		testenv.Program(t, "openssl", "openssl")
		code, _, stderr := runCommand(t, "run", "-q", "--target", "openssl", "--auth", "none", "-o", t.TempDir()+"/r.json")
		if code != exitUsage || !strings.Contains(stderr, "speaks only TLS") {
			t.Errorf("openssl --auth none: exit %d, stderr %q", code, stderr)
		}
	})
}
