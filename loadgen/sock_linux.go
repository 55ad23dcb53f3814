package loadgen

import (
	"os"
	"syscall"
	"unsafe"
)

// sysRead reads into buf with a raw read(2) (see sock for why raw).
func sysRead(fd uintptr, buf []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	return int(n), e
}

// sysSend writes buf with a raw sendto(2). MSG_NOSIGNAL: a peer that has
// gone gives EPIPE, not a SIGPIPE.
func sysSend(fd uintptr, buf []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), syscall.MSG_NOSIGNAL, 0, 0)
	return int(n), e
}

// Raw socket calls for dialing. None can block on a non-blocking socket.

func rawSocket(family int) (int, syscall.Errno) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(family), syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	return int(fd), e
}

func rawSetsockoptInt(fd, level, opt, value int) syscall.Errno {
	v := int32(value)
	_, _, e := syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), 4, 0)
	return e
}

func rawGetsockoptInt(fd, level, opt int) (int, syscall.Errno) {
	var v int32
	l := uint32(4)
	_, _, e := syscall.RawSyscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	return int(v), e
}

func rawBind(fd int, sa unsafe.Pointer, n uintptr) syscall.Errno {
	_, _, e := syscall.RawSyscall(syscall.SYS_BIND, uintptr(fd), uintptr(sa), n)
	return e
}

func rawConnect(fd int, sa unsafe.Pointer, n uintptr) syscall.Errno {
	_, _, e := syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(sa), n)
	return e
}

// rawConnected reports whether the socket has a peer (getpeername).
func rawConnected(fd int) bool {
	var sa syscall.RawSockaddrAny
	l := uint32(syscall.SizeofSockaddrAny)
	_, _, e := syscall.RawSyscall(syscall.SYS_GETPEERNAME, uintptr(fd), uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&l)))
	return e == 0
}

// setLinger0 makes close send a RST instead of a FIN: no TIME_WAIT socket.
func setLinger0(fd int) error {
	l := syscall.Linger{Onoff: 1, Linger: 0}
	_, _, e := syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, uintptr(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, uintptr(unsafe.Pointer(&l)), unsafe.Sizeof(l), 0)
	if e != 0 {
		return os.NewSyscallError("setsockopt", e)
	}
	return nil
}

// spreadSources says whether connections to a loopback target may come
// from many 127.0.0.0/8 source addresses: Linux answers on the whole /8.
const spreadSources = true

// sockaddr4 and sockaddr6 fill the kernel's socket address structures.
func sockaddr4(sa *syscall.RawSockaddrInet4, ip [4]byte, port int) {
	*sa = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: ip}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
}

func sockaddr6(sa *syscall.RawSockaddrInet6, ip [16]byte, port int, zone uint32) {
	*sa = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: ip, Scope_id: zone}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (Linux 4.2+).
const ipBindAddressNoPort = 24
