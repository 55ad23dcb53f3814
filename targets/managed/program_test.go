package managed

import (
	"slices"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/targets"
)

// TestPrograms: every server in the table has a kind of its own, names its
// executable and package, and is registered with targets.
func TestPrograms(t *testing.T) {
	seen := map[targets.Kind]bool{}
	for _, p := range programs {
		k := p.kind()
		if seen[k] {
			t.Errorf("kind %q listed twice", k)
		}
		seen[k] = true
		if p.command() == "" || p.debianPackage() == "" || len(p.versionArgs()) == 0 {
			t.Errorf("%s: command %q, package %q, version arguments %q", k, p.command(), p.debianPackage(), p.versionArgs())
		}
		if !slices.Contains(targets.Kinds(), k) {
			t.Errorf("%s is not registered with targets", k)
		}
		if got, err := programFor(k); err != nil || got != p {
			t.Errorf("programFor(%s) = %v, %v", k, got, err)
		}
	}
	_, err := programFor(targets.KindBuiltin)
	if err == nil || !strings.Contains(err.Error(), `"builtin" is not a managed server (accepted: nginx, haproxy, openssl, node)`) {
		t.Errorf("programFor(builtin): %v", err)
	}
	if _, err := Start(t.Context(), targets.KindBuiltin, testConfig(t)); err == nil {
		t.Error("Start started the builtin target")
	}
}

// TestIdentify reads versions as the servers print them (nginx 1.22,
// HAProxy 2.6 and OpenSSL 3.0 on Debian 12).
func TestIdentify(t *testing.T) {
	for _, tc := range []struct {
		p       program
		output  string
		version string
		library string
		build   any
	}{
		{nginx{}, "nginx version: nginx/1.22.1\n" +
			"built with OpenSSL 3.0.22 25 Aug 2026 (running with OpenSSL 3.0.19 27 Jan 2026)\n" +
			"TLS SNI support enabled\n" +
			"configure arguments: --prefix=/usr/share/nginx --modules-path=/usr/lib/nginx/modules --with-stream=dynamic --with-stream_geoip_module=dynamic\n",
			"nginx/1.22.1", "OpenSSL 3.0.19", nginxBuild{stream: "dynamic", modules: "/usr/lib/nginx/modules"}},
		{nginx{}, "nginx version: nginx/1.25.0\nbuilt with OpenSSL 3.5.0 8 Apr 2025\nconfigure arguments: --prefix=/opt/nginx --with-stream\n",
			"nginx/1.25.0", "OpenSSL 3.5.0", nginxBuild{stream: "static", modules: "/opt/nginx/modules"}},
		{haproxy{}, "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\n" +
			"Running on OpenSSL version : OpenSSL 3.0.19 27 Jan 2026\n",
			"HAProxy 2.6.12-1+deb12u4", "OpenSSL 3.0.19", nil},
		{openssl{}, "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)\n",
			"OpenSSL 3.0.19", "OpenSSL 3.0.19", nil},
		{node{}, "Node.js v24.22.3 OpenSSL 3.5.9\n", "Node.js v24.22.3", "OpenSSL 3.5.9", nil},
		{node{}, "Node.js v20.20.2 OpenSSL 3.0.19+quic\n", "Node.js v20.20.2", "OpenSSL 3.0.19", nil},
	} {
		var b binary
		tc.p.identify(tc.output, &b)
		if b.version != tc.version || b.library != tc.library || b.build != tc.build {
			t.Errorf("%s: version %q, library %q, build %+v; want %q, %q, %+v", tc.p.kind(), b.version, b.library, b.build, tc.version, tc.library, tc.build)
		}
	}
}
