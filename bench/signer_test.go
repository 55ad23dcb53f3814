package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/osslsign"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// TestClientSignerParams: load.client_signer reaches the engine, and a
// mutual case of the Go client records client_signer openssl; one-way TLS
// (no client signature), the openssl client (which signs with OpenSSL
// anyway) and the default record nothing.
func TestClientSignerParams(t *testing.T) {
	for _, signer := range []string{"", "go", "openssl"} {
		cases := expand(t, "quick", time.Second, func(s *scenarios.Spec) {
			s.Load.ClientSigner = signer
			s.Matrix.TLS, s.Matrix.Resume, s.Matrix.Auth = []string{"1.3"}, []string{"none"}, []string{"mutual", "server"}
		})
		for i := range cases {
			c := &cases[i]
			want := ""
			if signer == "openssl" && c.Auth.Mutual() {
				want = "openssl"
			}
			if got := caseParams(c).ClientSigner; got != want {
				t.Errorf("signer %q, %s: client_signer %q, want %q", signer, c.Name, got, want)
			}
			c.Params.Client = tlsparams.ClientOpenSSL
			if got := caseParams(c).ClientSigner; got != "" {
				t.Errorf("signer %q, %s with the openssl client: client_signer %q, want none", signer, c.Name, got)
			}
			if got := loadModel(c).Signer; string(got) != signer {
				t.Errorf("signer %q, %s: the engine's Signer is %q", signer, c.Name, got)
			}
		}
	}
}

// TestClientSignerOpenSSLRun: a mutual RSA case with client_signer
// openssl runs against the built-in target, every handshake's client
// signature made by OpenSSL and verified by the server, and the result
// says so; a build without OpenSSL refuses it before any load, saying how
// to get it.
func TestClientSignerOpenSSLRun(t *testing.T) {
	cases := expand(t, "quick", 300*time.Millisecond, func(s *scenarios.Spec) {
		s.Load.ClientSigner = "openssl"
		s.Target.InProcess = true
		s.Matrix.TLS, s.Matrix.Resume = []string{"1.3"}, []string{"none"}
		s.Matrix.ServerKey, s.Matrix.ClientKey = []string{"ecdsa-p256"}, []string{"rsa2048"}
	})
	if !osslsign.Available {
		_, err := Run(context.Background(), Options{Cases: cases, ChildCommand: childCommand()})
		if _, ok := err.(*InputError); !ok || !strings.Contains(err.Error(), "libssl-dev") {
			t.Fatalf("Run without OpenSSL = %v, want an *InputError naming libssl-dev", err)
		}
		return
	}
	run := runCases(t, context.Background(), cases)
	c := run.Cases[0]
	if c.Status != results.StatusOK || c.Counts.OK == 0 || c.Counts.Errors != 0 {
		t.Fatalf("%s: %s %q, counts %+v, errors %v", c.Name, c.Status, c.Failure, c.Counts, c.ErrorExamples)
	}
	if c.Params.ClientSigner != string(loadgen.SignerOpenSSL) || c.Params.ClientKeyType != "rsa2048" {
		t.Errorf("params %+v: want client_signer openssl with an rsa2048 client key", c.Params)
	}
}
