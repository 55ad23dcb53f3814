package loadgen

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/mtlsbench/mtlsbench/pki"
)

// h2TestServer is golang.org/x/net's HTTP/2 server behind mTLS, counting
// requests and the most it had in flight at once.
type h2TestServer struct {
	ln                     net.Listener
	requests, h2, inFlight atomic.Int64
	maxInFlight            atomic.Int64
	wg                     sync.WaitGroup
	mu                     sync.Mutex
	conns                  []net.Conn
}

type h2Opts struct {
	alpn       []string // default h2
	maxStreams uint32
	status     int           // default 200
	hold       time.Duration // each request's time in the handler
}

func startH2Server(t *testing.T, b *pki.Bundle, o h2Opts) *h2TestServer {
	t.Helper()
	if o.alpn == nil {
		o.alpn = []string{"h2"}
	}
	if o.status == 0 {
		o.status = http.StatusOK
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{b.Server.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    b.RootPool(),
		NextProtos:   o.alpn,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &h2TestServer{ln: ln}
	srv := &http2.Server{MaxConcurrentStreams: o.maxStreams}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.inFlight.Add(1)
		for m := s.maxInFlight.Load(); n > m && !s.maxInFlight.CompareAndSwap(m, n); m = s.maxInFlight.Load() {
		}
		time.Sleep(o.hold)
		s.inFlight.Add(-1)
		w.WriteHeader(o.status)
		io.WriteString(w, "ok\n")
		s.requests.Add(1)
		if r.ProtoMajor == 2 {
			s.h2.Add(1)
		}
	})
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Go(func() {
				defer c.Close()
				tc := tls.Server(c, cfg)
				if tc.Handshake() != nil {
					return
				}
				if tc.ConnectionState().NegotiatedProtocol != "h2" {
					io.Copy(io.Discard, tc)
					return
				}
				srv.ServeConn(tc, &http2.ServeConnOpts{Handler: handler})
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func h2Config(b *pki.Bundle, addr string, requests, streams int) Config {
	return Config{
		Addr: addr, TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 2, Count: 10, Requests: requests, HTTP2: true, Streams: streams, Timeout: 5 * time.Second,
	}
}

// Every request is answered over HTTP/2, with streams in flight at once
// when asked, and timed as HTTP/1.1's are: one requests phase per
// connection.
func TestHTTP2Requests(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	for _, streams := range []int{1, 4} {
		srv := startH2Server(t, b, h2Opts{hold: 2 * time.Millisecond})
		res := run(t, h2Config(b, srv.ln.Addr().String(), 8, streams))
		if res.OK != 10 || res.Errors != 0 || res.Requests != 80 || res.Latency["requests"].TotalCount() != 10 {
			t.Fatalf("streams %d: ok=%d requests=%d errors=%v %v", streams, res.OK, res.Requests, res.ErrorsByClass, res.Examples)
		}
		// The server may see a few more (connections completed past the
		// count); never fewer, and all of them HTTP/2.
		if got := srv.requests.Load(); got < 80 || srv.h2.Load() != got {
			t.Errorf("streams %d: server answered %d requests, %d over HTTP/2; want at least 80, all HTTP/2", streams, got, srv.h2.Load())
		}
		// Two connections at once: with one stream each, at most 2 in
		// flight at the server; with 4, more than 2.
		if m := srv.maxInFlight.Load(); (streams == 1 && m > 2) || (streams == 4 && m <= 2) || m > int64(2*streams) {
			t.Errorf("streams %d: the server had up to %d requests in flight at once", streams, m)
		}
	}
}

// A connection that did not negotiate h2 measured no HTTP/2: each is a
// param_mismatch, even without requests.
func TestHTTP2ALPNMismatch(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startH2Server(t, b, h2Opts{alpn: []string{}})
	for _, requests := range []int{0, 1} {
		cfg := h2Config(b, srv.ln.Addr().String(), requests, 1)
		cfg.Count = 0
		cfg.Duration = 200 * time.Millisecond
		cfg.Concurrency = 1
		res := run(t, cfg)
		if res.OK != 0 || res.ErrorsByClass["param_mismatch"] == 0 || !strings.Contains(res.Examples["param_mismatch"], `application protocol "" (ALPN), expected "h2"`) {
			t.Fatalf("requests %d: ok=%d errors=%v %v", requests, res.OK, res.ErrorsByClass, res.Examples)
		}
	}
}

// A server allowing fewer streams than asked cannot measure the case.
func TestHTTP2StreamsOverServerLimit(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startH2Server(t, b, h2Opts{maxStreams: 2})
	cfg := h2Config(b, srv.ln.Addr().String(), 4, 3)
	cfg.Count, cfg.Duration, cfg.Concurrency = 0, 200*time.Millisecond, 1
	res := run(t, cfg)
	if res.OK != 0 || res.ErrorsByClass["param_mismatch"] == 0 || !strings.Contains(res.Examples["param_mismatch"], "allows 2 HTTP/2 streams in flight") {
		t.Fatalf("ok=%d errors=%v %v", res.OK, res.ErrorsByClass, res.Examples)
	}
}

func TestHTTP2Status(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startH2Server(t, b, h2Opts{status: http.StatusServiceUnavailable})
	cfg := h2Config(b, srv.ln.Addr().String(), 2, 1)
	cfg.Count, cfg.Duration, cfg.Concurrency = 0, 200*time.Millisecond, 1
	res := run(t, cfg)
	if res.OK != 0 || res.ErrorsByClass["http_status"] == 0 || !strings.Contains(res.Examples["http_status"], "HTTP status 503") {
		t.Fatalf("ok=%d errors=%v %v", res.OK, res.ErrorsByClass, res.Examples)
	}
}

func TestHTTP2ConfigRefused(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	cfg := h2Config(b, "127.0.0.1:1", 1, 2)
	cfg.HTTP2 = false
	if _, err := Run(t.Context(), cfg); !IsConfigError(err) || !strings.Contains(err.Error(), "needs HTTP/2") {
		t.Fatalf("streams 2 without HTTP/2: %v, want a ConfigError", err)
	}
}

// h2Script is what a server sends for requests answered in order: its
// SETTINGS, then per stream a HEADERS block (:status 200, content-type,
// content-length) and the body in a DATA frame that ends the stream.
func h2Script(t testing.TB, requests int) []byte {
	var out, block bytes.Buffer
	fr := http2.NewFramer(&out, nil)
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}); err != nil {
		t.Fatal(err)
	}
	enc := hpack.NewEncoder(&block)
	for i := range requests {
		block.Reset()
		for _, f := range []hpack.HeaderField{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "text/plain"}, {Name: "content-length", Value: "3"}} {
			enc.WriteField(f)
		}
		id := uint32(2*i + 1)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true})
		fr.WriteData(id, true, []byte("ok\n"))
	}
	return out.Bytes()
}

type scriptConn struct {
	io.Reader
	io.Writer
}

// The client's own cost per request, against a scripted server: its
// allocations grow by a few per request (the HEADERS frame the framer
// parses, the strings the HPACK decoder makes), not by a Request, a
// Response and a goroutine as http2.Transport's would.
func TestHTTP2ClientAllocations(t *testing.T) {
	h := newH2Client("localhost", "/")
	allocs := func(requests int) float64 {
		script := h2Script(t, requests)
		r := bytes.NewReader(script)
		conn := scriptConn{r, io.Discard}
		var tcp sock
		return testing.AllocsPerRun(20, func() {
			r.Reset(script)
			if err := h.do(conn, nil, &tcp, time.Second, requests, 1); err != nil {
				t.Fatal(err)
			}
		})
	}
	one, hundred := allocs(1), allocs(100)
	perRequest := (hundred - one) / 99
	t.Logf("allocations: %.0f for a connection with 1 request, %.0f with 100: %.2f per request", one, hundred, perRequest)
	if perRequest > 2 {
		t.Errorf("%.2f allocations per request, want at most 2", perRequest)
	}
}

// What a server may send besides a plain response, scripted: an informational
// response before the final one, trailers, a reset of a stream already
// answered, PING; and what fails a connection: a status other than 2xx, a
// GOAWAY before the last response, a response without :status.
func TestHTTP2ClientResponses(t *testing.T) {
	block := func(fields ...string) []byte {
		var b bytes.Buffer
		enc := hpack.NewEncoder(&b)
		for i := 0; i < len(fields); i += 2 {
			enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
		}
		return b.Bytes()
	}
	for _, tc := range []struct {
		name   string
		script func(fr *http2.Framer)
		want   string // "" succeeds
	}{
		{"1xx, trailers, late reset, ping", func(fr *http2.Framer) {
			fr.WritePing(false, [8]byte{1})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(":status", "103"), EndHeaders: true})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(":status", "200"), EndHeaders: true})
			fr.WriteData(1, false, []byte("ok\n"))
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block("grpc-status", "0"), EndHeaders: true, EndStream: true})
			fr.WriteRSTStream(1, http2.ErrCodeNo)
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block(":status", "204"), EndHeaders: true, EndStream: true})
		}, ""},
		{"404", func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(":status", "404"), EndHeaders: true, EndStream: true})
		}, "HTTP status 404"},
		{"goaway", func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(":status", "200"), EndHeaders: true, EndStream: true})
			fr.WriteGoAway(1, http2.ErrCodeNo, []byte("bye"))
		}, `GOAWAY NO_ERROR, "bye") after 1 of 2 responses`},
		{"no status", func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block("server", "x"), EndHeaders: true, EndStream: true})
		}, "without :status"},
	} {
		var out bytes.Buffer
		fr := http2.NewFramer(&out, nil)
		fr.WriteSettings()
		tc.script(fr)
		var written bytes.Buffer
		var tcp sock
		err := newH2Client("localhost", "/").do(scriptConn{&out, &written}, nil, &tcp, time.Second, 2, 1)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
		if tc.want == "" && !bytes.HasPrefix(written.Bytes(), []byte(http2.ClientPreface)) {
			t.Errorf("%s: the client did not start with the preface", tc.name)
		}
	}
}
