package managed

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// One-way TLS and plain TCP in each server's configuration: nginx turns
// client verification off or drops ssl from the listener, HAProxy binds
// with verify none or without ssl, s_server stops requiring a
// certificate and refuses plain TCP before it starts.
func TestAuthConfigFiles(t *testing.T) {
	bin := binary{build: nginxBuild{stream: "static"}}
	for _, tt := range []struct {
		auth        tlsparams.Auth
		nginx, not  []string
		haproxy, no []string
	}{
		{tlsparams.AuthServer,
			[]string{"listen 127.0.0.1:8443 ssl;", "ssl_verify_client off;", "ssl_handshake_timeout"},
			[]string{"ssl_client_certificate", "ssl_verify_client on;"},
			[]string{"bind 127.0.0.1:8443 ssl crt", " verify none ssl-min-ver", "%[ssl_c_used]"},
			[]string{"ca-file", "verify required"}},
		{tlsparams.AuthNone,
			[]string{"listen 127.0.0.1:8443;", `return "";`},
			[]string{"ssl_certificate", "ssl_verify_client", "ssl_protocols", "ssl_handshake_timeout", "listen 127.0.0.1:8443 ssl"},
			[]string{"bind 127.0.0.1:8443\n", "WAIT_END"},
			[]string{" ssl crt", "ca-file", "verify "}},
	} {
		cfg := testConfig(t)
		cfg.Auth = tt.auth
		cfg, err := withDefaults(targets.KindNginx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := (nginx{}).configure(dir, cfg, "127.0.0.1:8443", bin); err != nil {
			t.Fatal(err)
		}
		conf := readFile(t, filepath.Join(dir, "nginx.conf"))
		for _, want := range tt.nginx {
			if !strings.Contains(conf, want) {
				t.Errorf("auth %s: nginx.conf lacks %q:\n%s", tt.auth, want, conf)
			}
		}
		for _, unwanted := range tt.not {
			if strings.Contains(conf, unwanted) {
				t.Errorf("auth %s: nginx.conf has %q:\n%s", tt.auth, unwanted, conf)
			}
		}
		dir = t.TempDir()
		plan, err := haproxy{}.configure(dir, cfg, "127.0.0.1:8443", binary{})
		if err != nil {
			t.Fatal(err)
		}
		plan.releasePlan()
		conf = readFile(t, filepath.Join(dir, "haproxy.cfg"))
		for _, want := range tt.haproxy {
			if !strings.Contains(conf, want) {
				t.Errorf("auth %s: haproxy.cfg lacks %q:\n%s", tt.auth, want, conf)
			}
		}
		for _, unwanted := range tt.no {
			if strings.Contains(conf, unwanted) {
				t.Errorf("auth %s: haproxy.cfg has %q:\n%s", tt.auth, unwanted, conf)
			}
		}
	}

	cfg := testConfig(t)
	cfg.Auth = tlsparams.AuthServer
	plan, err := openssl{}.configure(t.TempDir(), cfg, "127.0.0.1:8443", binary{})
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(plan.args, " "); strings.Contains(args, "-Verify") || strings.Contains(args, "-verify ") {
		t.Errorf("one-way s_server asks for a certificate: %s", args)
	}
	var c targets.Capability
	openssl{}.capability(&c)
	cfg.Auth = tlsparams.AuthNone
	var unsupported *targets.UnsupportedError
	if err := c.Check(cfg, 0); !errors.As(err, &unsupported) || !strings.Contains(err.Error(), "speaks only TLS") {
		t.Errorf("s_server with auth none: %v, want an *UnsupportedError saying why", err)
	}
	for _, p := range []program{nginx{}, haproxy{}} {
		var c targets.Capability
		p.capability(&c)
		if err := c.Check(cfg, 0); err != nil {
			t.Errorf("%s refuses auth none: %v", p.kind(), err)
		}
	}
}

// The logs' verdict on the client certificate, by auth: nginx's
// $ssl_client_verify and HAProxy's ssl_c_used become Counts.ClientVerify;
// plain TCP counts connections and no TLS.
func TestAuthLogs(t *testing.T) {
	oneWay := &nginxLog{auth: tlsparams.AuthServer}
	for _, line := range []string{
		`mtlsbench/2 1795496020.492 0.001 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost NONE`,
		`mtlsbench/2 1795496020.495 0.001 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 r localhost NONE`,
		// a certificate the server should not have asked for
		`mtlsbench/2 1795496020.499 0.002 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
	} {
		oneWay.parseAccess(line)
	}
	if got, want := oneWay.tally.seen.ClientVerify, map[string]int64{"NONE": 2, "SUCCESS": 1}; !reflect.DeepEqual(got, want) || oneWay.tally.seen.Handshakes != 3 {
		t.Errorf("nginx, auth server: %+v, want client verify %v", oneWay.tally.seen, want)
	}
	mutual := &nginxLog{}
	for _, line := range []string{
		`mtlsbench/2 1795496020.492 0.001 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		`mtlsbench/2 1795496020.504 0.000 500 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . - NONE`,
	} {
		mutual.parseAccess(line)
	}
	if got := mutual.tally.seen; got.Handshakes != 1 || got.VerifyFailures != 1 || !reflect.DeepEqual(got.ClientVerify, map[string]int64{"SUCCESS": 1}) {
		t.Errorf("nginx, mutual: %+v", got)
	}
	plain := &nginxLog{auth: tlsparams.AuthNone}
	plain.parseAccess(`mtlsbench/2 1795496020.492 0.000 200 1 - - - - -`)
	if got := plain.tally.seen; got.Handshakes != 1 || got.ClientVerify != nil || got.Versions != nil || got.Failed != 0 {
		t.Errorf("nginx, plain: %+v", got)
	}

	h := &haproxyLog{tls: true}
	for _, line := range []string{
		`mtlsbench/2 ok 1795496021252 localhost TLSv1.3 TLS_AES_256_GCM_SHA384 0 0 1 -1 0`,
		`mtlsbench/2 ok 1795496021254 localhost TLSv1.3 TLS_AES_256_GCM_SHA384 1 0 1 -1 1`,
	} {
		h.parse(line)
	}
	if got := h.tally.seen.ClientVerify; !reflect.DeepEqual(got, map[string]int64{"NONE": 1, "SUCCESS": 1}) {
		t.Errorf("haproxy: client verify %v", got)
	}
	hp := &haproxyLog{}
	hp.parse(`mtlsbench/2 ok 1795496021252 - - - - - 1 -1 -`)
	if got := hp.tally.seen; got.Handshakes != 1 || got.ClientVerify != nil {
		t.Errorf("haproxy, plain: %+v", got)
	}
}
