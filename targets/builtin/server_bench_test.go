package builtin

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// BenchmarkHandshake measures full mTLS handshakes against the
// built-in target over loopback, one at a time. ns/op and allocs/op cover
// both sides (the client is crypto/tls too); compare runs of it, not its
// absolute value, with the server's ~2,300 ECDSA handshakes/s per core.
// The server-side overhead of the target itself is measured separately by
// BenchmarkRecordHandshake and BenchmarkServeHTTPRequest.
func BenchmarkHandshake(b *testing.B) {
	bundle := testBundle(b, pki.ECDSAP256)
	srv := startServer(b, testConfig(bundle))
	for _, v := range testVersions {
		b.Run("tls"+v.name, func(b *testing.B) {
			cfg := clientConfig(bundle, v.version, nil)
			b.ReportAllocs()
			start := time.Now()
			n := 0
			for b.Loop() {
				raw, err := net.Dial("tcp", srv.Addr())
				if err != nil {
					b.Fatal(err)
				}
				c := tls.Client(raw, cfg)
				if err := c.Handshake(); err != nil {
					b.Fatal(err)
				}
				raw.Close()
				n++
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "handshakes/s")
		})
	}
}

// BenchmarkRecordHandshake is the counting the server adds per handshake.
func BenchmarkRecordHandshake(b *testing.B) {
	var s serverStats
	b.ReportAllocs()
	for b.Loop() {
		s.recordHandshake(tls.VersionTLS13, tls.TLS_CHACHA20_POLY1305_SHA256, true, true)
	}
}

// BenchmarkServeHTTPRequest is the HTTP mode's cost per keep-alive request,
// TLS excluded.
func BenchmarkServeHTTPRequest(b *testing.B) {
	conn := &countedRequests{loopRequests: loopRequests{[]byte("GET /index.html HTTP/1.1\r\nHost: localhost:8443\r\nUser-Agent: mtlsbench\r\nAccept: */*\r\n\r\n")}}
	buf := make([]byte, httpMaxHead)
	var n atomic.Int64
	b.ReportAllocs()
	for b.Loop() {
		conn.left = 1
		serveHTTP(conn, buf, &n)
	}
}
