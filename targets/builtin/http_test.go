package builtin

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// httpScript is a connection that reads its input in the given chunks and
// records what is written to it.
type httpScript struct {
	chunks []string
	out    bytes.Buffer
}

func (s *httpScript) Read(p []byte) (int, error) {
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.chunks[0])
	if s.chunks[0] = s.chunks[0][n:]; s.chunks[0] == "" {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

func (s *httpScript) Write(p []byte) (int, error) { return s.out.Write(p) }

// statuses returns the status codes of the responses written, in order.
func (s *httpScript) statuses(t *testing.T) []int {
	t.Helper()
	var codes []int
	r := bufio.NewReader(bytes.NewReader(s.out.Bytes()))
	for {
		if _, err := r.Peek(1); err == io.EOF {
			return codes
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("malformed response after %v: %v\n%q", codes, err, s.out.String())
		}
		if resp.StatusCode == http.StatusContinue {
			codes = append(codes, 100)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 200 && string(body) != httpBody {
			t.Fatalf("body %q, want %q", body, httpBody)
		}
		codes = append(codes, resp.StatusCode)
	}
}

func TestServeHTTP(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	big := strings.Repeat("x", 20000)
	for _, tc := range []struct {
		name         string
		chunks       []string
		want         []int // response statuses
		serverCloses bool
	}{
		{"one request", []string{get}, []int{200}, false},
		{"keep-alive, then the client closes", []string{get, get, get}, []int{200, 200, 200}, false},
		{"pipelined in one read", []string{get + get + get}, []int{200, 200, 200}, false},
		{"one byte at a time", strings.Split(get+get, ""), []int{200, 200}, false},
		{"Connection: close", []string{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", get}, []int{200}, true},
		{"close wins over keep-alive", []string{"GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", get}, []int{200}, true},
		{"HTTP/1.0 closes", []string{"GET / HTTP/1.0\r\n\r\n", get}, []int{200}, true},
		{"HTTP/1.0 keep-alive", []string{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", get}, []int{200, 200}, false},
		{"body is skipped", []string{"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + get}, []int{200, 200}, false},
		{"body across reads", []string{"POST / HTTP/1.1\r\ncontent-length: 20000\r\n\r\n", big[:7000], big[7000:], get}, []int{200, 200}, false},
		{"body cut short", []string{"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"}, nil, false},
		{"Expect: 100-continue", []string{"PUT / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n", "hi"}, []int{100, 200}, false},
		{"empty lines before a request", []string{"\r\n\r\n" + get}, []int{200}, false},
		{"bare LF line ends", []string{"GET / HTTP/1.1\nHost: x\n\n"}, []int{200}, false},
		{"request cut short", []string{"GET / HTTP/1.1\r\nHost"}, nil, false},
		{"garbage", []string{"hello there\r\n\r\n", get}, []int{400}, true},
		{"no target", []string{"GET  HTTP/1.1\r\n\r\n"}, []int{400}, true},
		{"header without colon", []string{"GET / HTTP/1.1\r\nHost x\r\n\r\n"}, []int{400}, true},
		{"line folding", []string{"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"}, []int{400}, true},
		{"bad Content-Length", []string{"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"}, []int{400}, true},
		{"conflicting Content-Length", []string{"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"}, []int{400}, true},
		{"chunked", []string{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}, []int{501}, true},
		{"HTTP/2.0", []string{"GET / HTTP/2.0\r\n\r\n"}, []int{505}, true},
		{"head too large", []string{"GET / HTTP/1.1\r\nX: " + big + "\r\n\r\n"}, []int{431}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &httpScript{chunks: append([]string(nil), tc.chunks...)}
			var requests atomic.Int64
			serverCloses := serveHTTP(s, make([]byte, httpMaxHead), &requests)
			got := s.statuses(t)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("statuses %v, want %v; wrote:\n%s", got, tc.want, s.out.String())
			}
			if serverCloses != tc.serverCloses {
				t.Errorf("serverCloses = %v, want %v", serverCloses, tc.serverCloses)
			}
			var ok int64
			for _, c := range tc.want {
				if c == 200 {
					ok++
				}
			}
			if requests.Load() != ok {
				t.Errorf("counted %d requests, want %d", requests.Load(), ok)
			}
		})
	}
}

func TestServeHTTPHeadHasNoBody(t *testing.T) {
	s := &httpScript{chunks: []string{"HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"}}
	var n atomic.Int64
	serveHTTP(s, make([]byte, httpMaxHead), &n)
	r := bufio.NewReader(&s.out)
	head, err := http.ReadResponse(r, &http.Request{Method: "HEAD"})
	if err != nil || head.StatusCode != 200 || head.ContentLength != int64(len(httpBody)) {
		t.Fatalf("HEAD response: %v, %v", head, err)
	}
	get, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("the response after HEAD: %v (did HEAD send a body?)", err)
	}
	if body, _ := io.ReadAll(get.Body); string(body) != httpBody || n.Load() != 2 {
		t.Fatalf("GET after HEAD: body %q, %d requests counted", body, n.Load())
	}
}

// loopRequests is a connection that returns the same request forever.
type loopRequests struct{ req []byte }

func (l loopRequests) Read(p []byte) (int, error)  { return copy(p, l.req), nil }
func (l loopRequests) Write(p []byte) (int, error) { return len(p), nil }

// countedRequests returns the same request left times, then EOF.
type countedRequests struct {
	loopRequests
	left int
}

func (c *countedRequests) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	c.left--
	return c.loopRequests.Read(p)
}

func TestServeHTTPAllocatesNothingPerRequest(t *testing.T) {
	req := []byte("POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\nbody")
	buf := make([]byte, httpMaxHead)
	var n atomic.Int64
	conn := &countedRequests{loopRequests: loopRequests{req}}
	allocs := testing.AllocsPerRun(100, func() {
		conn.left = 100
		serveHTTP(conn, buf, &n)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 100 requests, want 0", allocs)
	}
}

func TestHTTPMode(t *testing.T) {
	const requests = 10
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.Mode = targets.ModeHTTP
	srv := startServer(t, cfg)
	for _, v := range testVersions {
		conn, err := dial(t, srv.Addr(), clientConfig(b, v.version, nil))
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		r := bufio.NewReader(conn)
		for i := range requests {
			req := "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
			if i == requests-1 {
				req = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
			}
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("TLS %s request %d: %v", v.name, i, err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != httpBody {
				t.Fatalf("TLS %s request %d: %s %q", v.name, i, resp.Status, body)
			}
		}
		// After Connection: close the server ends the connection cleanly.
		if _, err := r.ReadByte(); err != io.EOF {
			t.Fatalf("TLS %s: after Connection: close, read %v, want EOF", v.name, err)
		}
	}
	c := waitCounts(t, srv, func(c targets.Counts) bool { return c.Requests == 2*requests })
	if c.Handshakes != 2 {
		t.Errorf("counts = %+v, want 2 handshakes", c)
	}
}

func TestHTTPModeGarbage(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg := testConfig(b)
	cfg.Mode = targets.ModeHTTP
	srv := startServer(t, cfg)
	conn, err := dial(t, srv.Addr(), clientConfig(b, tls.VersionTLS13, nil))
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	// The unread tail after the bad request must not turn the close into a
	// reset that loses the 400.
	io.WriteString(conn, "SSH-2.0-OpenSSH\r\n\r\n"+strings.Repeat("junk", 1000))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 {
		t.Fatalf("status %s, want 400", resp.Status)
	}
	c, _ := srv.Counts(t.Context())
	if c.Requests != 0 {
		t.Errorf("a refused request was counted: %+v", c)
	}
}
