package loadgen

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// sock is one TCP connection the engine opened itself (see dial.go): the
// non-blocking descriptor, the os.File that registers it with Go's poller
// (for waiting, deadlines and closing), and reads and writes made with raw
// system calls. One per worker, reused for each connection.
//
// Why raw system calls: a read or write through net or os tells the Go
// scheduler it is entering a system call, and when one lasts longer than
// the scheduler's monitor tick (20 µs) — which a loopback write does, as
// the kernel delivers the data to the peer's socket within the call — the
// monitor hands the processor to another thread, which finds nothing to
// do and goes back to sleep. pprof and strace showed that dance (futex
// wake-ups, the monitor polling every 20 µs) costing a Go client some 9
// context switches per handshake. These descriptors are non-blocking, so
// no call here can block: one that would returns EAGAIN and the goroutine
// waits in the poller, as with net. The kernel's work is the same.
type sock struct {
	fd     int
	f      *os.File
	raw    syscall.RawConn
	remote net.Addr

	// The buffer and outcome of the Read or Write in progress, for the
	// poller callbacks (readFn, writeFn: made once, so no call allocates).
	buf             []byte
	n               int
	errno           syscall.Errno
	readFn, writeFn func(fd uintptr) bool
}

func (s *sock) init() {
	s.readFn = s.doRead
	s.writeFn = s.doWrite
}

// attach makes s the connection on descriptor fd (already registered
// with the poller through f).
func (s *sock) attach(fd int, f *os.File, raw syscall.RawConn, remote net.Addr) {
	s.fd, s.f, s.raw, s.remote = fd, f, raw, remote
}

// detach forgets the connection, which the holder now keeps.
func (s *sock) detach() {
	s.fd, s.f, s.raw, s.remote = -1, nil, nil, nil
}

func (s *sock) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.buf, s.n, s.errno = p, 0, 0
	err := s.raw.Read(s.readFn)
	s.buf = nil
	switch {
	case err != nil:
		return 0, s.opError("read", err)
	case s.errno != 0:
		return 0, s.opError("read", os.NewSyscallError("read", s.errno))
	case s.n == 0:
		return 0, io.EOF
	}
	return s.n, nil
}

func (s *sock) doRead(fd uintptr) bool {
	for {
		n, e := sysRead(fd, s.buf)
		switch e {
		case 0:
			s.n = int(n)
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // wait for readability
		default:
			s.errno = e
		}
		return true
	}
}

func (s *sock) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.buf, s.n, s.errno = p, 0, 0
	err := s.raw.Write(s.writeFn)
	s.buf = nil
	switch {
	case err != nil:
		return s.n, s.opError("write", err)
	case s.errno != 0:
		return s.n, s.opError("write", os.NewSyscallError("write", s.errno))
	}
	return s.n, nil
}

// doWrite writes all of s.buf, waiting for writability as needed. A peer
// that has gone gives EPIPE, not a SIGPIPE (see sysSend).
func (s *sock) doWrite(fd uintptr) bool {
	for s.n < len(s.buf) {
		rest := s.buf[s.n:]
		n, e := sysSend(fd, rest)
		switch e {
		case 0:
			s.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			s.errno = e
			return true
		}
	}
	return true
}

// opError words an I/O failure as net does ("read tcp 127.0.0.1:8443:
// connection reset by peer"), so it classifies the same way.
func (s *sock) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Addr: s.remote, Err: err}
}

func (s *sock) Close() error                       { return s.f.Close() }
func (s *sock) SetDeadline(t time.Time) error      { return s.f.SetDeadline(t) }
func (s *sock) SetReadDeadline(t time.Time) error  { return s.f.SetReadDeadline(t) }
func (s *sock) SetWriteDeadline(t time.Time) error { return s.f.SetWriteDeadline(t) }
