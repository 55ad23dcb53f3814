package loadgen

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// testServer is a small mTLS server for the engine's tests: crypto/tls with
// RequireAndVerifyClientCert, reading until the client closes, or answering
// HTTP/1.1 requests. It counts what it saw, and can stall on purpose.
type testServer struct {
	ln         net.Listener
	cfg        *tls.Config
	http       bool
	plain      bool
	handshakes atomic.Int64
	resumed    atomic.Int64
	failed     atomic.Int64
	dropped    atomic.Int64
	stalled    atomic.Pointer[chan struct{}]
	drop       func(n int64) bool
	dropAfter  time.Duration
	wg         sync.WaitGroup
	mu         sync.Mutex // guards conns
	conns      map[net.Conn]bool
}

type serverOpts struct {
	min, max       uint16
	groups         []tls.CurveID
	clientCAs      *x509.CertPool // default: the bundle's root
	http           bool
	disableTickets bool
	// verify, if set, sees every client certificate chain (set before the
	// server starts: a later write would race with its handshakes).
	verify func(rawCerts [][]byte, chains [][]*x509.Certificate) error
	// drop, if set, closes dropAfter after its handshake every
	// connection for which it returns true (n numbers the handshakes
	// from 1), as a server dropping idle connections does.
	drop      func(n int64) bool
	dropAfter time.Duration
	// noClientCert makes it one-way TLS (no CertificateRequest); plain
	// serves plain TCP, no TLS at all.
	noClientCert, plain bool
}

func startServer(t testing.TB, b *pki.Bundle, o serverOpts) *testServer {
	t.Helper()
	cas := o.clientCAs
	if cas == nil {
		cas = b.RootPool()
	}
	s := &testServer{http: o.http, plain: o.plain, conns: map[net.Conn]bool{}, drop: o.drop, dropAfter: o.dropAfter}
	s.cfg = &tls.Config{
		Certificates:           []tls.Certificate{b.Server.TLSCertificate()},
		ClientAuth:             tls.RequireAndVerifyClientCert,
		ClientCAs:              cas,
		MinVersion:             o.min,
		MaxVersion:             o.max,
		CurvePreferences:       o.groups,
		SessionTicketsDisabled: o.disableTickets,
		VerifyPeerCertificate:  o.verify,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			if ch := s.stalled.Load(); ch != nil {
				<-*ch
			}
			return nil, nil
		},
	}
	if o.noClientCert {
		s.cfg.ClientAuth = tls.NoClientCert
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Go(s.serve)
	t.Cleanup(s.close)
	return s
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

// stall holds every handshake after its ClientHello until the returned
// function is called.
func (s *testServer) stall() (resume func()) {
	ch := make(chan struct{})
	s.stalled.Store(&ch)
	return func() { s.stalled.Store(nil); close(ch) }
}

func (s *testServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			var tc net.Conn = c
			if !s.plain {
				t := tls.Server(c, s.cfg)
				if err := t.Handshake(); err != nil {
					s.failed.Add(1)
					return
				}
				if t.ConnectionState().DidResume {
					s.resumed.Add(1)
				}
				tc = t
			}
			n := s.handshakes.Add(1)
			if s.drop != nil && s.drop(n) {
				time.Sleep(s.dropAfter)
				s.dropped.Add(1)
				return
			}
			if !s.http {
				io.Copy(io.Discard, tc)
				return
			}
			br := bufio.NewReader(tc)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimSpace(line) == "" {
					io.WriteString(tc, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
				}
			}
		})
	}
}

func (s *testServer) close() {
	s.ln.Close()
	if ch := s.stalled.Load(); ch != nil {
		s.stalled.Store(nil)
		close(*ch)
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// caseParams is what a case asks for: TLS version v and, when given, its
// group (one group), or its key share then its group (two).
func caseParams(v uint16, groups ...tls.CurveID) tlsparams.Params {
	p := tlsparams.Params{Version: tlsparams.Version(v)}
	if len(groups) > 0 {
		p.Group, _ = tlsparams.GroupByID(groups[len(groups)-1])
		p.KeyShare, _ = tlsparams.GroupByID(groups[0])
	}
	return p
}

func withResume(p tlsparams.Params, r tlsparams.Resume) tlsparams.Params {
	p.Resume = r
	return p
}

func withServerKey(p tlsparams.Params, k pki.KeyType) tlsparams.Params {
	p.ServerKey = k
	return p
}

// bareClientConfig is the crypto/tls configuration of the bare loop for a
// case against b.
func bareClientConfig(b *pki.Bundle, version uint16, groups ...tls.CurveID) *tls.Config {
	return &tls.Config{
		RootCAs:          b.RootPool(),
		ServerName:       "localhost",
		MinVersion:       version,
		MaxVersion:       version,
		CurvePreferences: groups,
	}
}
