package bench

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/targets/builtin"
)

const childArg = "mtlsbench-bench-child"

// The test binary doubles as the built-in target's child process, as the
// mtlsbench binary does with "serve --child".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		if err := builtin.RunChild(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childCommand() []string { return []string{os.Args[0], childArg} }

// expand loads a library scenario with short windows for tests.
func expand(t *testing.T, name string, window time.Duration, edit func(*scenarios.Spec)) []scenarios.Case {
	t.Helper()
	spec, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	spec.Load.Duration = scenarios.Duration(window)
	spec.Load.Warmup = scenarios.Duration(150 * time.Millisecond)
	spec.Load.Concurrency = 2
	if edit != nil {
		edit(spec)
	}
	cases, _, err := scenarios.Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

func runCases(t *testing.T, ctx context.Context, cases []scenarios.Case) *results.Run {
	t.Helper()
	run, err := Run(ctx, Options{Cases: cases, ChildCommand: childCommand()})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// children lists live processes this test started as built-in targets.
func children(t *testing.T) []int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), childArg) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			f := strings.Fields(string(stat)[i+1:])
			if len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(os.Getpid()) {
				out = append(out, pid)
			}
		}
	}
	return out
}

// The default run, end to end: four cases against the built-in target as a
// child process, every check passing, both sides' CPU and counts recorded.
func TestQuickScenario(t *testing.T) {
	run := runCases(t, context.Background(), expand(t, "quick", 500*time.Millisecond, nil))
	if len(run.Cases) != 4 || run.Interrupted {
		t.Fatalf("%d cases, interrupted=%v", len(run.Cases), run.Interrupted)
	}
	for _, c := range run.Cases {
		if c.Status != results.StatusOK {
			t.Errorf("%s: %s: %s %v", c.Name, c.Status, c.Failure, c.ErrorExamples)
			continue
		}
		if c.Counts.OK == 0 || c.Counts.Errors != 0 || c.Latency.Handshake == nil || c.Latency.Handshake.Count != c.Counts.OK {
			t.Errorf("%s: counts %+v, handshake latency %+v", c.Name, c.Counts, c.Latency.Handshake)
		}
		if !c.CPU.TargetMeasured || c.CPU.TargetUsPerHandshake <= 0 || c.CPU.ClientUsPerHandshake <= 0 {
			t.Errorf("%s: CPU %+v", c.Name, c.CPU)
		}
		if c.TargetCounts == nil || c.TargetCounts.Handshakes == 0 {
			t.Errorf("%s: target counts %+v", c.Name, c.TargetCounts)
		}
		if strings.Contains(c.Name, "resumed") && float64(c.Counts.Resumed) < 0.99*float64(c.Counts.OK) {
			t.Errorf("%s: %d of %d resumed", c.Name, c.Counts.Resumed, c.Counts.OK)
		}
		if len(c.Negotiated) == 0 || c.Negotiated[0].TLSVersion != c.Params.TLSVersion || c.Negotiated[0].Group != "x25519" {
			t.Errorf("%s: negotiated %+v", c.Name, c.Negotiated)
		}
	}
	if left := children(t); len(left) > 0 {
		t.Errorf("built-in target processes left running: %v", left)
	}
}

// Every key type is measured with a certificate of that type, verified
// from the certificate the server presented, not assumed.
func TestKeyTypesScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA-4096 keys")
	}
	run := runCases(t, context.Background(), expand(t, "key-types", 200*time.Millisecond, nil))
	if len(run.Cases) != len(pki.KeyTypes()) {
		t.Fatalf("%d cases, want one per key type (%d)", len(run.Cases), len(pki.KeyTypes()))
	}
	seen := map[string]bool{}
	for _, c := range run.Cases {
		if c.Status != results.StatusOK {
			t.Errorf("%s: %s: %s", c.Name, c.Status, c.Failure)
			continue
		}
		for _, n := range c.Negotiated {
			if n.ServerKeyType != c.Params.KeyType {
				t.Errorf("%s: the server presented %s, the case asks for %s", c.Name, n.ServerKeyType, c.Params.KeyType)
			}
		}
		seen[c.Params.KeyType] = true
	}
	for _, kt := range pki.KeyTypes() {
		if !seen[string(kt)] {
			t.Errorf("no case measured %s", kt)
		}
	}
}

// A client certificate the server does not trust fails every handshake —
// in TLS 1.3 too, where the client's own handshake completes first — and
// the case fails naming the class.
func TestRejectedClientCertificateFailsTheCase(t *testing.T) {
	server, dir := strangerPKI(t)
	b, err := builtin.New(targets.Config{Identity: server.Server, ClientCAs: []*x509.Certificate{server.Root.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := runStranger(t, b.Addr(), dir)
	if c.Status != results.StatusFailed || c.Counts.OK != 0 || c.Errors["unknown_ca"] == 0 {
		t.Fatalf("status %s, ok %d, errors %v: want a failed case of unknown_ca", c.Status, c.Counts.OK, c.Errors)
	}
	if !strings.Contains(c.Failure, "unknown_ca") {
		t.Errorf("failure %q does not name the class", c.Failure)
	}
}

// strangerPKI makes a server's PKI and, in dir, the files of a client from
// another CA (with the server's CA to verify it by).
func strangerPKI(t *testing.T) (*pki.Bundle, string) {
	t.Helper()
	server, err := pki.Generate(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := pki.Generate(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := stranger.Save(dir, pki.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server-ca.pem"), pki.EncodeCertsPEM(server.Root.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
	return server, dir
}

// runStranger runs one TLS 1.3 full case against addr as the stranger
// client of strangerPKI.
func runStranger(t *testing.T, addr, dir string) results.Case {
	t.Helper()
	cases := expand(t, "quick", 300*time.Millisecond, func(s *scenarios.Spec) {
		s.Target = scenarios.TargetSpec{Kind: "external", Addr: addr, ServerName: "localhost",
			CA: filepath.Join(dir, "server-ca.pem"), Cert: filepath.Join(dir, pki.ClientCertFile(1)), Key: filepath.Join(dir, pki.ClientKeyFile(1))}
		s.Matrix.TLS = []string{"1.3"}
		s.Matrix.Resume = []string{"none"}
		s.Matrix.ServerKey, s.Matrix.ClientKey = nil, nil
	})
	return runCases(t, context.Background(), cases).Cases[0]
}

// What the client stack or the target cannot do is refused before any
// load, in the capabilities' one wording (tlsparams.Check), naming the
// case.
func TestRefusedBeforeLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*scenarios.Spec)
		want string
	}{
		{"TLS 1.3 suite on the built-in target", func(s *scenarios.Spec) {
			s.Matrix.TLS, s.Matrix.Cipher = []string{"1.3"}, []string{"TLS_CHACHA20_POLY1305_SHA256"}
		}, "tlsparams: the go client and the builtin target cannot pin TLS 1.3 suite TLS_CHACHA20_POLY1305_SHA256"},
		{"key share the Go client sends second", func(s *scenarios.Spec) {
			s.Matrix.TLS, s.Matrix.Group, s.Matrix.KeyShare = []string{"1.3"}, []string{"x25519"}, []string{"p256"}
		}, "swap them (group: p256, key_share: x25519)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := scenarios.Load("quick")
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(spec)
			cases, _, err := scenarios.Expand(*spec)
			if err != nil {
				t.Fatalf("expand: %v", err)
			}
			start := time.Now()
			_, err = Run(context.Background(), Options{Cases: cases, ChildCommand: childCommand()})
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "case "+cases[0].Name) {
				t.Fatalf("error %v, want an InputError naming case %s with %q", err, cases[0].Name, tc.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("refusal took %v: load ran before it?", time.Since(start))
			}
		})
	}
}

// An interrupt ends the run with a partial result marked interrupted and
// no child target left running.
func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(700*time.Millisecond, cancel)
	start := time.Now()
	run := runCases(t, ctx, expand(t, "quick", 5*time.Second, nil))
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("interrupted run took %v", took)
	}
	if !run.Interrupted || len(run.Cases) != 1 || run.Cases[0].Status != results.StatusInterrupted {
		t.Fatalf("interrupted=%v cases=%d", run.Interrupted, len(run.Cases))
	}
	if run.Cases[0].Counts.OK == 0 {
		t.Error("the partial case has no handshakes")
	}
	if left := children(t); len(left) > 0 {
		t.Errorf("built-in target processes left running after the interrupt: %v", left)
	}
}

func TestCrosscheck(t *testing.T) {
	tests := []struct {
		name             string
		client           results.Counts
		errors           map[string]int64
		target           results.TargetCounts
		slack            int64
		wantFailed       bool
		wantInFailureMsg string
	}{
		// Exact agreement passes.
		{"agree", results.Counts{OK: 1000, Resumed: 900}, nil, results.TargetCounts{Handshakes: 1000, Resumed: 900}, 0, false, ""},
		// 1% plus the edge slack is tolerated.
		{"within 1% plus slack", results.Counts{OK: 1000}, nil, results.TargetCounts{Handshakes: 1014}, 4, false, ""},
		{"beyond tolerance", results.Counts{OK: 1000}, nil, results.TargetCounts{Handshakes: 1020}, 4, true, "counted 1020 handshakes"},
		// Handshakes the client refused after the server completed them
		// (parameters) count on the server's side too.
		{"mismatches count as server handshakes", results.Counts{OK: 900}, map[string]int64{"param_mismatch": 100}, results.TargetCounts{Handshakes: 1000}, 0, false, ""},
		{"resumptions disagree", results.Counts{OK: 1000, Resumed: 990}, nil, results.TargetCounts{Handshakes: 1000, Resumed: 500}, 2, true, "resumptions"},
		// The server rejected certificates the client believed accepted.
		{"hidden verify failures", results.Counts{OK: 1000}, nil, results.TargetCounts{Handshakes: 1000, VerifyFailures: 50}, 2, true, "rejected 50 client certificates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &results.Case{Status: results.StatusOK, Counts: tc.client, Errors: tc.errors}
			if c.Errors == nil {
				c.Errors = map[string]int64{}
			}
			tc.target.Source = "test"
			crosscheck(c, &tc.target, tc.slack)
			if failed := c.Status == results.StatusCrosscheckFailed; failed != tc.wantFailed || !strings.Contains(c.Failure, tc.wantInFailureMsg) {
				t.Errorf("status %s failure %q", c.Status, c.Failure)
			}
		})
	}
}

// TestFailedCaseKeepsItsParameters: a case that could not start records
// the same parameters as one that ran (the two builders once diverged, and
// a failed case lost its hold and handshake delay).
func TestFailedCaseKeepsItsParameters(t *testing.T) {
	spec, err := scenarios.Load("quick")
	if err != nil {
		t.Fatal(err)
	}
	spec.Load.Hold = scenarios.Duration(2 * time.Second)
	spec.Load.Rate = 100
	spec.Load.Duration = scenarios.Duration(time.Second)
	spec.Target.HandshakeDelay = scenarios.Duration(3 * time.Millisecond)
	cases, _, err := scenarios.Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	c := &cases[0]
	failed := failedCase(c, 0, errors.New("target did not start"))
	if failed.Params != caseParams(c) {
		t.Errorf("failed case params %+v, want %+v", failed.Params, caseParams(c))
	}
	p := failed.Params
	if p.HoldS != 2 || p.HandshakeDelayMS != 3 || p.Rate != 100 || p.Concurrency != 0 {
		t.Errorf("params %+v: want hold 2 s, delay 3 ms, rate 100 and no concurrency (open loop)", p)
	}
}
