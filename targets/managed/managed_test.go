package managed

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/internal/testenv"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// The integration tests here run every managed server through the same
// cases with a plain crypto/tls client (not the project's load generator)
// and compare what the client saw with what the server recorded.

// requireServer ends a test when kind's server cannot run here: its
// binary is missing, or (nginx) it has no stream module, which handshake
// mode needs. testenv skips with the command that installs it, or fails
// under MTLSBENCH_REQUIRE_SERVERS=1 (as CI sets).
func requireServer(t *testing.T, kind targets.Kind) {
	t.Helper()
	if kind == targets.KindNginx {
		testenv.NginxStream(t)
	}
	p, err := programFor(kind)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lookup(p)
	var missing *targets.MissingBinaryError
	if err != nil && !errors.As(err, &missing) {
		t.Fatal(err)
	}
	hint := "apt-get install " + p.debianPackage()
	if own, ok := p.(ownInstall); ok {
		hint = own.install()
	}
	testenv.NeedServer(t, string(kind), hint, err)
}

var testPKI struct {
	once  sync.Once
	good  *pki.Bundle // with an intermediate: servers send a two-certificate chain
	other *pki.Bundle // another CA, whose client the servers must refuse
	err   error
}

func testBundles(t *testing.T) (good, other *pki.Bundle) {
	t.Helper()
	p := &testPKI
	p.once.Do(func() {
		p.good, p.err = pki.Generate(pki.Options{Intermediate: true, Name: "mtlsbench test"})
		if p.err == nil {
			p.other, p.err = pki.Generate(pki.Options{Name: "other"})
		}
	})
	if p.err != nil {
		t.Fatal(p.err)
	}
	return p.good, p.other
}

func testConfig(t *testing.T) targets.Config {
	good, _ := testBundles(t)
	return targets.Config{Identity: good.Server, ClientCAs: []*x509.Certificate{good.Root.Cert}}
}

func testStart(t *testing.T, kind targets.Kind, cfg targets.Config) Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := Start(ctx, kind, cfg)
	if err != nil {
		t.Fatalf("start %s: %v", kind, err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close %s: %v", kind, err)
		}
	})
	return m
}

// ticketCache is a client session cache that signals each ticket
// stored, so a TLS 1.3 client knows when it may close.
type ticketCache struct {
	tls.ClientSessionCache
	puts chan struct{}
}

func newTicketCache() *ticketCache {
	return &ticketCache{ClientSessionCache: tls.NewLRUClientSessionCache(16), puts: make(chan struct{}, 16)}
}

func (c *ticketCache) Put(key string, cs *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	select {
	case c.puts <- struct{}{}:
	default:
	}
}

// addHandshake counts a successful handshake as a client saw it.
func addHandshake(c *targets.Counts, r logRecord) {
	c.Handshakes++
	if r.resumed {
		c.Resumed++
	}
	if r.version != "" {
		if c.Versions == nil {
			c.Versions = map[string]int64{}
		}
		c.Versions[r.version]++
	}
	if r.cipher != "" {
		if c.Ciphers == nil {
			c.Ciphers = map[string]int64{}
		}
		c.Ciphers[r.cipher]++
	}
}

// addFailure counts a failed handshake.
func addFailure(c *targets.Counts, verify bool) {
	c.Failed++
	if verify {
		c.VerifyFailures++
	}
}

// testClient dials a target and keeps its own counts.
type testClient struct {
	t      *testing.T
	target Target
	roots  *x509.CertPool
	seen   targets.Counts
}

func newTestClient(t *testing.T, target Target) *testClient {
	good, _ := testBundles(t)
	return &testClient{t: t, target: target, roots: good.RootPool()}
}

// config is a client for version v (0: either) presenting the good client
// certificate, or the other CA's when foreign.
func (c *testClient) config(v uint16, cache tls.ClientSessionCache, foreign bool) *tls.Config {
	good, other := testBundles(c.t)
	id := good.Clients[0]
	if foreign {
		id = other.Clients[0]
	}
	cert := id.TLSCertificate()
	conf := &tls.Config{
		RootCAs:            c.roots,
		ServerName:         c.target.ServerName(),
		ClientSessionCache: cache,
		MinVersion:         tls.VersionTLS12,
		// Present the certificate whatever CA names the server asks for.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
	}
	if v != 0 {
		conf.MinVersion, conf.MaxVersion = v, v
	}
	return conf
}

type outcome struct {
	state  tls.ConnectionState
	err    error // the handshake failed or the server refused afterwards
	status []int
}

// connect makes one connection. In handshake mode with TLS 1.3 it waits
// for the server's word after the handshake: a session ticket (wantTicket),
// an alert, a close, or 300 ms of silence. In HTTP mode it sends requests
// GETs on the connection.
func (c *testClient) connect(conf *tls.Config, mode targets.Mode, requests int, wantTicket bool) outcome {
	cache, _ := conf.ClientSessionCache.(*ticketCache)
	if cache != nil {
		for len(cache.puts) > 0 {
			<-cache.puts
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: conf}
	raw, err := d.DialContext(ctx, "tcp", c.target.Addr())
	if err != nil {
		return outcome{err: err}
	}
	conn := raw.(*tls.Conn)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	out := outcome{state: conn.ConnectionState()}
	if mode == targets.ModeHTTP {
		br := bufio.NewReader(conn)
		for range requests {
			if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", conf.ServerName); err != nil {
				out.err = err
				return out
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				out.err = err
				return out
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			out.status = append(out.status, resp.StatusCode)
		}
		return out
	}
	if out.state.Version != tls.VersionTLS13 {
		return out
	}
	readErr := make(chan error, 1)
	go func() {
		var b [1]byte
		_, err := conn.Read(b[:])
		readErr <- err
	}()
	wait := 300 * time.Millisecond
	var puts chan struct{}
	if wantTicket && cache != nil {
		wait, puts = 5*time.Second, cache.puts
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-puts:
	case err := <-readErr:
		if !errors.Is(err, io.EOF) {
			out.err = err
		}
		readErr <- nil
	case <-timer.C:
	}
	conn.Close()
	<-readErr
	return out
}

// ok counts a connection the server accepted as the client saw it.
func (c *testClient) ok(out outcome) {
	c.t.Helper()
	if out.err != nil {
		c.t.Fatalf("connection failed: %v\nserver log: %s", out.err, strings.Join(c.target.ErrorLog(8), "\n  "))
	}
	for _, s := range out.status {
		if s != http.StatusOK {
			c.t.Fatalf("HTTP status %d, want 200", s)
		}
		c.seen.Requests++
	}
	addHandshake(&c.seen, logRecord{
		version: tlsparams.VersionString(out.state.Version),
		cipher:  tlsparams.SuiteName(out.state.CipherSuite),
		resumed: out.state.DidResume,
	})
}

// rejected checks a connection with a foreign client certificate: servers
// that verify during the handshake fail it (or, in TLS 1.3, refuse right
// after with an alert); nginx completes it and then closes or answers 400.
func (c *testClient) rejected(out outcome, capability targets.Capability) {
	c.t.Helper()
	addFailure(&c.seen, true)
	if capability.ClientVerifyInHandshake {
		if out.err == nil {
			c.t.Fatalf("%s accepted a client certificate from another CA", c.target.Kind())
		}
		return
	}
	for _, s := range out.status {
		if s != http.StatusBadRequest {
			c.t.Fatalf("%s answered %d to a client certificate from another CA, want 400", c.target.Kind(), s)
		}
	}
}

// mark is where a test's connections begin: the server's counts
// then, and the time.
type mark struct {
	counts targets.Counts
	at     time.Time
}

// snapshot marks the start of a test's connections. The time is
// taken before the snapshot, which takes 150 ms or more: a server's record
// may be dated a millisecond early (nginx's http{} dates a connection with
// two clocks), and before the mark there is nothing but the ready probe.
func snapshot(t *testing.T, m Target) mark {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	at := time.Now()
	c, err := m.Counts(ctx)
	if err != nil {
		t.Fatalf("counts: %v", err)
	}
	return mark{counts: c, at: at}
}

// checkCounts compares the server's record since before with the
// client's own counts: they must agree exactly. For a WindowCounter both
// ways of counting are checked: CountsBetween from before until now (which
// waits for the log to settle), then the difference of Counts snapshots.
func checkCounts(t *testing.T, m Target, before mark, client targets.Counts) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if w, ok := m.(targets.WindowCounter); ok {
		got, err := w.CountsBetween(ctx, before.at, time.Now())
		if err != nil {
			t.Fatalf("counts between: %v", err)
		}
		compareCounts(t, m.Kind(), "CountsBetween", got, client)
	}
	after, err := m.Counts(ctx)
	if err != nil {
		t.Fatalf("counts: %v", err)
	}
	compareCounts(t, m.Kind(), "Counts", after.Sub(before.counts), client)
}

func compareCounts(t *testing.T, kind targets.Kind, how string, got, client targets.Counts) {
	t.Helper()
	if got.Handshakes != client.Handshakes || got.Resumed != client.Resumed ||
		got.Failed != client.Failed || got.VerifyFailures != client.VerifyFailures {
		t.Errorf("%s (%s) counted handshakes=%d resumed=%d failed=%d verify_failures=%d; the client saw %d, %d, %d, %d",
			kind, how, got.Handshakes, got.Resumed, got.Failed, got.VerifyFailures,
			client.Handshakes, client.Resumed, client.Failed, client.VerifyFailures)
	}
	if kind != targets.KindOpenSSL { // s_server keeps no per-version or per-cipher counts
		if !maps.Equal(got.Versions, client.Versions) {
			t.Errorf("%s (%s) counted versions %v; the client saw %v", kind, how, got.Versions, client.Versions)
		}
		if !maps.Equal(got.Ciphers, client.Ciphers) {
			t.Errorf("%s (%s) counted ciphers %v; the client saw %v", kind, how, got.Ciphers, client.Ciphers)
		}
		if got.Requests != client.Requests {
			t.Errorf("%s (%s) counted %d requests; the client made %d", kind, how, got.Requests, client.Requests)
		}
	}
}

// integration runs every case against one kind of server.
func integration(t *testing.T, kind targets.Kind) {
	requireServer(t, kind)
	capability, err := targets.Capabilities(kind)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s, %s", kind, capability.Version, capability.TLS.Library)

	t.Run("FullAndResumed", func(t *testing.T) {
		m := testStart(t, kind, testConfig(t))
		c := newTestClient(t, m)
		before := snapshot(t, m)
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			cache := newTicketCache()
			for i := range 4 {
				out := c.connect(c.config(v, cache, false), targets.ModeHandshake, 0, true)
				c.ok(out)
				if out.state.Version != v || out.state.DidResume != (i > 0) {
					t.Fatalf("connection %d: version %s resumed=%v, want %s resumed=%v", i,
						tlsparams.VersionString(out.state.Version), out.state.DidResume, tlsparams.VersionString(v), i > 0)
				}
			}
			c.rejected(c.connect(c.config(v, nil, true), targets.ModeHandshake, 0, false), capability)
		}
		checkCounts(t, m, before, c.seen)
	})

	t.Run("TLS13ChaCha20", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
		cfg.CipherSuitesTLS13 = []uint16{tls.TLS_CHACHA20_POLY1305_SHA256}
		m := testStart(t, kind, cfg)
		c := newTestClient(t, m)
		before := snapshot(t, m)
		cache := newTicketCache()
		for range 3 {
			out := c.connect(c.config(0, cache, false), targets.ModeHandshake, 0, true)
			c.ok(out)
			if out.state.CipherSuite != tls.TLS_CHACHA20_POLY1305_SHA256 {
				t.Fatalf("negotiated %s, want TLS_CHACHA20_POLY1305_SHA256", tls.CipherSuiteName(out.state.CipherSuite))
			}
		}
		checkCounts(t, m, before, c.seen)
	})

	t.Run("TLS12SuiteAndGroup", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.MaxVersion = tls.VersionTLS12
		cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		cfg.Groups = []tls.CurveID{tls.CurveP384}
		m := testStart(t, kind, cfg)
		c := newTestClient(t, m)
		before := snapshot(t, m)
		for range 2 {
			out := c.connect(c.config(0, nil, false), targets.ModeHandshake, 0, false)
			c.ok(out)
			if out.state.Version != tls.VersionTLS12 || out.state.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 || out.state.CurveID != tls.CurveP384 {
				t.Fatalf("negotiated %s %s %s, want TLS 1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, P-384",
					tls.VersionName(out.state.Version), tls.CipherSuiteName(out.state.CipherSuite), out.state.CurveID)
			}
		}
		checkCounts(t, m, before, c.seen)
	})

	t.Run("NoTickets", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.DisableTickets = true
		m := testStart(t, kind, cfg)
		c := newTestClient(t, m)
		before := snapshot(t, m)
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			cache := newTicketCache()
			for range 2 {
				out := c.connect(c.config(v, cache, false), targets.ModeHandshake, 0, false)
				c.ok(out)
				if out.state.DidResume {
					t.Fatalf("TLS %s resumed with tickets and the session cache off", tlsparams.VersionString(v))
				}
			}
		}
		checkCounts(t, m, before, c.seen)
	})

	t.Run("HTTP", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Mode = targets.ModeHTTP
		m := testStart(t, kind, cfg)
		c := newTestClient(t, m)
		before := snapshot(t, m)
		requests := 3
		if capability.MaxRequestsPerConn > 0 {
			requests = capability.MaxRequestsPerConn
		}
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			cache := newTicketCache()
			for i := range 2 {
				out := c.connect(c.config(v, cache, false), targets.ModeHTTP, requests, false)
				c.ok(out)
				if out.state.DidResume != (i > 0) {
					t.Fatalf("TLS %s connection %d resumed=%v", tlsparams.VersionString(v), i, out.state.DidResume)
				}
			}
			c.rejected(c.connect(c.config(v, nil, true), targets.ModeHTTP, 1, false), capability)
		}
		checkCounts(t, m, before, c.seen)
	})

	t.Run("ConcurrentLoad", func(t *testing.T) {
		// Several clients at once, as under load: workers (or threads)
		// write the log concurrently, and the count right after the last
		// close must still hold every connection.
		m := testStart(t, kind, testConfig(t))
		before := snapshot(t, m)
		cpuBefore, err := procstat.TreeCPU(m.PIDs()[0])
		if err != nil {
			t.Fatal(err)
		}
		const clients, perClient = 4, 40
		seen := make([]targets.Counts, clients)
		errs := make(chan error, clients)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := newTestClient(t, m)
				cache := newTicketCache()
				v := []uint16{tls.VersionTLS12, tls.VersionTLS13}[i%2]
				for range perClient {
					out := c.connect(c.config(v, cache, false), targets.ModeHandshake, 0, true)
					if out.err != nil {
						errs <- out.err
						return
					}
					addHandshake(&c.seen, logRecord{version: tlsparams.VersionString(out.state.Version),
						cipher: tlsparams.SuiteName(out.state.CipherSuite), resumed: out.state.DidResume})
				}
				seen[i] = c.seen
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("connection failed: %v", err)
		}
		var total targets.Counts
		for _, s := range seen {
			total.Handshakes += s.Handshakes
			total.Resumed += s.Resumed
			for k, v := range s.Versions {
				addCount(&total.Versions, k, v)
			}
			for k, v := range s.Ciphers {
				addCount(&total.Ciphers, k, v)
			}
		}
		if total.Resumed < clients*(perClient-1) {
			t.Errorf("only %d of %d handshakes resumed", total.Resumed, total.Handshakes)
		}
		checkCounts(t, m, before, total)
		cpuAfter, err := procstat.TreeCPU(m.PIDs()[0])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d handshakes, server CPU %s (its whole process tree)", kind, total.Handshakes, cpuAfter-cpuBefore)
		if cpuAfter <= cpuBefore {
			t.Errorf("the server's process tree used no CPU for %d handshakes: PIDs() does not lead to the workers", total.Handshakes)
		}
	})

	t.Run("PinnedAndClosed", func(t *testing.T) {
		cpu := lastCPU(t)
		cfg := testConfig(t)
		cfg.CPUs = cpu
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m, err := Start(ctx, kind, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if m.Config().Workers != 1 {
			t.Errorf("Workers = %d, want 1 (one per CPU in %q)", m.Config().Workers, cpu)
		}
		pids, err := procstat.Tree(m.PIDs()[0])
		if err != nil {
			m.Close()
			t.Fatal(err)
		}
		wantProcs := 1
		if kind == targets.KindNginx {
			wantProcs = 2 // master and one worker
		}
		if len(pids) != wantProcs {
			t.Errorf("%d processes %v, want %d", len(pids), pids, wantProcs)
		}
		for _, pid := range pids {
			if got, err := cpuset.Of(pid); err != nil || got != cpu {
				t.Errorf("process %d runs on CPUs %q (%v), want %q", pid, got, err, cpu)
			}
		}
		dir := baseServer(t, m).dir
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		for _, pid := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				t.Errorf("process %d is still there after Close", pid)
			}
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s is still there after Close", dir)
		}
		if _, err := m.Counts(ctx); !errors.Is(err, errClosed) {
			t.Errorf("Counts after Close: %v, want an error saying it is closed", err)
		}
	})

	t.Run("PortTakenQuotesLog", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		cfg := testConfig(t)
		cfg.Listen = l.Addr().String()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m, err := Start(ctx, kind, cfg)
		if err == nil {
			m.Close()
			t.Fatalf("%s started on a port another socket holds", kind)
		}
		var se *ServerError
		if !errors.As(err, &se) || !se.portInUse() {
			t.Fatalf("error %v; want a *ServerError quoting the server's 'Address already in use'", err)
		}
		t.Logf("the error reads: %v", err)
	})
}

// baseServer is the *Server under a Target, for a test that looks
// inside.
func baseServer(t *testing.T, m Target) *Server {
	t.Helper()
	switch m := m.(type) {
	case *Server:
		return m
	case *LoggedServer:
		return m.Server
	}
	t.Fatalf("%T is not a managed target", m)
	return nil
}

// lastCPU is the highest CPU this test may run on, as a CPU list.
func lastCPU(t *testing.T) string {
	cpus, err := cpuset.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) == 0 {
		t.Fatal("this process may run on no CPU")
	}
	return strconv.Itoa(cpus[len(cpus)-1])
}
