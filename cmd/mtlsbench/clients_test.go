package main

import (
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// --client, --early-data (also --early_data) and --psk-mode reach the
// cases as axes; --resume session-id too.
func TestRunClientFlags(t *testing.T) {
	spec, fs, err := applyRunFlags(t, "--client", "go,openssl", "--early_data", "4k", "--psk-mode", "ke", "--tls", "1.3", "--resume", "tickets")
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err := scenarios.Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].Client != "" || cases[1].Client != tlsparams.ClientOpenSSL || cases[1].EarlyData != 4096 || !cases[1].PSKMode.KE() {
		t.Fatalf("cases %+v", cases)
	}
	for _, n := range []string{"client", "early-data", "psk-mode"} {
		if f := fs.Lookup(n); f == nil || f.Annotations[groupAnnotation] == nil || f.Annotations[groupAnnotation][0] != "tls" {
			t.Errorf("--%s is not in the tls help group: %+v", n, f)
		}
	}
}

// A bad value of each flag is a usage error (exit 2) before any load,
// naming the flag, the value and the accepted ones; so is asking the go
// client for what only the openssl client does, which names the openssl
// client.
func TestRunClientFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--client", "boringssl"}, []string{`--client: unknown client "boringssl"`, "go (Go's crypto/tls), openssl"}},
		{[]string{"--early-data", "lots"}, []string{`--early-data: early data "lots" must be a size in bytes from 0 (none) to 16384`}},
		{[]string{"--psk-mode", "none"}, []string{`--psk-mode: unknown psk mode "none"`, "dhe (psk_dhe_ke", "ke (psk_ke"}},
		{[]string{"--resume", "sessions"}, []string{`--resume: unknown resume "sessions"`, "session-id (TLS 1.2 resumption by session ID"}},
		{[]string{"--resume", "session-id", "--tls", "1.2"}, []string{"the go client cannot resume by session ID", "it keeps no session-ID cache", "the openssl client can (--client openssl, or client: openssl in a scenario)"}},
		{[]string{"--resume", "session-id", "--tls", "1.3"}, []string{"session IDs resume TLS 1.2 only"}},
		{[]string{"--early-data", "512", "--tls", "1.3", "--resume", "tickets"}, []string{"the go client cannot send and accept TLS 1.3 early data", "the openssl client can"}},
		{[]string{"--psk-mode", "ke", "--tls", "1.3", "--resume", "tickets"}, []string{"the go client cannot resume without (EC)DHE (psk_ke)"}},
	} {
		code, stdout, stderr := runCommand(t, append([]string{"run", "-q", "-d", "1s", "-o", t.TempDir() + "/r.json"}, tc.args...)...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, stdout, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
	}
}
