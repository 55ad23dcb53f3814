package loadgen

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// fullListener is a loopback listener with an accept queue of one that
// never accepts: once the queue is full the kernel drops SYNs, so further
// connects stay pending until the client gives up.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue.
	for range 4 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return addr
}

func TestConnectTimeout(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	addr := fullListener(t)
	start := time.Now()
	res := run(t, Config{Addr: addr, TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 2, Count: 4, Timeout: 200 * time.Millisecond})
	if res.ErrorsByClass["connect_timeout"] != 4 {
		t.Fatalf("errors %v, want 4 connect_timeout; examples %v", res.ErrorsByClass, res.Examples)
	}
	if msg := res.Examples["connect_timeout"]; !strings.Contains(msg, "dial tcp "+addr) || !strings.Contains(msg, "timeout") {
		t.Errorf("example %q", msg)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("4 connects timing out after 200ms took %v", took)
	}
	if res.TotalSent != 0 || res.TotalReceived != 0 {
		t.Errorf("connections that never connected counted %d bytes sent, %d received", res.TotalSent, res.TotalReceived)
	}
}

// A run stopped while its connects hang returns promptly: the drain moves
// the pending connects' deadlines.
func TestInterruptWhileConnecting(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	addr := fullListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	res, err := Run(ctx, Config{Addr: addr, TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 3, Duration: time.Minute, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("interrupted run took %v to return", took)
	}
	if !res.Interrupted || res.OK != 0 {
		t.Fatalf("interrupted=%v ok=%d", res.Interrupted, res.OK)
	}
}

// Connections to a loopback target come from 127.0.0.2, 127.0.0.3, ...
// (A plain listener that notes where each connection comes from and hangs
// up: the handshakes fail, which does not matter here.)
func TestSourceAddresses(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			mu.Lock()
			seen[host]++
			mu.Unlock()
			c.Close()
		}
	}()
	res := run(t, Config{Addr: ln.Addr().String(), TLS: caseParams(tls.VersionTLS13), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 1, Count: 8, SourceAddrs: 4})
	ln.Close()
	<-done
	if res.Attempted != 8 || res.Load.SourceAddrs != 4 {
		t.Fatalf("attempted %d, source addrs %d", res.Attempted, res.Load.SourceAddrs)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"} {
		if seen[ip] < 2 {
			t.Errorf("source addresses seen %v, want each of 127.0.0.2-5 at least twice", seen)
			break
		}
	}
}

func TestTargetNameResolvedOnce(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	srv := startServer(t, b, serverOpts{})
	_, port, _ := net.SplitHostPort(srv.addr())
	res := run(t, Config{Addr: "localhost:" + port, TLS: caseParams(tls.VersionTLS12), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(),
		Concurrency: 1, Count: 3})
	if res.OK != 3 {
		t.Fatalf("ok %d errors %v", res.OK, res.Examples)
	}
	if _, err := Run(context.Background(), Config{Addr: "no-such-host.invalid:443", TLS: caseParams(tls.VersionTLS12), Roots: b.RootPool(), ServerName: "localhost", Identities: b.ClientCertificates(), Count: 1}); err == nil || !strings.Contains(err.Error(), "resolve") {
		t.Errorf("unresolvable target: error %v", err)
	}
}
