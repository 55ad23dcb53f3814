package managed

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"sync"
)

// HAProxy's log does not go to a file of its own writing. With several
// threads, `log stdout` (or any fd@ target) drops a line when another
// thread is writing: HAProxy never blocks on a log, it tries 200 times to
// take the file descriptor and then gives up, counting DroppedLogs. On a
// busy machine, where a writing thread is descheduled now and then, that
// loses a line in a thousand. So HAProxy logs into a ring (a buffer in its
// memory, written under a lock, never dropping while there is room) whose
// forwarder sends the lines over TCP, one per line (log-proto legacy), to
// a haproxyCollector in the harness, which appends them to a file read
// like any other log. The ring holds 32 MB: a collector would have to fall
// behind by some 200,000 lines before HAProxy dropped one.
//
// The way through the ring takes time of its own: a line is in the ring
// before its connection closes, but it reaches the file when the forwarder
// and the collector have run, which on a busy machine can be after the file
// has been quiet for a while. So counting ends with a mark (haproxyLog.flush):
// a connection to a frontend of the harness's own, whose line follows every
// earlier line through the ring.

// haproxyRingSize is the ring's size in bytes.
const haproxyRingSize = 32 << 20

// testHookCollectorWrite, when set by a test, runs before the collector
// writes what it received: a test makes the way through the ring slow.
var testHookCollectorWrite func()

// haproxyCollector receives HAProxy's log lines over TCP and appends whole
// lines to a file.
type haproxyCollector struct {
	ln   net.Listener
	file *os.File
	wg   sync.WaitGroup

	mu    sync.Mutex // guards conns, closed and writes to file
	conns map[net.Conn]struct{}
	// closed is set by close: no connection is taken after it.
	closed bool
}

// startHAProxyCollector listens on a free loopback port for HAProxy's ring
// forwarder and appends what it sends to path.
func startHAProxyCollector(path string) (*haproxyCollector, error) {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("listen for its log: %w", err)
	}
	c := &haproxyCollector{ln: ln, file: file, conns: map[net.Conn]struct{}{}}
	c.wg.Go(c.accept)
	return c, nil
}

// addr is where HAProxy's ring forwarder connects.
func (c *haproxyCollector) addr() string { return c.ln.Addr().String() }

func (c *haproxyCollector) accept() {
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			return // closed
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			conn.Close()
			return
		}
		c.conns[conn] = struct{}{}
		c.mu.Unlock()
		c.wg.Go(func() { c.copy(conn) })
	}
}

// copy appends the complete lines read from conn to the file, each read's
// worth in one write, so lines from two connections (the forwarder
// reconnecting) never interleave.
func (c *haproxyCollector) copy(conn net.Conn) {
	defer func() {
		c.mu.Lock()
		delete(c.conns, conn)
		c.mu.Unlock()
		conn.Close()
	}()
	buf := make([]byte, 256<<10)
	n := 0
	for {
		if n == len(buf) {
			// A line longer than the buffer (HAProxy's maxlen is far
			// below): end it here rather than stall.
			buf[n-1] = '\n'
		}
		r, err := conn.Read(buf[n:])
		n += r
		if end := bytes.LastIndexByte(buf[:n], '\n') + 1; end > 0 {
			if testHookCollectorWrite != nil {
				testHookCollectorWrite()
			}
			c.mu.Lock()
			_, werr := c.file.Write(buf[:end])
			c.mu.Unlock()
			if werr != nil {
				return
			}
			n = copy(buf, buf[end:n])
		}
		if err != nil {
			return // the forwarder closed, or close: a partial line was cut at HAProxy's exit
		}
	}
}

// close stops listening, ends the connections and closes the file once
// every line received has been written.
func (c *haproxyCollector) close() {
	c.mu.Lock()
	c.closed = true
	for conn := range c.conns {
		conn.Close()
	}
	c.mu.Unlock()
	c.ln.Close()
	c.wg.Wait()
	c.file.Close()
}
