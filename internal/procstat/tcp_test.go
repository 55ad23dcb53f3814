package procstat

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestCountOpen(t *testing.T) {
	data := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0200007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0300007F:C351 08 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:1F90 0300007F:C352 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0000000000000000
   4: 0200007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 20 4 30 10 -1
`)
	// 127.0.0.1:8080: the listener (0A) and a TIME_WAIT (06) do not
	// count; the established (01) and CLOSE_WAIT (08) ones do; the client
	// end (local 127.0.0.2) is another address.
	n, err := countOpen(data, netip.MustParseAddrPort("127.0.0.1:8080"))
	if err != nil || n != 2 {
		t.Errorf("countOpen = %d, %v; want 2", n, err)
	}
}

// TestOpenConnectionsOnLoopback: a real connection is counted while the
// server holds it, and no longer once the server closed it.
func TestOpenConnectionsOnLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	local := netip.MustParseAddrPort(ln.Addr().String())
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := OpenConnections(local); err != nil || n != 1 {
		t.Fatalf("with one connection open: %d, %v", n, err)
	}
	client.Close()
	time.Sleep(20 * time.Millisecond) // the FIN arrives: CLOSE_WAIT still counts
	if n, err := OpenConnections(local); err != nil || n != 1 {
		t.Fatalf("closed by the client only: %d, %v", n, err)
	}
	server.Close()
	if n, err := OpenConnections(local); err != nil || n != 0 {
		t.Fatalf("closed by the server: %d, %v", n, err)
	}
}
