package builtin

import (
	"crypto/tls"
	"io"
	"net/http"
	"strconv"

	"golang.org/x/net/http2"
)

// The built-in target's HTTP/2 responder (ModeHTTP2): golang.org/x/net's
// HTTP/2 server on the connection the target accepted and shook hands
// with (ALPN h2 only, see newTLSConfig). Unlike the HTTP/1.1 responder it
// is not written by hand: framing, HPACK, flow control and stream limits
// are what an HTTP/2 server costs, and that is the package's to do. Each
// request gets 200 and the same body as HTTP/1.1.

// h2MaxStreams is the streams a client may have in flight on one
// connection: at least scenarios.MaxStreams, so that no case is refused
// by this server's SETTINGS_MAX_CONCURRENT_STREAMS.
const h2MaxStreams = 1000

// h2Server is shared by every connection (it holds only settings).
// PermitProhibitedCipherSuites: the case names the TLS 1.2 suite, and the
// server must serve it rather than refuse it as RFC 9113's list would.
var h2Server = &http2.Server{MaxConcurrentStreams: h2MaxStreams, PermitProhibitedCipherSuites: true}

var (
	h2ContentType   = []string{"text/plain"}
	h2ContentLength = []string{strconv.Itoa(len(httpBody))}
)

// h2Handler answers every request with 200 and counts it.
type h2Handler struct{ stats *serverStats }

func (h h2Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr["Content-Type"] = h2ContentType
	hdr["Content-Length"] = h2ContentLength
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		if _, err := io.WriteString(w, httpBody); err != nil {
			return
		}
	}
	h.stats.requests.Add(1)
	if r.ProtoMajor == 2 {
		h.stats.http2Requests.Add(1)
	}
}

// serveHTTP2 serves HTTP/2 on tc until the client closes or Close closes
// the connection.
func (b *Server) serveHTTP2(tc *tls.Conn) {
	h2Server.ServeConn(tc, &http2.ServeConnOpts{Handler: h2Handler{&b.stats}})
}
