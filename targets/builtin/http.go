package builtin

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The built-in target's HTTP/1.1 responder (ModeHTTP). It is written by hand
// rather than with net/http because it sits inside the measurement: per
// request it parses in place, writes a precomputed response with one Write
// (one TLS record) and allocates nothing. It understands exactly what a
// load generator sends — a request line, headers, an optional
// Content-Length body, keep-alive, pipelining — and answers anything else
// with an error status and closes.

// httpMaxHead is the largest request line plus headers accepted (431 above).
const httpMaxHead = 8 << 10

// httpBufPool holds request buffers, taken after the handshake and returned
// when the connection ends.
var httpBufPool = sync.Pool{New: func() any { return new([httpMaxHead]byte) }}

// httpBody is what every successful request gets.
const httpBody = "ok\n"

// httpRequest is what the responder needs from a request head.
type httpRequest struct {
	contentLength  int64
	close          bool // the connection ends after the response
	keepAlive10    bool // an HTTP/1.0 client asked for keep-alive
	head           bool // HEAD: headers only
	expectContinue bool // Expect: 100-continue
}

// Precomputed responses. ok[conn][head]: conn 0 = no Connection header,
// 1 = "Connection: close", 2 = "Connection: keep-alive" (HTTP/1.0).
var (
	httpOK       [3][2][]byte
	httpErrors   = map[int][]byte{}
	httpContinue = []byte("HTTP/1.1 100 Continue\r\n\r\n")
)

func init() {
	for conn, header := range []string{"", "Connection: close\r\n", "Connection: keep-alive\r\n"} {
		h := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(httpBody)) + "\r\n" + header + "\r\n"
		httpOK[conn][1] = []byte(h)
		httpOK[conn][0] = []byte(h + httpBody)
	}
	for status, text := range map[int]string{
		400: "Bad Request",
		431: "Request Header Fields Too Large",
		501: "Not Implemented",
		505: "HTTP Version Not Supported",
	} {
		body := text + "\n"
		httpErrors[status] = fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, text, len(body), body)
	}
}

// serveHTTP answers requests read from rw until the client closes, a
// request asks to close, or a request is refused. buf is the request
// buffer (httpMaxHead bytes); requests counts 200 answers. It reports
// whether the server ends the connection after a complete response
// (Connection: close or an error status), which the caller closes
// gracefully so the client can read that response.
func serveHTTP(rw io.ReadWriter, buf []byte, requests *atomic.Int64) (serverCloses bool) {
	start, end := 0, 0 // unread bytes: buf[start:end]
	var readErr error
	for {
		// Tolerate empty lines before a request line (RFC 9112, 2.2).
		for start < end && (buf[start] == '\r' || buf[start] == '\n') {
			start++
		}
		headLen := httpHeadEnd(buf[start:end])
		if headLen < 0 {
			if readErr != nil {
				return false // the client left (mid-request or between requests)
			}
			if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			}
			if end == len(buf) {
				rw.Write(httpErrors[431])
				return true
			}
			var n int
			n, readErr = rw.Read(buf[end:])
			end += n
			continue
		}
		req, status := parseHTTPHead(buf[start : start+headLen])
		start += headLen
		if status != 0 {
			rw.Write(httpErrors[status])
			return true
		}
		if req.contentLength > 0 {
			if req.expectContinue {
				if _, err := rw.Write(httpContinue); err != nil {
					return false
				}
			}
			// Skip the body: first what is buffered, then read and drop.
			rest := req.contentLength
			if buffered := int64(end - start); buffered >= rest {
				start += int(rest)
				rest = 0
			} else {
				rest -= buffered
				start, end = 0, 0
			}
			for rest > 0 {
				if readErr != nil {
					return false
				}
				var n int
				n, readErr = rw.Read(buf[:min(int64(len(buf)), rest)])
				rest -= int64(n)
			}
		}
		conn := 0
		switch {
		case req.close:
			conn = 1
		case req.keepAlive10:
			conn = 2
		}
		head := 0
		if req.head {
			head = 1
		}
		if _, err := rw.Write(httpOK[conn][head]); err != nil {
			return false
		}
		requests.Add(1)
		if req.close {
			return true
		}
		if start == end {
			start, end = 0, 0
		}
	}
}

// httpHeadEnd returns the length of the request head at the start of b,
// through the empty line that ends it, or -1 if b does not hold all of it
// yet. Lines end in CRLF or, leniently, a bare LF.
func httpHeadEnd(b []byte) int {
	i := 0
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
}

// parseHTTPHead parses a request line and headers (through the final
// empty line). A non-zero status is the error to answer with before
// closing: 400 malformed, 501 a transfer coding, 505 an HTTP version other
// than 1.0 and 1.1.
func parseHTTPHead(head []byte) (req httpRequest, status int) {
	line, rest := httpCutLine(head)
	method, line, ok1 := bytes.Cut(line, []byte{' '})
	target, version, ok2 := bytes.Cut(line, []byte{' '})
	if !ok1 || !ok2 || !isHTTPToken(method) || len(target) == 0 || bytes.IndexByte(target, ' ') >= 0 || hasControl(target) {
		return req, 400
	}
	var http10 bool
	switch string(version) { // no allocation: the compiler compares in place
	case "HTTP/1.1":
	case "HTTP/1.0":
		http10 = true
	default:
		if len(version) == 8 && string(version[:5]) == "HTTP/" && version[6] == '.' {
			return req, 505
		}
		return req, 400
	}
	req.head = string(method) == "HEAD"
	seenLength, sawClose, sawKeepAlive := false, false, false
	for len(rest) > 0 {
		line, rest = httpCutLine(rest)
		if len(line) == 0 {
			break // the empty line ending the head
		}
		if line[0] == ' ' || line[0] == '\t' {
			return req, 400 // obsolete line folding (RFC 9112, 5.2)
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || !isHTTPToken(name) {
			return req, 400
		}
		value = bytes.Trim(value, " \t")
		switch {
		case asciiEqualFold(name, "content-length"):
			n, ok := parseContentLength(value)
			if !ok || (seenLength && n != req.contentLength) {
				return req, 400
			}
			req.contentLength, seenLength = n, true
		case asciiEqualFold(name, "transfer-encoding"):
			return req, 501
		case asciiEqualFold(name, "connection"):
			for len(value) > 0 {
				var tok []byte
				tok, value, _ = bytes.Cut(value, []byte{','})
				tok = bytes.Trim(tok, " \t")
				switch {
				case asciiEqualFold(tok, "close"):
					sawClose = true
				case asciiEqualFold(tok, "keep-alive"):
					sawKeepAlive = true
				}
			}
		case asciiEqualFold(name, "expect"):
			req.expectContinue = asciiEqualFold(value, "100-continue")
		}
	}
	// HTTP/1.1 keeps the connection unless asked to close; HTTP/1.0 closes
	// unless asked to keep it. "close" wins over "keep-alive".
	switch {
	case sawClose:
		req.close = true
	case http10 && sawKeepAlive:
		req.keepAlive10 = true
	case http10:
		req.close = true
	}
	return req, 0
}

// httpCutLine splits off the first line, without its CRLF or LF.
func httpCutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// parseContentLength accepts 1 to 15 decimal digits (up to ~1 PB).
func parseContentLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// isHTTPToken reports whether b is a non-empty RFC 9110 token.
func isHTTPToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// asciiEqualFold compares b with lower, a lower-case ASCII string, ignoring
// the case of b.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
