package managed

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/targets"
)

// HTTP/2 mode's configurations: nginx's listen parameter before 1.25.1
// and its http2 directive from it, HAProxy's alpn h2, and each log line
// carrying the request's HTTP version for the cross-check.
func TestHTTP2Config(t *testing.T) {
	cfg := testConfig(t)
	cfg.Mode = targets.ModeHTTP2
	for _, c := range []struct {
		version      string
		want, absent string
	}{
		{"nginx/1.22.1", "listen 127.0.0.1:8443 ssl http2;", "http2 on;"},
		{"nginx/1.25.1", "http2 on;", "ssl http2;"},
	} {
		dir := t.TempDir()
		if _, err := (nginx{}).configure(dir, cfg, "127.0.0.1:8443", binary{version: c.version}); err != nil {
			t.Fatal(err)
		}
		conf := readFile(t, filepath.Join(dir, "nginx.conf"))
		for _, want := range []string{c.want, "http {", `return 200 "ok\n";`, "mtlsbench/3 $msec $connection_time $status $connection_requests $server_protocol "} {
			if !strings.Contains(conf, want) {
				t.Errorf("%s: nginx.conf lacks %q:\n%s", c.version, want, conf)
			}
		}
		if strings.Contains(conf, c.absent) {
			t.Errorf("%s: nginx.conf has %q:\n%s", c.version, c.absent, conf)
		}
	}

	dir := t.TempDir()
	plan, err := haproxy{}.configure(dir, cfg, "127.0.0.1:8443", binary{})
	if err != nil {
		t.Fatal(err)
	}
	plan.releasePlan()
	conf := readFile(t, filepath.Join(dir, "haproxy.cfg"))
	for _, want := range []string{" verify required alpn h2", "mode http", "http-request return status 200", `%ST %[ssl_c_used] %HV"`} {
		if !strings.Contains(conf, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, conf)
		}
	}
}

// The log lines of HTTP/2 requests count as HTTP/2 requests; a request
// over HTTP/1.1 on the same server counts only as a request.
func TestHTTP2ParseLogs(t *testing.T) {
	n := &nginxLog{http: true}
	for _, line := range []string{
		// one connection, three requests over HTTP/2, accepted at .836
		`mtlsbench/3 1795496020.838 0.002 200 1 HTTP/2.0 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		`mtlsbench/3 1795496020.839 0.003 200 2 HTTP/2.0 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		`mtlsbench/3 1795496020.839 0.003 200 3 HTTP/2.0 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		// a client that spoke HTTP/1.1 to the same server
		`mtlsbench/3 1795496020.845 0.001 200 1 HTTP/1.1 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		// a refused certificate: no request counted
		`mtlsbench/3 1795496020.846 0.000 400 1 HTTP/2.0 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost FAILED:unable to verify the first certificate`,
		// the ready probe
		`mtlsbench/3 1795496020.830 0.001 400 1 HTTP/2.0 TLSv1.3 TLS_AES_128_GCM_SHA256 . mtlsbench-probe.invalid NONE`,
	} {
		n.parseAccess(line)
	}
	if got := n.tally.seen; got.Handshakes != 2 || got.Requests != 4 || got.HTTP2Requests != 3 || got.VerifyFailures != 1 {
		t.Errorf("nginx counted %+v, want 2 handshakes, 4 requests of which 3 HTTP/2, 1 verify failure", got)
	}

	h := &haproxyLog{http: true}
	for _, line := range []string{
		`mtlsbench/2 ok 1795496021620 localhost TLSv1.3 TLS_AES_128_GCM_SHA256 0 0 1 200 1 HTTP/2.0`,
		`mtlsbench/2 ok 1795496021620 localhost TLSv1.3 TLS_AES_128_GCM_SHA256 0 0 - 200 1 HTTP/2.0`,
		`mtlsbench/2 ok 1795496021630 localhost TLSv1.3 TLS_AES_128_GCM_SHA256 0 0 1 200 1 HTTP/1.1`,
		// an http mode line, without the version (its last field is CERT, ssl_c_used)
		`mtlsbench/2 ok 1795496021640 localhost TLSv1.3 TLS_AES_128_GCM_SHA256 0 0 1 200 1`,
	} {
		h.parse(line)
	}
	if got := h.tally.seen; got.Handshakes != 3 || got.Requests != 4 || got.HTTP2Requests != 2 {
		t.Errorf("haproxy counted %+v, want 3 handshakes, 4 requests of which 2 HTTP/2", got)
	}
}

// s_server serves no HTTP/2: a case asking for it is refused, naming the
// servers that can.
func TestHTTP2Modes(t *testing.T) {
	c := targets.Capability{Kind: targets.KindOpenSSL, Modes: []targets.Mode{targets.ModeHandshake, targets.ModeHTTP}}
	err := c.Check(targets.Config{Mode: targets.ModeHTTP2}, 10)
	if err == nil || !strings.Contains(err.Error(), `cannot serve mode "http2": accepted: handshake, http; HTTP/2 needs builtin, nginx or haproxy`) {
		t.Errorf("s_server in http2 mode: %v", err)
	}
	for _, p := range []program{nginx{}, haproxy{}} {
		var c targets.Capability
		p.capability(&c)
		if len(c.Modes) == 0 || c.Modes[len(c.Modes)-1] != targets.ModeHTTP2 {
			t.Errorf("%s: modes %v lack http2", p.kind(), c.Modes)
		}
		// nginx's access log has no line for a connection without a
		// request; HAProxy logs one (error-log-format).
		if err := c.CheckRequests(targets.ModeHTTP2, 0); (err != nil) != (p.kind() == targets.KindNginx) {
			t.Errorf("%s in http2 mode with no requests: %v", p.kind(), err)
		}
	}
}
