package targets

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// These tests feed the parsers lines as the servers wrote them (captured
// from nginx 1.22, HAProxy 2.6 and OpenSSL 3.0) and need no server.

func TestNginxParseStream(t *testing.T) {
	s := &nginxServer{}
	for _, line := range []string{
		// full, then resumed TLS 1.2 handshake
		`mtlsbench/1 200 1 TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 . localhost SUCCESS`,
		`mtlsbench/1 200 1 TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 r localhost SUCCESS`,
		// TLS 1.3 handshake
		`mtlsbench/1 200 1 TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 . localhost SUCCESS`,
		// completed handshake, certificate from another CA, refused by nginx
		`mtlsbench/1 500 1 TLSv1.3 TLS_AES_256_GCM_SHA384 . localhost FAILED:unable to verify the first certificate`,
		// completed handshake without a client certificate
		`mtlsbench/1 500 1 TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 . - NONE`,
		// the harness's ready probe: not counted
		`mtlsbench/1 500 1 TLSv1.3 TLS_AES_256_GCM_SHA384 . mtlsbench-probe.invalid NONE`,
		// handshake failure (no shared cipher)
		`mtlsbench/1 500 1 TLSv1.2 (NONE) . - NONE`,
		// not ours
		`something else entirely`,
	} {
		s.parseAccess(line)
	}
	want := Counts{
		Handshakes: 3, Resumed: 1, Failed: 3, VerifyFailures: 2,
		Versions: map[string]int64{"1.2": 2, "1.3": 1},
		Ciphers: map[string]int64{
			"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": 2,
			"TLS_CHACHA20_POLY1305_SHA256":            1,
		},
	}
	if !reflect.DeepEqual(s.seen, want) {
		t.Errorf("got %+v\nwant %+v", s.seen, want)
	}
}

func TestNginxParseHTTP(t *testing.T) {
	s := &nginxServer{http: true}
	for _, line := range []string{
		// a connection with three requests
		`mtlsbench/1 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		`mtlsbench/1 200 2 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		`mtlsbench/1 200 3 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		// a resumed connection with one request
		`mtlsbench/1 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 r localhost SUCCESS`,
		// refused certificate: 400
		`mtlsbench/1 400 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost FAILED:unable to verify the first certificate`,
	} {
		s.parseAccess(line)
	}
	for _, line := range []string{
		`2026/11/24 04:23:55 [info] 14176#14176: *1 client 127.0.0.1 closed keepalive connection`,
		`2026/11/24 04:23:55 [info] 14176#14176: *4 SSL_do_handshake() failed (SSL: error:0A0000C1:SSL routines::no shared cipher) while SSL handshaking, client: 127.0.0.1, server: 127.0.0.1:14438`,
		`2026/11/24 04:23:55 [info] 14177#14177: *2 client closed connection while waiting for request, client: 127.0.0.1, server: 127.0.0.1:14438`,
	} {
		s.parseError(line)
	}
	want := Counts{
		Handshakes: 2, Resumed: 1, Failed: 2, VerifyFailures: 1, Requests: 4,
		Versions: map[string]int64{"1.3": 2},
		Ciphers:  map[string]int64{"TLS_AES_128_GCM_SHA256": 2},
	}
	if !reflect.DeepEqual(s.seen, want) {
		t.Errorf("got %+v\nwant %+v", s.seen, want)
	}
}

func TestHAProxyParse(t *testing.T) {
	tcp := &haproxyServer{}
	for _, line := range []string{
		`mtlsbench/1 ok - TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 0 0 1 -1`,
		`mtlsbench/1 ok - TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 1 0 1 -1`,
		`mtlsbench/1 ok localhost TLSv1.3 TLS_AES_256_GCM_SHA384 1 0 1 -1`,
		// certificate from another CA, TLS 1.2 and 1.3
		`mtlsbench/1 err - TLSv1.2 (NONE) 0 31 20 0 error:0A000086:SSL routines::certificate verify failed`,
		`mtlsbench/1 err - TLSv1.3 TLS_AES_256_GCM_SHA384 0 31 20 0 error:0A000086:SSL routines::certificate verify failed`,
		// no client certificate
		`mtlsbench/1 err - TLSv1.3 TLS_AES_256_GCM_SHA384 0 34 0 0 error:0A0000C7:SSL routines::peer did not return a certificate`,
		// the ready probe
		`mtlsbench/1 err mtlsbench-probe.invalid TLSv1.3 TLS_AES_256_GCM_SHA384 0 34 0 0 error:0A0000C7:SSL routines::peer did not return a certificate`,
		// no shared cipher
		`mtlsbench/1 err - TLSv1.2 (NONE) 0 34 0 0 error:0A0000C1:SSL routines::no shared cipher`,
	} {
		tcp.parse(line)
	}
	want := Counts{
		Handshakes: 3, Resumed: 2, Failed: 4, VerifyFailures: 3,
		Versions: map[string]int64{"1.2": 2, "1.3": 1},
		Ciphers: map[string]int64{
			"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": 2,
			"TLS_AES_256_GCM_SHA384":                  1,
		},
	}
	if !reflect.DeepEqual(tcp.seen, want) {
		t.Errorf("tcp mode: got %+v\nwant %+v", tcp.seen, want)
	}

	http := &haproxyServer{http: true}
	for _, line := range []string{
		// two requests on one connection: the first carries the session mark
		`mtlsbench/1 ok - TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 0 0 1 200`,
		`mtlsbench/1 ok - TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 0 0 - 200`,
		// a malformed request HAProxy answered itself: not one of ours
		`mtlsbench/1 ok - TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 0 0 - 400`,
		// a connection that completed its handshake and sent no request
		`mtlsbench/1 err - TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 1 0 0 0 -`,
	} {
		http.parse(line)
	}
	want = Counts{
		Handshakes: 2, Resumed: 1, Requests: 2,
		Versions: map[string]int64{"1.3": 2},
		Ciphers:  map[string]int64{"TLS_CHACHA20_POLY1305_SHA256": 2},
	}
	if !reflect.DeepEqual(http.seen, want) {
		t.Errorf("http mode: got %+v\nwant %+v", http.seen, want)
	}
}

func TestOpenSSLStatsAndStderr(t *testing.T) {
	page := `---
   0 items in the session cache
   0 client connects (SSL_connect())
   5 server accepts (SSL_accept())
   0 server renegotiates (SSL_accept())
   4 server accepts that finished
   2 session cache hits
   0 session cache misses
---`
	got := map[string]string{}
	for _, line := range strings.Split(page, "\n") {
		if m := opensslStatRE.FindStringSubmatch(line); m != nil {
			got[m[2]] = m[1]
		}
	}
	want := map[string]string{"server accepts (SSL_accept())": "5", "server accepts that finished": "4", "session cache hits": "2"}
	if !maps.Equal(got, want) {
		t.Errorf("statistics %v, want %v", got, want)
	}
	s := &opensslServer{}
	for _, line := range []string{
		`verify depth is 8, must return a certificate`,
		`depth=0 CN = client`,
		`verify error:num=20:unable to get local issuer certificate`,
		`40876B673E7F0000:error:0A000086:SSL routines:tls_process_client_certificate:certificate verify failed:../ssl/statem/statem_srvr.c:3530:`,
		`40876B673E7F0000:error:0A0000C7:SSL routines:tls_process_client_certificate:peer did not return a certificate:../ssl/statem/statem_srvr.c:3517:`,
		`40876B673E7F0000:error:0A0000C1:SSL routines:tls_post_process_client_hello:no shared cipher:../ssl/statem/statem_srvr.c:2226:`,
	} {
		s.parseStderr(line)
	}
	if s.verify != 2 {
		t.Errorf("verify failures %d, want 2", s.verify)
	}
}

// TestManagedSettle checks that a snapshot waits for a log being written
// and leaves a partial last line for the next one.
func TestManagedSettle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	var lines []string
	tail := &managedLogTail{path: path, parse: func(l string) { lines = append(lines, l) }}
	ctx := context.Background()
	if err := managedSettle(ctx, tail); err != nil {
		t.Fatalf("missing log: %v", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5 {
			f.WriteString("line\n")
			if i == 4 {
				f.WriteString("partial")
			}
			time.Sleep(40 * time.Millisecond)
		}
	}()
	time.Sleep(10 * time.Millisecond)
	start := time.Now()
	if err := managedSettle(ctx, tail); err != nil {
		t.Fatal(err)
	}
	<-done
	if len(lines) != 5 {
		t.Errorf("read %d lines, want 5 (the writer was still going when the snapshot began)", len(lines))
	}
	if waited := time.Since(start); waited < managedLogQuiet {
		t.Errorf("returned after %s, before the log had been quiet for %s", waited, managedLogQuiet)
	}
	f.WriteString(" now complete\n")
	if err := managedSettle(ctx, tail); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 6 || lines[5] != "partial now complete" {
		t.Errorf("lines %q: the partial line should have been read once complete", lines)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	f.WriteString("more\n")
	if err := managedSettle(cancelled, tail); err == nil {
		t.Error("a cancelled snapshot of a fresh log returned no error")
	}
}
