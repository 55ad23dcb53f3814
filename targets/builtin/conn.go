package builtin

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// serveConn runs one client connection: the handshake (bounded by
// HandshakeTimeout), then the mode's work until the client closes or Close
// closes the connection.
func (b *Server) serveConn(raw net.Conn) {
	defer b.wg.Done()
	shard, ok := b.conns.add(raw)
	if !ok { // Close has begun
		raw.Close()
		return
	}
	defer b.conns.remove(shard, raw)
	defer raw.Close()

	if b.cfg.Auth == tlsparams.AuthNone {
		b.servePlain(raw)
		return
	}
	tc := tls.Server(raw, b.tlsConfig)
	if !b.handshake(tc, raw) {
		return
	}
	switch b.cfg.Mode {
	case targets.ModeHTTP2:
		b.serveHTTP2(tc)
	case targets.ModeHTTP:
		buf := httpBufPool.Get().(*[httpMaxHead]byte)
		graceful := serveHTTP(tc, buf[:], &b.stats.requests)
		httpBufPool.Put(buf)
		if graceful {
			lingerClose(tc, raw)
		}
	default:
		holdUntilClientCloses(tc)
	}
	// The client has gone, or we are closing: closing raw (deferred)
	// rather than tc skips a close_notify nobody will read.
}

// handshake runs the server handshake and counts its outcome. It reports
// whether the handshake succeeded.
func (b *Server) handshake(tc *tls.Conn, raw net.Conn) bool {
	// A deadline on the socket, not a context: it costs no allocation and
	// also bounds the handshake delay's effect on a stalled client.
	raw.SetDeadline(time.Now().Add(b.cfg.HandshakeTimeout))
	if err := tc.Handshake(); err != nil {
		b.countFailure(tc, err)
		return false
	}
	// No idle timeout after the handshake: clients may hold connections
	// open for minutes (--hold); Close ends them.
	raw.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	b.stats.recordHandshake(st.Version, st.CipherSuite, st.DidResume, len(st.PeerCertificates) > 0)
	return true
}

// servePlain serves a connection without TLS (auth none): it counts as a
// handshake of the case (a connection served, no version, suite or
// client verdict), then the mode's work on the plain socket.
func (b *Server) servePlain(raw net.Conn) {
	b.stats.handshakes.Add(1)
	switch b.cfg.Mode {
	case targets.ModeHTTP:
		buf := httpBufPool.Get().(*[httpMaxHead]byte)
		graceful := serveHTTP(raw, buf[:], &b.stats.requests)
		httpBufPool.Put(buf)
		if graceful {
			lingerClose(nil, raw)
		}
	default:
		holdUntilClientCloses(raw)
	}
}

// countFailure counts a failed handshake, except connections that sent no
// ClientHello at all (a port probe: nothing was attempted) and handshakes
// cut short by Close.
func (b *Server) countFailure(tc *tls.Conn, err error) {
	select {
	case <-b.done:
		return
	default:
	}
	// Version is set once the ClientHello has been read; a plain EOF
	// before it means the peer connected and left without a word.
	if errors.Is(err, io.EOF) && tc.ConnectionState().Version == 0 {
		return
	}
	b.stats.recordFailure(err)
}

// holdBufPool holds the small buffers connections read into while a client
// holds them open. Small because thousands may be held at once.
var holdBufPool = sync.Pool{New: func() any { return new([256]byte) }}

// holdUntilClientCloses reads and discards until the client closes or the
// connection is closed under it. In TLS 1.3 the session ticket has already
// been sent by the time the handshake returns (crypto/tls sends it right
// after verifying the client certificate), so there is nothing to write.
func holdUntilClientCloses(tc io.Reader) {
	buf := holdBufPool.Get().(*[256]byte)
	defer holdBufPool.Put(buf)
	for {
		if _, err := tc.Read(buf[:]); err != nil {
			return
		}
	}
}

// lingerTimeout bounds how long a connection the server decided to close
// waits for the client to close its side.
const lingerTimeout = time.Second

// lingerClose closes a connection the server decided to end so that the
// client still reads the last response: close_notify and FIN first, then
// drain what the client still sends until it closes. Closing with unread
// input would make the kernel send RST, which can discard the response
// before the client reads it.
func lingerClose(tc *tls.Conn, raw net.Conn) {
	if tc != nil { // nil: a plain connection
		tc.CloseWrite()
	}
	if cw, ok := raw.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	raw.SetReadDeadline(time.Now().Add(lingerTimeout))
	buf := holdBufPool.Get().(*[256]byte)
	defer holdBufPool.Put(buf)
	for {
		if _, err := raw.Read(buf[:]); err != nil {
			return
		}
	}
}

// connShards spreads the open-connection set over several locks so that
// accepting on many cores does not serialise on one mutex.
const connShards = 16

// connRegistry is the set of open connections, which Close must close
// (held connections would otherwise block forever in Read). One add and one
// remove per connection, on one of connShards uncontended locks.
type connRegistry struct {
	next   atomic.Uint32
	shards [connShards]connShard
}

type connShard struct {
	mu     sync.Mutex // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool
	_      [64]byte // keep shards on separate cache lines
}

func (r *connRegistry) init() {
	for i := range r.shards {
		r.shards[i].conns = make(map[net.Conn]struct{})
	}
}

// add registers c and returns its shard, or false once closeAll has run.
func (r *connRegistry) add(c net.Conn) (int, bool) {
	i := int(r.next.Add(1) % connShards)
	s := &r.shards[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, false
	}
	s.conns[c] = struct{}{}
	return i, true
}

func (r *connRegistry) remove(shard int, c net.Conn) {
	s := &r.shards[shard]
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// open returns the number of registered connections.
func (r *connRegistry) open() int {
	n := 0
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		n += len(s.conns)
		s.mu.Unlock()
	}
	return n
}

// closeAll closes every registered connection and refuses new ones.
func (r *connRegistry) closeAll() {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	}
}
