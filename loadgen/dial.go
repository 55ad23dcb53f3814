package loadgen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// The engine opens its TCP connections itself instead of with net.Dialer:
// socket, (bind to a source address), non-blocking connect, and the
// descriptor handed to os.NewFile, whose poller gives waiting, deadlines
// and closing exactly as net's do (reads and writes: see sock). The
// kernel's work is the same as net's — the same system calls, TCP_NODELAY
// set as net sets it — but a net.Dialer with a timeout and a cancellable
// context costs, per connection, a resolution of the address string, a
// context with a deadline and its timer, an AfterFunc registration and
// some thirty heap allocations (twice a plain net.Dial's), and it parks the
// goroutine until the poller reports a connect that, on loopback, has
// usually completed before connect(2) returns. Here the target is resolved
// once, the socket addresses are the worker's own, the connect timeout is
// the socket's write deadline (no goroutine, no context) and a connect
// that has completed is seen without waiting. A run is stopped while
// connecting the way it is stopped at any other point: its deadline is
// moved to now.
//
// Resolving once means a target name is looked up when the run starts, not
// per connection (as wrk and most load generators do); with several
// addresses, the first IPv4 one is used, else the first.

// dialTarget is the resolved target, shared read-only by the workers.
type dialTarget struct {
	addr   *net.TCPAddr
	name   string  // "host:port" as given, for error messages
	family int     // syscall.AF_INET or AF_INET6
	ip4    [4]byte // AF_INET
	ip6    [16]byte
	zone   uint32
	// sources are IPv4 source addresses to spread connections over (see
	// Config.SourceAddrs); empty for the kernel's choice, and always empty
	// where the loopback answers on 127.0.0.1 only (spreadSources: macOS),
	// which the result's source_addrs (1) then says.
	sources [][4]byte
}

func resolveTarget(addr string, nsources int) (*dialTarget, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ta *net.TCPAddr
	if ip := net.ParseIP(host); ip != nil {
		ta, err = net.ResolveTCPAddr("tcp", addr)
	} else {
		// A name: prefer an IPv4 address, as net.Dialer tries them first
		// when both families are listed.
		ta, err = net.ResolveTCPAddr("tcp4", addr)
		if err != nil {
			ta, err = net.ResolveTCPAddr("tcp", addr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("loadgen: resolve the target %s: %w", addr, err)
	}
	t := &dialTarget{addr: ta, name: addr}
	if ip4 := ta.IP.To4(); ip4 != nil {
		t.family = syscall.AF_INET
		copy(t.ip4[:], ip4)
	} else {
		t.family = syscall.AF_INET6
		copy(t.ip6[:], ta.IP.To16())
		if ta.Zone != "" {
			ifi, err := net.InterfaceByName(ta.Zone)
			if err != nil {
				return nil, fmt.Errorf("loadgen: target %s: zone %q: %w", addr, ta.Zone, err)
			}
			t.zone = uint32(ifi.Index)
		}
	}
	if spreadSources && nsources > 1 && t.family == syscall.AF_INET && ta.IP.IsLoopback() {
		for i := range nsources {
			// 127.0.0.2 ... 127.0.0.251, then 127.0.1.2 ... and so on.
			ip := [4]byte{127, byte(i / 250 / 250), byte((i / 250) % 250), byte(2 + i%250)}
			t.sources = append(t.sources, ip)
		}
	}
	return t, nil
}

// dialer opens one worker's connections. Its socket addresses are its own,
// so dialing allocates only the os.File and its RawConn.
type dialer struct {
	target  *dialTarget
	remote4 syscall.RawSockaddrInet4
	remote6 syscall.RawSockaddrInet6
	source  syscall.RawSockaddrInet4
	next    int // next source address index

	// connected is d.checkConnected as a func value, made once.
	connected func(fd uintptr) bool
	checkErr  error
}

func (d *dialer) init(t *dialTarget, first int) {
	d.target = t
	sockaddr4(&d.remote4, t.ip4, t.addr.Port)
	sockaddr6(&d.remote6, t.ip6, t.addr.Port, t.zone)
	d.next = first
	d.connected = d.checkConnected
}

// open creates the socket, starts connecting and attaches the connection
// to s. It reports whether the connect is still in progress. On error
// nothing is left open.
func (d *dialer) open(s *sock) (pending bool, err error) {
	t := d.target
	fd, e := rawSocket(t.family)
	if e != 0 {
		return false, d.opError(os.NewSyscallError("socket", e))
	}
	fail := func(call string, e syscall.Errno) (bool, error) {
		syscall.Close(fd)
		return false, d.opError(os.NewSyscallError(call, e))
	}
	// As net does for every TCP connection: a handshake flight is written
	// whole, and must not wait for an ACK.
	if e := rawSetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); e != 0 {
		return fail("setsockopt", e)
	}
	if n := len(t.sources); n > 0 {
		// IP_BIND_ADDRESS_NO_PORT: the kernel chooses the port at connect
		// time, per 4-tuple, instead of reserving one per bind.
		if e := rawSetsockoptInt(fd, syscall.IPPROTO_IP, ipBindAddressNoPort, 1); e != 0 {
			return fail("setsockopt", e)
		}
		sockaddr4(&d.source, t.sources[d.next%n], 0)
		d.next++
		if e := rawBind(fd, unsafe.Pointer(&d.source), syscall.SizeofSockaddrInet4); e != 0 {
			return fail("bind", e)
		}
	}
	if t.family == syscall.AF_INET6 {
		e = rawConnect(fd, unsafe.Pointer(&d.remote6), syscall.SizeofSockaddrInet6)
	} else {
		e = rawConnect(fd, unsafe.Pointer(&d.remote4), syscall.SizeofSockaddrInet4)
	}
	switch e {
	case 0, syscall.EISCONN:
	case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
		pending = true
	default:
		return fail("connect", e)
	}
	f := os.NewFile(uintptr(fd), t.name)
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return false, d.opError(err)
	}
	s.attach(fd, f, raw, t.addr)
	return pending, nil
}

// wait waits until a pending connect completes, fails, or s's write
// deadline passes.
func (d *dialer) wait(s *sock) error {
	if d.checkConnected(uintptr(s.fd)) {
		return d.checkErr
	}
	if err := s.raw.Write(d.connected); err != nil {
		return d.opError(err)
	}
	return d.checkErr
}

// checkConnected reports whether the connect is over, leaving its error
// in d.checkErr. As net does, a zero SO_ERROR is confirmed with
// getpeername: the poller can wake a waiter spuriously.
func (d *dialer) checkConnected(fd uintptr) bool {
	d.checkErr = nil
	nerr, e := rawGetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	if e != 0 {
		d.checkErr = d.opError(os.NewSyscallError("getsockopt", e))
		return true
	}
	switch errno := syscall.Errno(nerr); errno {
	case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
		return false
	case syscall.EISCONN:
		return true
	case 0:
		return rawConnected(int(fd))
	default:
		d.checkErr = d.opError(os.NewSyscallError("connect", errno))
		return true
	}
}

// opError words a dial failure as net does ("dial tcp 127.0.0.1:8443:
// connect: connection refused"), so it classifies the same way.
func (d *dialer) opError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = errDialTimeout
	}
	return &net.OpError{Op: "dial", Net: "tcp", Addr: d.target.addr, Err: err}
}

// errDialTimeout is a connect that did not complete within the timeout.
var errDialTimeout error = dialTimeoutError{}

type dialTimeoutError struct{}

func (dialTimeoutError) Error() string   { return "i/o timeout" }
func (dialTimeoutError) Timeout() bool   { return true }
func (dialTimeoutError) Temporary() bool { return true }
func (dialTimeoutError) Is(target error) bool {
	return target == os.ErrDeadlineExceeded
}
