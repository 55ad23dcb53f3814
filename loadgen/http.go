package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// httpClient speaks just enough HTTP/1.1 to measure requests on an mTLS
// connection: a fixed keep-alive GET, and a response read by status line,
// Content-Length or chunked body. One per worker; its buffers are reused
// for every connection.
type httpClient struct {
	request []byte
	br      *bufio.Reader
	// h2 speaks HTTP/2 instead (Config.HTTP2); kept here, not in the
	// worker, whose size is watched.
	h2 *h2Client
}

func newHTTPClient(host, path string) *httpClient {
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mtlsbench\r\nAccept: */*\r\n\r\n", path, host)
	return &httpClient{request: []byte(req), br: bufio.NewReaderSize(nil, 4096)}
}

// statusError is a non-2xx response.
type statusError struct{ code int }

func (e *statusError) Error() string { return "HTTP status " + strconv.Itoa(e.code) }

var errMalformed = errors.New("malformed HTTP response")

// do sends one request on rw and reads the whole response. r must be the
// connection reader the client was reset to.
func (h *httpClient) do(w io.Writer) error {
	if _, err := w.Write(h.request); err != nil {
		return err
	}
	line, err := h.line()
	if err != nil {
		return err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return fmt.Errorf("%w: status line %.40q", errMalformed, line)
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return fmt.Errorf("%w: status line %.40q", errMalformed, line)
	}
	length, chunked := int64(-1), false
	for {
		line, err := h.line()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return fmt.Errorf("%w: Content-Length %.20q", errMalformed, value)
			}
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = asciiEqualFold(value, "chunked")
		}
	}
	switch {
	case chunked:
		err = h.chunked()
	case length >= 0:
		_, err = h.br.Discard(int(length))
	case code == 204 || code == 304:
	default:
		err = fmt.Errorf("%w: no Content-Length on a keep-alive response", errMalformed)
	}
	if err != nil {
		return err
	}
	if code < 200 || code > 299 {
		return &statusError{code}
	}
	return nil
}

func (h *httpClient) line() ([]byte, error) {
	line, err := h.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: header line longer than 4 KiB", errMalformed)
		}
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

func (h *httpClient) chunked() error {
	for {
		line, err := h.line()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("%w: chunk size %.20q", errMalformed, line)
		}
		if size == 0 {
			for { // trailers up to the empty line
				l, err := h.line()
				if err != nil || len(l) == 0 {
					return err
				}
			}
		}
		if _, err := h.br.Discard(int(size) + 2); err != nil {
			return err
		}
	}
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
