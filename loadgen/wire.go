package loadgen

import (
	"net"
	"time"
)

// wireConn sits between crypto/tls and the TCP connection. One per worker,
// reset for each connection, so it costs no allocation. It
//   - counts bytes written and read (TLS records on the wire),
//   - notes when the server's first byte arrived,
//   - tracks TLS record boundaries in what it reads, which is how the
//     engine confirms acceptance in TLS 1.3 without blocking: once the
//     server's first post-handshake record (normally its session ticket)
//     has been handed to crypto/tls whole, the next Read returns
//     errConfirmed instead of waiting for data that will never come.
type wireConn struct {
	// s is the TCP connection (see sock.go), the worker's own.
	s *sock

	written, read int64
	firstRead     time.Time

	recordScanner

	// confirming makes Read stop at the first record boundary after at
	// least one complete record.
	confirming bool
}

func (c *wireConn) reset(s *sock) {
	*c = wireConn{s: s}
}

func (c *wireConn) Write(p []byte) (int, error) {
	n, err := c.s.Write(p)
	c.written += int64(n)
	return n, err
}

func (c *wireConn) Read(p []byte) (int, error) {
	if c.confirming && c.atBoundary() {
		return 0, errConfirmed
	}
	n, err := c.s.Read(p)
	if n > 0 {
		if c.read == 0 {
			c.firstRead = time.Now()
		}
		c.read += int64(n)
		c.scan(p[:n])
	}
	return n, err
}

// The rest of net.Conn. The engine closes the file itself. The local
// address is not known without a syscall, and nothing asks for it.
func (c *wireConn) Close() error                       { return c.s.Close() }
func (c *wireConn) LocalAddr() net.Addr                { return unknownLocal }
func (c *wireConn) RemoteAddr() net.Addr               { return c.s.remote }
func (c *wireConn) SetDeadline(t time.Time) error      { return c.s.SetDeadline(t) }
func (c *wireConn) SetReadDeadline(t time.Time) error  { return c.s.SetReadDeadline(t) }
func (c *wireConn) SetWriteDeadline(t time.Time) error { return c.s.SetWriteDeadline(t) }

var (
	unknownLocal net.Addr = &net.TCPAddr{}
	_            net.Conn = (*wireConn)(nil)
)

// recordScanner follows TLS record boundaries in the bytes read: hdr
// collects a record header across reads; body is how many bytes of the
// current record's body are still to come; records counts complete records
// since it was last zeroed.
type recordScanner struct {
	hdr     [5]byte
	hdrLen  int
	body    int
	records int
}

// scan advances the record state machine over bytes just read.
func (c *recordScanner) scan(b []byte) {
	for len(b) > 0 {
		if c.body > 0 {
			k := min(c.body, len(b))
			c.body -= k
			b = b[k:]
			if c.body == 0 {
				c.records++
			}
			continue
		}
		k := copy(c.hdr[c.hdrLen:], b)
		c.hdrLen += k
		b = b[k:]
		if c.hdrLen == len(c.hdr) {
			c.hdrLen = 0
			c.body = int(c.hdr[3])<<8 | int(c.hdr[4])
			if c.body == 0 {
				c.records++
			}
		}
	}
}

// atBoundary reports whether at least one whole record has been read since
// records was zeroed and nothing of the next one has.
func (c *recordScanner) atBoundary() bool {
	return c.records > 0 && c.hdrLen == 0 && c.body == 0
}

// startConfirm arms the record boundary stop: crypto/tls's next Read
// returns after one whole record has been received and processed.
func (c *wireConn) startConfirm() {
	c.records = 0
	c.confirming = true
}

// errConfirmed ends the confirmation Read. It is a temporary net.Error so
// crypto/tls returns it without marking the connection broken.
var errConfirmed error = confirmedError{}

type confirmedError struct{}

func (confirmedError) Error() string   { return "loadgen: server record received" }
func (confirmedError) Timeout() bool   { return false }
func (confirmedError) Temporary() bool { return true }
