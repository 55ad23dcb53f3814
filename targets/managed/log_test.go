package managed

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/targets"
)

// These tests feed the parsers lines as the servers wrote them (captured
// from nginx 1.22, HAProxy 2.6 and OpenSSL 3.0) and need no server.

// atMs is a wall-clock time at a Unix millisecond plus extra, for
// window edges that fall inside a millisecond.
func atMs(ms int64, extra time.Duration) time.Time {
	return time.UnixMilli(ms).Add(extra)
}

// windowCase is a window and the handshakes and failures a tally
// must count in it.
type windowCase struct {
	name               string
	from, to           time.Time
	handshakes, failed int64
	requests           int64
}

func checkWindows(t *testing.T, tally *logTally, cases []windowCase) {
	t.Helper()
	for _, c := range cases {
		got := tally.between(c.from, c.to)
		if got.Handshakes != c.handshakes || got.Failed != c.failed || got.Requests != c.requests {
			t.Errorf("%s: [%s, %s) counted handshakes=%d failed=%d requests=%d, want %d, %d, %d", c.name,
				c.from.Format("15:04:05.000000"), c.to.Format("15:04:05.000000"),
				got.Handshakes, got.Failed, got.Requests, c.handshakes, c.failed, c.requests)
		}
	}
}

func TestNginxParseStream(t *testing.T) {
	s := &nginxLog{}
	for _, line := range []string{
		// the harness's ready probe: not counted
		`mtlsbench/2 1795496020.489 0.003 500 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . mtlsbench-probe.invalid NONE`,
		// full, then resumed TLS 1.2 handshake; accepted at .491 and .494
		`mtlsbench/2 1795496020.492 0.001 200 1 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 . localhost SUCCESS`,
		`mtlsbench/2 1795496020.495 0.001 200 1 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 r localhost SUCCESS`,
		// completed handshake, certificate from another CA, refused by
		// nginx (.495)
		`mtlsbench/2 1795496020.496 0.001 500 1 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 . localhost FAILED:unable to verify the first certificate`,
		// TLS 1.3 (.497), with ChaCha20 (.500)
		`mtlsbench/2 1795496020.499 0.002 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		`mtlsbench/2 1795496020.502 0.002 200 1 TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 r localhost SUCCESS`,
		// completed handshake without a client certificate (.504)
		`mtlsbench/2 1795496020.504 0.000 500 1 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 . - NONE`,
		// handshake failure, no shared cipher (.506)
		`mtlsbench/2 1795496020.506 0.000 500 1 TLSv1.2 (NONE) . localhost NONE`,
		// a connection held for 30 s: accepted at .500, logged 30 s later
		`mtlsbench/2 1795496050.600 30.100 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		// not ours: the previous format, and something else entirely
		`mtlsbench/1 200 1 TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 . localhost SUCCESS`,
		`something else entirely`,
	} {
		s.parseAccess(line)
	}
	want := targets.Counts{
		Handshakes: 5, Resumed: 2, Failed: 3, VerifyFailures: 2,
		Versions: map[string]int64{"1.2": 2, "1.3": 3},
		Ciphers: map[string]int64{
			"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": 2,
			"TLS_AES_128_GCM_SHA256":                  2,
			"TLS_CHACHA20_POLY1305_SHA256":            1,
		},
		// $ssl_client_verify of each handshake served (mutual TLS).
		ClientVerify: map[string]int64{"SUCCESS": 5},
	}
	if !reflect.DeepEqual(s.tally.seen, want) {
		t.Errorf("got %+v\nwant %+v", s.tally.seen, want)
	}
	if s.tally.undated != 0 {
		t.Errorf("%d records undated (%q)", s.tally.undated, s.tally.undatedExample)
	}
	if got := s.tally.between(atMs(1795496020000, 0), atMs(1795496060000, 0)); !reflect.DeepEqual(got, want) {
		t.Errorf("a window holding the whole log: got %+v\nwant %+v", got, want)
	}
	const at = 1795496020000
	checkWindows(t, &s.tally, []windowCase{
		{name: "before any", from: atMs(at, 0), to: atMs(at+491, 0)},
		{name: "the first millisecond", from: atMs(at+491, 0), to: atMs(at+492, 0), handshakes: 1},
		{name: "edges inside milliseconds", from: atMs(at+491, 999*time.Microsecond), to: atMs(at+492, 999*time.Microsecond), handshakes: 1},
		{name: "the held connection, by its accept", from: atMs(at+500, 0), to: atMs(at+501, 0), handshakes: 2},
		{name: "not by its log line", from: atMs(at+30000, 0), to: atMs(at+31000, 0)},
		{name: "failures", from: atMs(at+495, 0), to: atMs(at+497, 0), failed: 1},
		{name: "the last two", from: atMs(at+504, 0), to: atMs(at+507, 0), failed: 2},
	})
}

func TestNginxParseHTTP(t *testing.T) {
	s := &nginxLog{http: true}
	for _, line := range []string{
		// a connection with two requests, accepted at .836 ($msec and
		// $connection_time come from different clocks, so the second
		// request's line says .837)
		`mtlsbench/2 1795496020.838 0.002 200 1 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 . localhost SUCCESS`,
		`mtlsbench/2 1795496020.842 0.005 200 2 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 . localhost SUCCESS`,
		// a resumed connection with two requests, accepted at .843
		`mtlsbench/2 1795496020.843 0.000 200 1 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 r localhost SUCCESS`,
		`mtlsbench/2 1795496020.843 0.000 200 2 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 r localhost SUCCESS`,
		// refused certificate: 400
		`mtlsbench/2 1795496020.843 0.000 400 1 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 . localhost FAILED:unable to verify the first certificate`,
		// TLS 1.3, accepted at .846 and .849; the second request on a
		// connection accepted at .845, 10 s before
		`mtlsbench/2 1795496020.846 0.000 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		`mtlsbench/2 1795496030.848 10.003 200 2 TLSv1.3 TLS_AES_128_GCM_SHA256 . localhost SUCCESS`,
		`mtlsbench/2 1795496020.849 0.000 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 r localhost SUCCESS`,
		// a record without a usable time: counted, but in no window
		`mtlsbench/2 - - 200 1 TLSv1.3 TLS_AES_128_GCM_SHA256 r localhost SUCCESS`,
	} {
		s.parseAccess(line)
	}
	// The error log's time is local, to the second; these lines are from
	// the day before, so that in any time zone they are hours away from
	// the access log's records.
	second := time.Date(2026, 11, 23, 4, 53, 40, 0, time.Local).UnixMilli()
	for _, line := range []string{
		`2026/11/23 04:53:40 [info] 21355#21355: *1 client closed connection while waiting for request, client: 127.0.0.1, server: 127.0.0.1:33675`,
		`2026/11/23 04:53:40 [info] 21356#21356: *2 client 127.0.0.1 closed keepalive connection`,
		`2026/11/23 04:53:40 [info] 21355#21355: *4 client SSL certificate verify error: (21:unable to verify the first certificate) while reading client request headers, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", host: "localhost"`,
		`2026/11/23 04:53:40 [info] 21355#21355: *8 SSL_do_handshake() failed (SSL: error:0A0000C1:SSL routines::no shared cipher) while SSL handshaking, client: 127.0.0.1, server: 127.0.0.1:33675`,
	} {
		s.parseError(line)
	}
	want := targets.Counts{
		Handshakes: 5, Resumed: 3, Failed: 2, VerifyFailures: 1, Requests: 8,
		Versions: map[string]int64{"1.2": 2, "1.3": 3},
		Ciphers:  map[string]int64{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": 2, "TLS_AES_128_GCM_SHA256": 3},
		// $ssl_client_verify of each connection served (mutual TLS).
		ClientVerify: map[string]int64{"SUCCESS": 5},
	}
	if !reflect.DeepEqual(s.tally.seen, want) {
		t.Errorf("got %+v\nwant %+v", s.tally.seen, want)
	}
	if s.tally.undated != 1 || !strings.Contains(s.tally.undatedExample, "- -") {
		t.Errorf("undated %d (%q), want the one line without times", s.tally.undated, s.tally.undatedExample)
	}
	const at = 1795496020000
	checkWindows(t, &s.tally, []windowCase{
		{name: "the first connection, both requests", from: atMs(at+836, 0), to: atMs(at+838, 0), handshakes: 1, requests: 2},
		{name: "the resumed one and the refusal", from: atMs(at+843, 0), to: atMs(at+844, 0), handshakes: 1, requests: 2, failed: 1},
		{name: "the late request, at its connection's accept", from: atMs(at+845, 0), to: atMs(at+846, 0), requests: 1},
		{name: "TLS 1.3", from: atMs(at+846, 0), to: atMs(at+850, 0), handshakes: 2, requests: 2},
	})
	// The failure in the error log counts in any window overlapping its
	// second, 04:53:40.
	checkWindows(t, &s.tally, []windowCase{
		{name: "the second before", from: atMs(second-1000, 0), to: atMs(second, 0)},
		{name: "ending a microsecond into it", from: atMs(second-1000, 0), to: atMs(second, time.Microsecond), failed: 1},
		{name: "the last millisecond of it", from: atMs(second+999, 0), to: atMs(second+1000, 0), failed: 1},
		{name: "starting at the next second", from: atMs(second+1000, 0), to: atMs(second+3000, 0)},
	})
	if s.tally.kinds[s.tally.events[len(s.tally.events)-1].kind].flags&flagCoarse == 0 {
		t.Error("the error log's record is not marked as known to the second only")
	}
}

func TestHAProxyParse(t *testing.T) {
	tcp := &haproxyLog{}
	for _, line := range []string{
		// the ready probe
		`mtlsbench/2 err 1795496021250 mtlsbench-probe.invalid TLSv1.3 TLS_AES_256_GCM_SHA384 0 34 0 0 error:0A0000C7:SSL routines::peer did not return a certificate`,
		`mtlsbench/2 ok 1795496021252 localhost TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 0 0 1 0`,
		`mtlsbench/2 ok 1795496021254 localhost TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 1 0 1 0`,
		// certificate from another CA, TLS 1.2 and 1.3
		`mtlsbench/2 err 1795496021255 localhost TLSv1.2 (NONE) 0 31 20 0 error:0A000086:SSL routines::certificate verify failed`,
		`mtlsbench/2 ok 1795496021256 localhost TLSv1.3 TLS_AES_256_GCM_SHA384 0 0 1 0`,
		`mtlsbench/2 ok 1795496021260 localhost TLSv1.3 TLS_AES_256_GCM_SHA384 1 0 1 0`,
		`mtlsbench/2 err 1795496021261 localhost TLSv1.3 TLS_AES_256_GCM_SHA384 0 31 20 0 error:0A000086:SSL routines::certificate verify failed`,
		// no client certificate
		`mtlsbench/2 err 1795496021262 - TLSv1.3 TLS_AES_256_GCM_SHA384 0 34 0 0 error:0A0000C7:SSL routines::peer did not return a certificate`,
		// no shared cipher
		`mtlsbench/2 err 1795496021263 localhost TLSv1.2 (NONE) 0 34 0 0 error:0A0000C1:SSL routines::no shared cipher`,
		// the previous format: not ours
		`mtlsbench/1 ok - TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 0 0 1 -1`,
	} {
		tcp.parse(line)
	}
	want := targets.Counts{
		Handshakes: 4, Resumed: 2, Failed: 4, VerifyFailures: 3,
		Versions: map[string]int64{"1.2": 2, "1.3": 2},
		Ciphers: map[string]int64{
			"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": 2,
			"TLS_AES_256_GCM_SHA384":                  2,
		},
	}
	if !reflect.DeepEqual(tcp.tally.seen, want) {
		t.Errorf("tcp mode: got %+v\nwant %+v", tcp.tally.seen, want)
	}
	const at = 1795496021000
	checkWindows(t, &tcp.tally, []windowCase{
		{name: "up to the probe", from: atMs(at, 0), to: atMs(at+251, 0)},
		{name: "TLS 1.2", from: atMs(at+252, 0), to: atMs(at+255, 0), handshakes: 2},
		{name: "around the first refusal", from: atMs(at+254, 500*time.Microsecond), to: atMs(at+256, 0), handshakes: 1, failed: 1},
		{name: "the rest", from: atMs(at+256, 0), to: atMs(at+264, 0), handshakes: 2, failed: 3},
	})

	http := &haproxyLog{http: true}
	for _, line := range []string{
		// two requests on one connection: the first carries the session
		// mark, both the connection's accept time
		`mtlsbench/2 ok 1795496021620 localhost TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 0 0 1 200`,
		`mtlsbench/2 ok 1795496021620 localhost TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 0 0 - 200`,
		// a malformed request HAProxy answered itself: not one of ours
		`mtlsbench/2 ok 1795496021624 localhost TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 0 0 - 400`,
		// a connection that completed its handshake and sent no request
		`mtlsbench/2 err 1795496021629 - TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 1 0 0 0 -`,
		// a session variable that was not set: no time
		`mtlsbench/2 ok - localhost TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 0 0 1 200`,
	} {
		http.parse(line)
	}
	want = targets.Counts{
		Handshakes: 3, Resumed: 1, Requests: 3,
		Versions: map[string]int64{"1.3": 3},
		Ciphers:  map[string]int64{"TLS_CHACHA20_POLY1305_SHA256": 3},
	}
	if !reflect.DeepEqual(http.tally.seen, want) {
		t.Errorf("http mode: got %+v\nwant %+v", http.tally.seen, want)
	}
	if http.tally.undated != 1 {
		t.Errorf("http mode: %d undated records, want 1", http.tally.undated)
	}
	checkWindows(t, &http.tally, []windowCase{
		{name: "the first connection", from: atMs(at+620, 0), to: atMs(at+621, 0), handshakes: 1, requests: 2},
		{name: "the one without a request", from: atMs(at+621, 0), to: atMs(at+630, 0), handshakes: 1},
	})
}

// TestWindowEdges checks the rounding at a window's edges: to the
// millisecond for records so dated, outwards to whole seconds for those
// dated to the second.
func TestWindowEdges(t *testing.T) {
	const s = 1795496000000 // a whole second
	var tally logTally
	for _, ms := range []int64{s - 1, s, s + 1, s + 999, s + 1000, s + 1500, s + 2000} {
		tally.add(acceptTime{ms: ms, ok: true}, handshakeKind(logRecord{}), "")
	}
	tally.add(acceptTime{ms: s + 1000, coarse: true, ok: true}, failKind(false), "")
	for _, c := range []struct {
		name               string
		from, to           time.Time
		handshakes, failed int64
	}{
		// records in [s, s+1000): s, s+1, s+999; the coarse record's second
		// (s+1000) does not overlap it
		{"a whole second", atMs(s, 0), atMs(s+1000, 0), 3, 0},
		// the edge's millisecond is in at `from`, out at `to`
		{"edges a microsecond in", atMs(s, time.Microsecond), atMs(s+1000, time.Microsecond), 3, 1},
		{"one millisecond", atMs(s+999, 0), atMs(s+1000, 0), 1, 0},
		{"an empty window", atMs(s+1500, 0), atMs(s+1500, 0), 0, 0},
		// no millisecond, but it overlaps the coarse record's second
		{"inside a millisecond", atMs(s+1500, 100*time.Microsecond), atMs(s+1500, 900*time.Microsecond), 0, 1},
		// the coarse record counts in any window overlapping its second
		{"the coarse second's middle", atMs(s+1400, 0), atMs(s+1600, 0), 1, 1},
		{"its last millisecond", atMs(s+1999, 0), atMs(s+2000, 0), 0, 1},
		{"ending where it starts", atMs(s+900, 0), atMs(s+1000, 0), 1, 0},
		{"starting where it ends", atMs(s+2000, 0), atMs(s+3000, 0), 1, 0},
		{"before everything", atMs(s-5000, 0), atMs(s-1, 0), 0, 0},
	} {
		got := tally.between(c.from, c.to)
		if got.Handshakes != c.handshakes || got.Failed != c.failed {
			t.Errorf("%s: handshakes=%d failed=%d, want %d, %d", c.name, got.Handshakes, got.Failed, c.handshakes, c.failed)
		}
	}
	// Adjacent windows share the records out exactly.
	edges := []time.Time{atMs(s-10, 0), atMs(s, 500*time.Microsecond), atMs(s+999, 0), atMs(s+1500, 0), atMs(s+5000, 0)}
	var sum int64
	for i := 1; i < len(edges); i++ {
		c := tally.between(edges[i-1], edges[i])
		sum += c.Handshakes
	}
	if sum != 7 {
		t.Errorf("adjacent windows counted %d handshakes, want all 7 once", sum)
	}
}

func TestParseMillis(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1795496020.492", 1795496020492, true},
		{"0.001", 1, true},
		{"30.100", 30100, true},
		{"12", 12000, true},             // no decimals
		{"1.5", 1500, true},             // fewer than three
		{"1.05", 1050, true},            // leading zero kept
		{"0.000", 0, true},              // a connection logged in its first millisecond
		{"1.0001", 0, false},            // nginx writes milliseconds
		{"-1.000", 0, false},            // never negative
		{"-", 0, false},                 // a variable without a value
		{"", 0, false},                  //
		{".5", 0, false},                // no whole part
		{"1e3", 0, false},               // not a number nginx writes
		{"1.2.3", 0, false},             //
		{"1 .2", 0, false},              //
		{"１.000", 0, false},             // digits are ASCII only
		{"9999999999999.000", 0, false}, // too large for a time
	} {
		got, ok := parseMillis(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseMillis(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if at := nginxAcceptTime("1795496020.000", "0.001"); !at.ok || at.ms != 1795496019999 {
		t.Errorf("accept time across a second: %+v", at)
	}
	if at := nginxAcceptTime("1.000", "2.000"); at.ok {
		t.Errorf("an age larger than the time gave %+v", at)
	}
	for in, ok := range map[string]bool{"1795496021250": true, "-": false, "": false, "17954960212501234": false, "1795496021250.5": false} {
		if at := haproxyAcceptTime(in); at.ok != ok {
			t.Errorf("haproxyAcceptTime(%q) = %+v, want ok=%v", in, at, ok)
		}
	}
}

func TestNginxVersionAtLeast(t *testing.T) {
	for _, c := range []struct {
		version string
		want    bool
	}{
		{"nginx/1.22.1", true},
		{"nginx/1.19.10", true},
		{"nginx/1.19.9", false},
		{"nginx/1.18.0", false},
		{"nginx/2.0.0", true},
		{"nginx/1.25.3", true},
		{"openresty/1.21.4.1", true}, // four parts: cannot tell, let nginx say
		{"", true},
	} {
		if got := nginxVersionAtLeast(c.version, 1, 19, 10); got != c.want {
			t.Errorf("%q at least 1.19.10: %v, want %v", c.version, got, c.want)
		}
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
	s := &opensslStats{}
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

// TestSettle checks that reading a log waits for it to be quiet,
// leaves a partial last line for the next read, gives up after its maximum
// wait and waits past notBefore.
func TestSettle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	var lines []string
	tail := &logTail{path: path, parse: func(l string) { lines = append(lines, l) }}
	ctx := context.Background()
	if settled, err := settle(ctx, time.Time{}, time.Second, nil, tail); err != nil || !settled {
		t.Fatalf("missing log: settled=%v, %v", settled, err)
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
	if settled, err := settle(ctx, time.Time{}, 10*time.Second, nil, tail); err != nil || !settled {
		t.Fatalf("settled=%v, %v", settled, err)
	}
	<-done
	if len(lines) != 5 {
		t.Errorf("read %d lines, want 5 (the writer was still going when the read began)", len(lines))
	}
	if waited := time.Since(start); waited < logQuiet {
		t.Errorf("returned after %s, before the log had been quiet for %s", waited, logQuiet)
	}
	f.WriteString(" now complete\n")
	if _, err := settle(ctx, time.Time{}, time.Second, nil, tail); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 6 || lines[5] != "partial now complete" {
		t.Errorf("lines %q: the partial line should have been read once complete", lines)
	}

	// A log that never goes quiet, as under load: the read gives up after
	// its maximum wait with what is there.
	stop := make(chan struct{})
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				f.WriteString("busy\n")
			}
		}
	}()
	before := len(lines)
	start = time.Now()
	settled, err := settle(ctx, time.Time{}, snapshotMaxWait, nil, tail)
	waited := time.Since(start)
	close(stop)
	<-writing
	if err != nil || settled {
		t.Errorf("a log written every 10 ms: settled=%v, %v; want not settled", settled, err)
	}
	if waited < snapshotMaxWait || waited > snapshotMaxWait+time.Second {
		t.Errorf("gave up after %s, want about %s", waited, snapshotMaxWait)
	}
	if len(lines) == before {
		t.Error("read nothing of a log being written")
	}

	// notBefore in the future: quiet is counted from it.
	notBefore := time.Now().Add(100 * time.Millisecond)
	if settled, err := settle(ctx, notBefore, time.Second, nil, tail); err != nil || !settled {
		t.Fatalf("settled=%v, %v", settled, err)
	}
	if early := time.Until(notBefore.Add(logQuiet)); early > 0 {
		t.Errorf("returned %s before notBefore plus the quiet period", early)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	f.WriteString("more\n")
	if _, err := settle(cancelled, time.Time{}, time.Second, nil, tail); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled read of a fresh log returned %v, want context.Canceled", err)
	}
}

// TestSettleWaitsForTheServerToClose: a server slow to notice that the
// client closed (a CPU-starved nginx worker) writes the connection's line
// later than the log's quiet period; settle waits until the server holds
// no connection, so the line is read. (Quiet alone read the log without
// it: a cross-check one handshake short, seen under `make test`.)
func TestSettleWaitsForTheServerToClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	var lines []string
	tail := &logTail{path: path, parse: func(l string) { lines = append(lines, l) }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	// The "server" logs and closes 3 × logQuiet after the client closed.
	go func() {
		time.Sleep(3 * logQuiet)
		_ = os.WriteFile(path, []byte("the connection's line\n"), 0o644)
		conn.Close()
	}()
	local := netip.MustParseAddrPort(ln.Addr().String())
	open := func() (int, error) { return procstat.OpenConnections(local) }
	settled, err := settle(context.Background(), time.Now(), 10*time.Second, open, tail)
	if err != nil || !settled || len(lines) != 1 {
		t.Fatalf("settled=%v err=%v lines=%q: want the line written after the server closed", settled, err, lines)
	}
}
