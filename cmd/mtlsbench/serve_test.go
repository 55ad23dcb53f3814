package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// serveTestOutput is a buffer the serve command writes to while the test
// reads it.
type serveTestOutput struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (o *serveTestOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *serveTestOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

var serveTestAddr = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// startServeCommand runs 'mtlsbench serve args...' in-process and returns
// its address, a stop function returning the exit code, and its output.
func startServeCommand(t *testing.T, args ...string) (addr string, stop func() int, out *serveTestOutput) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &serveTestOutput{}
	env := &cliEnv{stdout: out, stderr: out}
	code := make(chan int, 1)
	go func() { code <- runCLI(ctx, env, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := serveTestAddr.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited with %d before listening:\n%s", c, out.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	var once sync.Once
	var exit int
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case exit = <-code:
			case <-time.After(60 * time.Second):
				t.Fatal("serve did not stop after its context was cancelled")
			}
		})
		return exit
	}
	t.Cleanup(func() { stop() })
	return addr, stop, out
}

func serveTestHandshake(t *testing.T, addr string, b *pki.Bundle) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{
		RootCAs:      b.RootPool(),
		Certificates: b.ClientCertificates(),
		ServerName:   "localhost",
	})
	if err != nil {
		t.Fatalf("handshake with serve: %v", err)
	}
	conn.Close()
}

func TestServeGeneratedPKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	addr, stop, out := startServeCommand(t, "--pki-out", dir, "--key-type", "ed25519", "--tls", "1.2")
	b, err := pki.LoadDir(dir)
	if err != nil {
		t.Fatalf("the PKI serve wrote: %v\n%s", err, out.String())
	}
	if b.Server.KeyType() != pki.Ed25519 {
		t.Errorf("generated server key %s, want ed25519", b.Server.KeyType())
	}
	// In TLS 1.2 the server's handshake ends before the client's (the
	// server's Finished is the last message), so it is counted by the time
	// Close has waited for the connection.
	serveTestHandshake(t, addr, b)
	if code := stop(); code != exitOK {
		t.Fatalf("exit code %d after Ctrl-C, want 0:\n%s", code, out.String())
	}
	for _, want := range []string{"PKI: " + dir, "TLS 1.2,", "client-1.pem", "handshakes 1 (resumed 0), failed 0", "TLS versions: 1.2 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestServeLoadsPKI(t *testing.T) {
	dir := t.TempDir()
	b, err := pki.Generate(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(dir, pki.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Run("--pki", func(t *testing.T) {
		addr, _, _ := startServeCommand(t, "--pki", dir, "--mode", "http")
		serveTestHandshake(t, addr, b)
	})
	t.Run("--cert --key --ca", func(t *testing.T) {
		addr, _, _ := startServeCommand(t,
			"--cert", filepath.Join(dir, pki.ServerCertFile),
			"--key", filepath.Join(dir, pki.ServerKeyFile),
			"--ca", filepath.Join(dir, pki.RootCertFile))
		serveTestHandshake(t, addr, b)
	})
}

func TestServeTemporaryPKIIsRemoved(t *testing.T) {
	_, stop, out := startServeCommand(t)
	m := regexp.MustCompile(`PKI: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no PKI directory printed:\n%s", out.String())
	}
	if _, err := pki.LoadDir(m[1]); err != nil {
		t.Fatalf("the printed PKI directory: %v", err)
	}
	stop()
	if _, err := pki.LoadDir(m[1]); err == nil {
		t.Fatal("the temporary PKI directory survived serve")
	}
}

func TestServeBadUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "echo"}, `--mode "echo"`},
		{[]string{"--tls", "1.1"}, `"1.1"`},
		{[]string{"--ciphers", "TLS_AES_128_GCM_SHA256"}, "the builtin target cannot pin TLS 1.3 suite TLS_AES_128_GCM_SHA256"},
		{[]string{"--ciphers", "RC4"}, `unknown cipher suite "RC4"`},
		{[]string{"--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"}, "can be used with the server's ecdsa-p256 key"},
		{[]string{"--groups", "x448"}, `unknown group "x448"`},
		{[]string{"--key-type", "rsa1024"}, `unknown key type "rsa1024"`},
		{[]string{"--cert", "a.pem"}, "--cert, --key and --ca go together"},
		{[]string{"--pki", dir, "--cert", "a", "--key", "b", "--ca", "c"}, "not both"},
		{[]string{"--pki", dir, "--key-type", "rsa2048"}, "apply to a generated PKI"},
		{[]string{"--cpus", "9999"}, "9999"},
		{[]string{"--handshake-delay", "-1s"}, "out of range: 0 to 1m0s"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--no-such-flag"}, "no-such-flag"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := runCLI(context.Background(), &cliEnv{stdout: &out, stderr: &out}, append([]string{"serve"}, tc.args...))
			if code != exitUsage || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d and %q", code, out.String(), exitUsage, tc.want)
			}
		})
	}
}
