package managed

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/testenv"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// sClient runs `openssl s_client` once against m with the test PKI's
// client identity and extra arguments, its input empty (it closes after
// the handshake and what the server sends at once), and returns its
// output.
func sClient(t *testing.T, m Target, extra ...string) string {
	t.Helper()
	bin := testenv.Program(t, "openssl", "openssl")
	good, _ := testBundles(t)
	dir := t.TempDir()
	keyPEM, err := pki.EncodeKeyPEM(good.Clients[0].Key, pki.PKCS8)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"ca.pem":     pki.EncodeCertsPEM(good.Root.Cert),
		"client.pem": pki.EncodeCertsPEM(good.Clients[0].Chain...),
		"key.pem":    keyPEM,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	args := append([]string{"s_client", "-connect", m.Addr(), "-servername", m.ServerName(),
		"-CAfile", filepath.Join(dir, "ca.pem"), "-verify_return_error",
		"-cert", filepath.Join(dir, "client.pem"), "-cert_chain", filepath.Join(dir, "client.pem"), "-key", filepath.Join(dir, "key.pem")}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	// Input that ends only after a moment: s_client reads the server's
	// tickets (sent after the handshake) before it closes.
	cmd.Stdin = &slowEOF{d: 300 * time.Millisecond}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// slowEOF is an input that ends after d.
type slowEOF struct{ d time.Duration }

func (s *slowEOF) Read([]byte) (int, error) {
	time.Sleep(s.d)
	return 0, io.EOF
}

// With Config.SessionIDs every managed server that can resumes TLS 1.2
// by session ID — tickets off (none issued even to a client that asks),
// its session cache on — and its own record counts those resumptions.
// (crypto/tls cannot resume by session ID: openssl s_client is the
// client.)
func TestSessionIDResumption(t *testing.T) {
	for _, kind := range []targets.Kind{targets.KindNginx, targets.KindHAProxy, targets.KindOpenSSL, targets.KindNode} {
		t.Run(string(kind), func(t *testing.T) {
			requireServer(t, kind)
			capability, err := kindCapabilities(kind)
			if err != nil {
				t.Fatal(err)
			}
			if !capability.TLS.Has("resume by session ID") {
				t.Fatalf("%s's capabilities lack session-ID resumption", kind)
			}
			cfg := testConfig(t)
			cfg.MinVersion, cfg.MaxVersion = 0x0303, 0x0303
			cfg.SessionIDs = true
			m := testStart(t, kind, cfg)
			before := snapshot(t, m)
			sess := filepath.Join(t.TempDir(), "session.pem")
			first := sClient(t, m, "-tls1_2", "-sess_out", sess)
			if !strings.Contains(first, "New, TLSv1.2") || strings.Contains(first, "TLS session ticket:") {
				t.Fatalf("first connection: want a new TLS 1.2 session and no ticket though the client asked:\n%s", first)
			}
			const resumes = 3
			for i := range resumes {
				out := sClient(t, m, "-tls1_2", "-no_ticket", "-sess_in", sess)
				if !strings.Contains(out, "Reused, TLSv1.2") {
					t.Fatalf("connection %d did not resume by session ID:\n%s", i+2, out)
				}
			}
			client := targets.Counts{Handshakes: 1 + resumes, Resumed: resumes,
				Versions: map[string]int64{"1.2": 1 + resumes}}
			if kind != targets.KindOpenSSL {
				after, err := m.Counts(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				client.Ciphers = after.Sub(before.counts).Ciphers // s_client's pick; the version and counts are the test
			}
			checkCounts(t, m, before, client)
		})
	}
}

// Against openssl s_server with Config.EarlyData, a resumed TLS 1.3
// connection's early data is accepted, and s_server's record counts the
// connection and its bytes (the NUL bytes the engine sends), its
// handshakes and resumptions too. Tickets are single-use with early data
// (OpenSSL's anti-replay): each connection resumes the session of the one
// before.
func TestOpenSSLEarlyData(t *testing.T) {
	requireServer(t, targets.KindOpenSSL)
	cfg := testConfig(t)
	cfg.MinVersion, cfg.MaxVersion = 0x0304, 0x0304
	cfg.EarlyData = 512
	m := testStart(t, targets.KindOpenSSL, cfg)
	before := snapshot(t, m)
	dir := t.TempDir()
	early := filepath.Join(dir, "early.bin")
	if err := os.WriteFile(early, make([]byte, 512), 0o600); err != nil {
		t.Fatal(err)
	}
	sess := filepath.Join(dir, "s0.pem")
	if out := sClient(t, m, "-tls1_3", "-sess_out", sess); !strings.Contains(out, "Max Early Data: 512") {
		t.Fatalf("the session does not allow 512 bytes of early data:\n%s", out)
	}
	const resumes = 3
	for i := range resumes {
		next := filepath.Join(dir, "s"+strconv.Itoa(i+1)+".pem")
		out := sClient(t, m, "-tls1_3", "-sess_in", sess, "-sess_out", next, "-early_data", early)
		if !strings.Contains(out, "Reused, TLSv1.3") || !strings.Contains(out, "Early data was accepted") {
			t.Fatalf("connection %d: want a resumption with its early data accepted:\n%s", i+2, out)
		}
		sess = next
	}
	after, err := m.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d := after.Sub(before.counts)
	want := targets.Counts{Handshakes: 1 + resumes, Resumed: resumes, EarlyData: resumes, EarlyDataBytes: resumes * 512}
	if d.Handshakes != want.Handshakes || d.Resumed != want.Resumed || d.EarlyData != want.EarlyData || d.EarlyDataBytes != want.EarlyDataBytes {
		t.Errorf("s_server counted %+v; want %+v", d, want)
	}
}

// s_server's stdout with early data: NUL bytes are early data wherever
// they land (written past stdout's buffer, even inside its text), and the
// markers count connections.
func TestCountEarlyOutput(t *testing.T) {
	var out bytes.Buffer
	out.WriteString("ACCEPT\nNo early data received\nCIPHER is TLS_AES_128_GCM_SHA256\nSecure Renegotiation IS supported\nDONE\n")
	out.Write(make([]byte, 100))
	out.WriteString("CONNECTION CLOSED\nEarly data rec")
	out.Write(make([]byte, 28)) // a second write of the same connection's early data, inside the buffered text
	out.WriteString("eived:\n\nEnd of early data\nCIPHER is TLS_AES_128_GCM_SHA256\nReused session-id\nDONE\n")
	var c targets.Counts
	countEarlyOutput(&c, out.Bytes())
	if want := (targets.Counts{Handshakes: 2, Resumed: 1, EarlyData: 1, EarlyDataBytes: 128}); c.Handshakes != want.Handshakes || c.Resumed != want.Resumed || c.EarlyData != want.EarlyData || c.EarlyDataBytes != want.EarlyDataBytes {
		t.Errorf("counted %+v, want %+v", c, want)
	}
}

// What a target lacks it refuses in tlsparams' words: early data on nginx
// and HAProxy (which would read it as a request), session IDs and early
// data on the built-in target, psk_ke everywhere here.
func TestResumptionCapabilities(t *testing.T) {
	for _, kind := range []targets.Kind{targets.KindNginx, targets.KindHAProxy, targets.KindOpenSSL} {
		requireServer(t, kind)
		c, err := kindCapabilities(kind)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Check(targets.Config{EarlyData: 512}, 0); kind == targets.KindOpenSSL {
			if err != nil {
				t.Errorf("openssl refuses early data: %v", err)
			}
		} else if err == nil || !strings.Contains(err.Error(), "would read as the start of a request") {
			t.Errorf("%s: early data: %v", kind, err)
		}
		if c.TLS.Has("resume without (EC)DHE (psk_ke)") || !strings.Contains(c.TLS.Refuse("resume without (EC)DHE (psk_ke)", "x", "").Error(), "SSL_OP_PREFER_NO_DHE_KEX") {
			t.Errorf("%s: psk_ke capability: %+v", kind, c.TLS)
		}
	}
}

func kindCapabilities(kind targets.Kind) (targets.Capability, error) {
	p, err := programFor(kind)
	if err != nil {
		return targets.Capability{}, err
	}
	return capabilities(p)
}

// s_server in its early-data mode is still cross-checked under ordinary
// load: crypto/tls clients (which send no early data) resume TLS 1.3
// sessions, one from another CA is refused, and its record agrees.
func TestOpenSSLEarlyDataModeCounts(t *testing.T) {
	requireServer(t, targets.KindOpenSSL)
	capability, err := kindCapabilities(targets.KindOpenSSL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	cfg.EarlyData = 512
	m := testStart(t, targets.KindOpenSSL, cfg)
	c := newTestClient(t, m)
	before := snapshot(t, m)
	cache := newTicketCache()
	for i := range 5 {
		out := c.connect(c.config(0, cache, false), targets.ModeHandshake, 0, true)
		c.ok(out)
		if out.state.DidResume != (i > 0) {
			t.Fatalf("connection %d: resumed=%v", i, out.state.DidResume)
		}
	}
	c.rejected(c.connect(c.config(0, nil, true), targets.ModeHandshake, 0, false), capability)
	checkCounts(t, m, before, c.seen)
}
