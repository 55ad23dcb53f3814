package managed

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

func TestConfigDefaultsOnACopy(t *testing.T) {
	cfg := testConfig(t)
	cfg.CPUs = "0"
	got, err := withDefaults(targets.KindNginx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got.Listen != "127.0.0.1:0" || got.MinVersion != tls.VersionTLS12 || got.MaxVersion != tls.VersionTLS13 ||
		got.Mode != targets.ModeHandshake || got.HandshakeTimeout != targets.DefaultHandshakeTimeout || got.Workers != 1 {
		t.Errorf("defaults not applied: %+v", got)
	}
	if cfg.Listen != "" || cfg.Mode != "" || cfg.Workers != 0 {
		t.Errorf("the caller's Config was modified: %+v", cfg)
	}
}

func TestConfigRefusals(t *testing.T) {
	good, _ := testBundles(t)
	rsa, err := pki.Generate(pki.Options{ServerKeyType: pki.RSA2048})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*targets.Config)
		want string
	}{
		{"no identity", func(c *targets.Config) { c.Identity = pki.Identity{} }, "Identity"},
		{"no client CAs", func(c *targets.Config) { c.ClientCAs = nil }, "ClientCAs"},
		{"handshake delay", func(c *targets.Config) { c.HandshakeDelay = time.Millisecond }, "builtin"},
		{"TLS 1.1", func(c *targets.Config) { c.MinVersion = tls.VersionTLS11 }, "unsupported TLS version TLS 1.1"},
		{"min above max", func(c *targets.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS13, tls.VersionTLS12 }, "above"},
		{"TLS 1.3 suite as TLS 1.2", func(c *targets.Config) { c.CipherSuites = []uint16{tls.TLS_AES_128_GCM_SHA256} }, "is a TLS 1.3 suite"},
		{"TLS 1.2 suite as TLS 1.3", func(c *targets.Config) {
			c.CipherSuitesTLS13 = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		}, "not a TLS 1.3"},
		{"RSA suites for an ECDSA key", func(c *targets.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
		}, "they need an RSA key"},
		{"ECDSA suites for an RSA key", func(c *targets.Config) {
			c.Identity = rsa.Server
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		}, "they need an ECDSA or Ed25519 key"},
		{"unknown group", func(c *targets.Config) { c.Groups = []tls.CurveID{4242} }, "unknown group"},
		{"unknown mode", func(c *targets.Config) { c.Mode = "hold" }, "unknown mode"},
		{"bad CPU list", func(c *targets.Config) { c.CPUs = "9999" }, "does not exist"},
		{"hostname listen", func(c *targets.Config) { c.Listen = "localhost:0" }, "IP address"},
		{"negative workers", func(c *targets.Config) { c.Workers = -1 }, "Workers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := targets.Config{Identity: good.Server, ClientCAs: []*x509.Certificate{good.Root.Cert}}
			tc.edit(&cfg)
			_, err := withDefaults(targets.KindHAProxy, cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "managed:") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestGroupList(t *testing.T) {
	for _, tc := range []struct {
		name        string
		groups      []tls.CurveID
		max         uint16
		want        string
		serverOrder bool
	}{
		{"server default", nil, tls.VersionTLS12, "", false},
		{"TLS 1.3 exactly as asked", []tls.CurveID{tls.X25519}, tls.VersionTLS13, "X25519", false},
		// TLS 1.2: ECDSA certificate curves must be in the list; the case's
		// group stays first and the server's order decides.
		{"TLS 1.2 adds certificate curves", []tls.CurveID{tls.X25519}, tls.VersionTLS12, "X25519:P-256:P-384:P-521", true},
		{"TLS 1.2 keeps the order", []tls.CurveID{tls.CurveP384}, tls.VersionTLS12, "P-384:P-256:P-521", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, order := groupList(targets.Config{Groups: tc.groups, MaxVersion: tc.max})
			if got != tc.want || order != tc.serverOrder {
				t.Errorf("got %q, server order %v; want %q, %v", got, order, tc.want, tc.serverOrder)
			}
		})
	}
}

// TestConfigFiles renders each server's configuration without
// running it: the case's parameters must be there, spelled as the server
// expects.
func TestConfigFiles(t *testing.T) {
	cfg := testConfig(t)
	cfg.MinVersion = tls.VersionTLS13
	cfg.CipherSuitesTLS13 = []uint16{tls.TLS_CHACHA20_POLY1305_SHA256}
	cfg.Groups = []tls.CurveID{tls.X25519, tls.CurveP256}
	cfg.DisableTickets = true
	cfg, err := withDefaults(targets.KindNginx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bin := binary{build: nginxBuild{stream: "static"}}

	dir := t.TempDir()
	plan, err := nginx{}.configure(dir, cfg, "127.0.0.1:8443", bin)
	if err != nil {
		t.Fatal(err)
	}
	conf := readFile(t, filepath.Join(dir, "nginx.conf"))
	for _, want := range []string{
		"stream {", "listen 127.0.0.1:8443 ssl;", "ssl_verify_client on;", "ssl_protocols TLSv1.3;",
		"ssl_conf_command Ciphersuites TLS_CHACHA20_POLY1305_SHA256;", "ssl_ecdh_curve X25519:P-256;",
		"ssl_session_tickets off;", "ssl_session_cache off;", "ssl_conf_command NumTickets 0;", `return "";`,
		"$ssl_client_verify", "mtlsbench/2 $msec $session_time ",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx.conf lacks %q:\n%s", want, conf)
		}
	}
	if !slices.Contains(plan.args, "-e") || plan.stop == 0 {
		t.Errorf("nginx plan %+v", plan)
	}
	if st, err := os.Stat(filepath.Join(dir, "server-key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if _, err := (nginx{}).configure(t.TempDir(), cfg, "127.0.0.1:8443", binary{}); err == nil ||
		!strings.Contains(err.Error(), "libnginx-mod-stream") {
		t.Errorf("nginx without a stream module: %v, want an error naming libnginx-mod-stream", err)
	}

	http := cfg
	http.Mode = targets.ModeHTTP
	http.DisableTickets = false
	dir = t.TempDir()
	if _, err := (nginx{}).configure(dir, http, "127.0.0.1:8443", binary{}); err != nil {
		t.Fatal(err)
	}
	conf = readFile(t, filepath.Join(dir, "nginx.conf"))
	for _, want := range []string{"http {", `return 200 "ok\n";`, "$connection_requests", "ssl_session_tickets on;", "ssl_session_cache shared:", "error.log info;",
		"mtlsbench/2 $msec $connection_time "} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx.conf (http) lacks %q:\n%s", want, conf)
		}
	}
	var unsupported *targets.UnsupportedError
	if _, err := (nginx{}).configure(t.TempDir(), http, "127.0.0.1:8443", binary{version: "nginx/1.18.0"}); !errors.As(err, &unsupported) ||
		!strings.Contains(err.Error(), "1.19.10") {
		t.Errorf("http mode with nginx 1.18: %v, want an *UnsupportedError naming 1.19.10", err)
	}

	dir = t.TempDir()
	plan, err = haproxy{}.configure(dir, cfg, "127.0.0.1:8443", binary{})
	if err != nil {
		t.Fatal(err)
	}
	plan.releasePlan()
	conf = readFile(t, filepath.Join(dir, "haproxy.cfg"))
	for _, want := range []string{
		"mode tcp", "bind 127.0.0.1:8443 ssl crt", "verify required", "ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3",
		"ciphersuites TLS_CHACHA20_POLY1305_SHA256", "curves X25519:P-256", "no-tls-tickets", "tune.ssl.cachesize 0",
		"log ring@mtlsbench format raw", "server collector " + plan.record.(*haproxyLog).collector.addr() + " log-proto legacy",
		"tcp-request connection set-var(sess.mtlsbench_accepted) date(0,ms)",
		"%[ssl_fc_is_resumed]", "%[ssl_c_err]", "WAIT_END",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, conf)
		}
	}

	dir = t.TempDir()
	plan, err = openssl{}.configure(dir, cfg, "127.0.0.1:8443", binary{})
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(plan.args, " ")
	for _, want := range []string{
		"s_server -accept 127.0.0.1:8443", "-Verify 8", "-verify_return_error", "-min_protocol TLSv1.3 -max_protocol TLSv1.3",
		"-ciphersuites TLS_CHACHA20_POLY1305_SHA256", "-groups X25519:P-256", "-no_ticket -no_cache -num_tickets 0",
		"-www", "-cert_chain",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("s_server arguments lack %q: %s", want, args)
		}
	}
	if plan.probeCert == nil {
		t.Error("s_server's plan has no probe certificate (its statistics need one)")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestOpenSSLAtLeast(t *testing.T) {
	for _, tc := range []struct {
		lib  string
		want bool
	}{
		{"OpenSSL 3.0.19", false},
		{"OpenSSL 3.5.0", true},
		{"OpenSSL 3.10.1", true},
		{"OpenSSL 4.0.0", true},
		{"LibreSSL 3.9.0", false},
		{"an unidentified TLS library", false},
	} {
		if got := openSSLAtLeast(tc.lib, 3, 5); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.lib, got, tc.want)
		}
	}
}

// TestCapabilitiesOnThisMachine reports what the installed servers can do:
// the groups of their OpenSSL are probed, not assumed.
func TestCapabilitiesOnThisMachine(t *testing.T) {
	for _, kind := range []targets.Kind{targets.KindNginx, targets.KindHAProxy, targets.KindOpenSSL, targets.KindNode} {
		t.Run(string(kind), func(t *testing.T) {
			requireServer(t, kind)
			c, err := targets.Capabilities(kind)
			if err != nil {
				t.Fatal(err)
			}
			lib := c.TLS.Library
			t.Logf("%s %s with %s: groups %v, missing %v", kind, c.Version, lib, c.TLS.Groups, c.TLS.MissingGroups())
			x25519, _ := tlsparams.ParseGroup("x25519")
			p256, _ := tlsparams.ParseGroup("p256")
			mlkem, _ := tlsparams.ParseGroup("x25519mlkem768")
			if !c.TLS.Has(tlsparams.PinTLS13Suite) || !c.TLS.Offers(x25519) || !c.TLS.Offers(p256) || c.TLS.Name != string(kind) {
				t.Errorf("%+v", c)
			}
			if pq := c.TLS.Offers(mlkem); pq != openSSLAtLeast(lib, 3, 5) {
				t.Errorf("%s: ML-KEM offered=%v does not fit %s", kind, pq, lib)
			}
			missing := c.TLS.MissingGroups()
			if len(missing) == 0 {
				return
			}
			// A case with a group the library lacks is refused before the
			// server is started.
			cfg := testConfig(t)
			cfg.Groups = []tls.CurveID{missing[0].ID}
			_, err = Start(t.Context(), kind, cfg)
			var unsupported *tlsparams.UnsupportedError
			if !errors.As(err, &unsupported) || !strings.Contains(err.Error(), lib) {
				t.Errorf("start with %s: %v, want a *tlsparams.UnsupportedError naming %s", missing[0].Name, err, lib)
			} else {
				t.Logf("refused: %v", err)
			}
		})
	}
}

// TestMissingBinary: a server that is not installed is an error
// naming the Debian package, before anything is written or started.
func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := sbinDirs
	sbinDirs = nil
	defer func() { sbinDirs = saved }()
	savedPrefix := nodeOwnPrefix
	nodeOwnPrefix = t.TempDir()
	defer func() { nodeOwnPrefix = savedPrefix }()
	t.Setenv(BinaryEnv(targets.KindNode), "")
	for _, p := range programs {
		kind, pkg := p.kind(), p.debianPackage()
		_, err := Start(t.Context(), kind, testConfig(t))
		install := "apt-get install " + pkg
		if own, ok := p.(ownInstall); ok {
			install = own.install()
		}
		var missing *targets.MissingBinaryError
		if !errors.As(err, &missing) || missing.Package != pkg || !strings.Contains(err.Error(), install) {
			t.Errorf("%s: got %v, want a *MissingBinaryError naming package %s", kind, err, pkg)
		}
	}
}
