package loadgen

import (
	"os"
	"syscall"
	"unsafe"
)

// On macOS the engine's sockets go through the syscall package's libc
// wrappers: the raw system calls that spare Linux's scheduler a hand-off
// per read and write (see sock) do not exist there. Functionally the same;
// figures from macOS are not comparable with Linux's.

// sysRead reads into buf with read(2).
func sysRead(fd uintptr, buf []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), buf)
	return n, errnoOf(err)
}

// sysSend writes buf with write(2); SO_NOSIGPIPE, set when the socket is
// made, turns a gone peer's SIGPIPE into EPIPE.
func sysSend(fd uintptr, buf []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), buf)
	return max(n, 0), errnoOf(err)
}

func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}

func rawSocket(family int) (int, syscall.Errno) {
	// Under ForkLock, as net does where sockets cannot be made
	// close-on-exec atomically.
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, errnoOf(err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, errnoOf(err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_NOSIGPIPE, 1); err != nil {
		syscall.Close(fd)
		return -1, errnoOf(err)
	}
	return fd, 0
}

func rawSetsockoptInt(fd, level, opt, value int) syscall.Errno {
	return errnoOf(syscall.SetsockoptInt(fd, level, opt, value))
}

func rawGetsockoptInt(fd, level, opt int) (int, syscall.Errno) {
	v, err := syscall.GetsockoptInt(fd, level, opt)
	return v, errnoOf(err)
}

// sockaddrOf turns a kernel socket address (see sockaddr4, sockaddr6)
// into the syscall package's.
func sockaddrOf(sa unsafe.Pointer, n uintptr) syscall.Sockaddr {
	if n == syscall.SizeofSockaddrInet6 {
		raw := (*syscall.RawSockaddrInet6)(sa)
		p := (*[2]byte)(unsafe.Pointer(&raw.Port))
		return &syscall.SockaddrInet6{Port: int(p[0])<<8 | int(p[1]), ZoneId: raw.Scope_id, Addr: raw.Addr}
	}
	raw := (*syscall.RawSockaddrInet4)(sa)
	p := (*[2]byte)(unsafe.Pointer(&raw.Port))
	return &syscall.SockaddrInet4{Port: int(p[0])<<8 | int(p[1]), Addr: raw.Addr}
}

func rawBind(fd int, sa unsafe.Pointer, n uintptr) syscall.Errno {
	return errnoOf(syscall.Bind(fd, sockaddrOf(sa, n)))
}

func rawConnect(fd int, sa unsafe.Pointer, n uintptr) syscall.Errno {
	return errnoOf(syscall.Connect(fd, sockaddrOf(sa, n)))
}

// rawConnected reports whether the socket has a peer (getpeername).
func rawConnected(fd int) bool {
	_, err := syscall.Getpeername(fd)
	return err == nil
}

// setLinger0 makes close send a RST instead of a FIN: no TIME_WAIT socket.
func setLinger0(fd int) error {
	l := syscall.Linger{Onoff: 1, Linger: 0}
	if err := syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &l); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

// spreadSources says whether connections to a loopback target may come
// from many 127.0.0.0/8 source addresses: macOS's loopback answers on
// 127.0.0.1 alone unless more are configured, so it is one source here.
const spreadSources = false

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT; never set here,
// since there are no sources to bind to (spreadSources).
const ipBindAddressNoPort = 0

// sockaddr4 and sockaddr6 fill the kernel's socket address structures.
func sockaddr4(sa *syscall.RawSockaddrInet4, ip [4]byte, port int) {
	*sa = syscall.RawSockaddrInet4{Len: syscall.SizeofSockaddrInet4, Family: syscall.AF_INET, Addr: ip}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
}

func sockaddr6(sa *syscall.RawSockaddrInet6, ip [16]byte, port int, zone uint32) {
	*sa = syscall.RawSockaddrInet6{Len: syscall.SizeofSockaddrInet6, Family: syscall.AF_INET6, Addr: ip, Scope_id: zone}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
}
