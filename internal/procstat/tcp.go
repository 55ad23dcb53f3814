package procstat

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// OpenConnections counts the TCP connections whose local end is local, in
// this network namespace, that a server has not closed yet: established,
// half-open (SYN_RECV) or closed by the peer only (CLOSE_WAIT). A server
// that logs a connection when it ends (nginx, HAProxy) has written the
// lines of every connection of its listening address once this is zero.
func OpenConnections(local netip.AddrPort) (int, error) {
	if !haveProc {
		return 0, ErrUnsupported
	}
	path := "/proc/net/tcp"
	if local.Addr().Is6() && !local.Addr().Is4In6() {
		path = "/proc/net/tcp6"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("procstat: read TCP connections: %w", err)
	}
	return countOpen(data, local)
}

// TCP states in /proc/net/tcp (include/net/tcp_states.h).
const (
	tcpEstablished = "01"
	tcpSynRecv     = "03"
	tcpCloseWait   = "08"
)

func countOpen(data []byte, local netip.AddrPort) (int, error) {
	want := netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		switch f[3] {
		case tcpEstablished, tcpSynRecv, tcpCloseWait:
		default:
			continue
		}
		ap, err := parseProcAddr(f[1])
		if err != nil {
			return 0, fmt.Errorf("procstat: TCP connection %q: %w", f[1], err)
		}
		if ap == want {
			n++
		}
	}
	return n, sc.Err()
}

// parseProcAddr reads /proc/net/tcp's "0100007F:1F90": the address as
// 32-bit words in host byte order (little-endian here), the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	addrHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("no port")
	}
	raw, err := hex.DecodeString(addrHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address")
	}
	port, err := hex.DecodeString(portHex)
	if err != nil || len(port) != 2 {
		return netip.AddrPort{}, fmt.Errorf("bad port")
	}
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), binary.BigEndian.Uint16(port)), nil
}
