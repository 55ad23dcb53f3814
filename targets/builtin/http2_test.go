package builtin

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// In HTTP/2 mode the target offers ALPN h2 alone, answers every request
// 200 over HTTP/2 (TLS 1.2 with a suite RFC 9113 prohibits too: the case
// names the suite) and counts them as HTTP/2 requests.
func TestHTTP2Mode(t *testing.T) {
	const requests = 5
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.Mode = targets.ModeHTTP2
	srv := startServer(t, cfg)
	for _, v := range testVersions {
		tc := clientConfig(b, v.version, nil)
		tc.NextProtos = []string{"h2"}
		conn, err := dial(t, srv.Addr(), tc)
		if err != nil {
			t.Fatal(err)
		}
		if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
			t.Fatalf("TLS %s: negotiated %q, want h2", v.name, p)
		}
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		cc, err := (&http2.Transport{}).NewClientConn(conn)
		if err != nil {
			t.Fatal(err)
		}
		for i := range requests {
			req, _ := http.NewRequest(http.MethodGet, "https://localhost/", nil)
			resp, err := cc.RoundTrip(req)
			if err != nil {
				t.Fatalf("TLS %s request %d: %v", v.name, i, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ProtoMajor != 2 || string(body) != httpBody {
				t.Fatalf("TLS %s request %d: %s %s %q", v.name, i, resp.Proto, resp.Status, body)
			}
		}
		cc.Close()
	}
	c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Requests == 2*requests })
	if c.Handshakes != 2 || c.HTTP2Requests != 2*requests {
		t.Errorf("counts = %+v, want 2 handshakes and %d HTTP/2 requests", c, 2*requests)
	}
	// A client offering only other protocols is refused in the handshake;
	// one offering only HTTP/1.1 gets no protocol (crypto/tls's fallback),
	// which the engine counts as param_mismatch.
	tc := clientConfig(b, testVersions[0].version, nil)
	tc.NextProtos = []string{"h3"}
	if _, err := dial(t, srv.Addr(), tc); err == nil || !strings.Contains(err.Error(), "no application protocol") {
		t.Errorf("a client offering h3: %v, want no_application_protocol", err)
	}
	tc.NextProtos = []string{"http/1.1"}
	if conn, err := dial(t, srv.Addr(), tc); err != nil || conn.ConnectionState().NegotiatedProtocol != "" {
		t.Errorf("an HTTP/1.1-only client: %v, want a handshake without ALPN", err)
	}
}
