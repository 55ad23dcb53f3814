package builtin

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// runChildInProcess runs RunChild on pipes; the test talks to it through
// the returned writer and reader. done yields RunChild's result.
func runChildInProcess(t *testing.T, ctx context.Context) (stdin io.WriteCloser, stdout *bufio.Reader, done <-chan error) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := RunChild(ctx, inR, outW)
		outW.Close()
		errc <- err
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return inW, bufio.NewReader(outR), errc
}

func readJSONLine(t *testing.T, r *bufio.Reader, v any) {
	t.Helper()
	line, err := r.ReadBytes('\n')
	if err != nil {
		t.Fatalf("reading a line from the child: %v", err)
	}
	if err := json.Unmarshal(line, v); err != nil {
		t.Fatalf("child line %q: %v", line, err)
	}
}

func waitChild(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("RunChild did not return")
		return nil
	}
}

func TestRunChildProtocol(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg, err := withDefaults(testConfig(b))
	if err != nil {
		t.Fatal(err)
	}
	line, err := encodeChildConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in, out, done := runChildInProcess(t, context.Background())
	in.Write(line)
	var ready childReady
	readJSONLine(t, out, &ready)
	if ready.Error != "" || ready.Addr == "" || ready.PID != os.Getpid() {
		t.Fatalf("ready line %+v, want an address and this process's PID", ready)
	}
	if _, err := dial(t, ready.Addr, clientConfig(b, tls.VersionTLS12, nil)); err != nil {
		t.Fatal(err)
	}
	var counts childCounts
	for deadline := time.Now().Add(20 * time.Second); counts.Handshakes == 0; {
		io.WriteString(in, "counts\n")
		readJSONLine(t, out, &counts)
		if time.Now().After(deadline) {
			t.Fatalf("counts stayed %+v", counts)
		}
	}
	if counts.Error != "" || counts.Versions["1.2"] != 1 {
		t.Fatalf("counts %+v", counts)
	}
	io.WriteString(in, "hello\n")
	readJSONLine(t, out, &counts)
	if !strings.Contains(counts.Error, `unknown request "hello"`) {
		t.Fatalf("answer to an unknown request: %+v", counts)
	}
	in.Close()
	if err := waitChild(t, done); err != nil {
		t.Fatalf("RunChild after stdin EOF: %v", err)
	}
	if _, err := dial(t, ready.Addr, clientConfig(b, 0, nil)); err == nil {
		t.Fatal("the server still accepts after RunChild returned")
	}
}

func TestRunChildContextEndsIt(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	cfg, _ := withDefaults(testConfig(b))
	line, _ := encodeChildConfig(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	in, out, done := runChildInProcess(t, ctx)
	in.Write(line)
	var ready childReady
	readJSONLine(t, out, &ready)
	cancel()
	if err := waitChild(t, done); err != nil {
		t.Fatalf("RunChild after cancel: %v", err)
	}
}

func TestRunChildReportsBadConfig(t *testing.T) {
	for _, tc := range []struct{ name, line, want string }{
		{"not JSON", "{nope\n", "malformed config line"},
		{"unknown field", `{"listen":"127.0.0.1:0","colour":"red"}` + "\n", "malformed config line"},
		{"no certificate", `{"listen":"127.0.0.1:0"}` + "\n", "no PEM CERTIFICATE block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out, done := runChildInProcess(t, context.Background())
			io.WriteString(in, tc.line)
			var ready childReady
			readJSONLine(t, out, &ready)
			if !strings.Contains(ready.Error, tc.want) {
				t.Fatalf("ready line %+v, want an error containing %q", ready, tc.want)
			}
			if err := waitChild(t, done); err == nil {
				t.Fatal("RunChild returned nil after a bad config")
			}
		})
	}
}

func TestChildConfigRoundTrip(t *testing.T) {
	b, err := pki.Generate(pki.Options{ServerKeyType: pki.Ed25519, Intermediate: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := withDefaults(targets.Config{
		Identity:         b.Server,
		ClientCAs:        append(testConfig(b).ClientCAs, b.Intermediate.Cert),
		MinVersion:       tls.VersionTLS13,
		CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		Groups:           []tls.CurveID{tls.X25519MLKEM768, tls.X25519},
		DisableTickets:   true,
		Mode:             targets.ModeHTTP,
		HandshakeDelay:   time.Millisecond,
		HandshakeTimeout: 3 * time.Second,
		Workers:          2,
		CPUs:             "0",
		Auth:             tlsparams.AuthServer,
	})
	if err != nil {
		t.Fatal(err)
	}
	line, err := encodeChildConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeChildConfig(line)
	if err != nil {
		t.Fatal(err)
	}
	want := cfg
	want.CPUs = "" // the parent pins; the child is not told
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}
