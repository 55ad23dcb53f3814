//go:build cgo && linux && !noopenssl

package bench

import (
	"context"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/testenv"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// openssl expands one case of the openssl client against kind.
func opensslCase(t *testing.T, kind string, edit func(m *scenarios.Matrix), more ...func(*scenarios.Spec)) *results.Case {
	t.Helper()
	cases := expand(t, "quick", 700*time.Millisecond, func(s *scenarios.Spec) {
		s.Target = scenarios.TargetSpec{Kind: kind}
		s.Matrix.Client = []string{"openssl"}
		edit(&s.Matrix)
		for _, f := range more {
			f(s)
		}
	})
	if len(cases) != 1 {
		t.Fatalf("%d cases, want 1", len(cases))
	}
	c := &runCases(t, context.Background(), cases).Cases[0]
	// StatusOK: the target's own record agreed (the cross-check).
	if c.Status != results.StatusOK {
		t.Fatalf("%s: %s: %s %v", c.Name, c.Status, c.Failure, c.ErrorExamples)
	}
	if c.Params.Client != "openssl" {
		t.Errorf("params say client %q", c.Params.Client)
	}
	return c
}

// Issue 14's first done-means: TLS 1.2 resumption by session ID against
// nginx with tickets off, every handshake after each connection's first
// resumed, and nginx's own log agrees.
func TestOpenSSLSessionIDsNginx(t *testing.T) {
	requireServer(t, "nginx")
	c := opensslCase(t, "nginx", func(m *scenarios.Matrix) {
		m.TLS, m.Resume = []string{"1.2"}, []string{"session-id"}
	})
	if c.Counts.OK == 0 || float64(c.Counts.Resumed) < 0.99*float64(c.Counts.OK) {
		t.Fatalf("counts %+v: want ≥ 99%% resumed", c.Counts)
	}
	tc := c.TargetCounts
	if tc == nil || tc.Resumed == 0 || float64(tc.Resumed) < 0.99*float64(tc.Handshakes) {
		t.Fatalf("nginx's log: %+v, want ≥ 99%% of its handshakes resumed", tc)
	}
}

// The second: 512 bytes of early data on every resumed connection to
// s_server -early_data, accepted, and s_server received them.
func TestOpenSSLEarlyDataSServer(t *testing.T) {
	requireServer(t, "openssl")
	c := opensslCase(t, "openssl", func(m *scenarios.Matrix) {
		m.TLS, m.Resume, m.EarlyData = []string{"1.3"}, []string{"tickets"}, []string{"512"}
	})
	e := c.EarlyData
	if e == nil || e.Offered == 0 || e.Accepted != e.Offered || e.BytesAccepted != 512*e.Accepted {
		t.Fatalf("early data %+v, want every offer accepted, 512 bytes each", e)
	}
	if e.Offered != c.Counts.Resumed {
		t.Errorf("early data offered on %d of %d resumptions", e.Offered, c.Counts.Resumed)
	}
	tc := c.TargetCounts
	if tc == nil || tc.EarlyData == 0 || tc.EarlyDataBytes == 0 {
		t.Fatalf("s_server's record: %+v, want the early data it received", tc)
	}
}

// The third: the client pins a TLS 1.3 suite the built-in target (Go,
// which accepts all three) then negotiates.
func TestOpenSSLPinsTLS13SuiteBuiltin(t *testing.T) {
	c := opensslCase(t, "builtin", func(m *scenarios.Matrix) {
		m.TLS, m.Resume, m.Cipher = []string{"1.3"}, []string{"none"}, []string{"TLS_AES_256_GCM_SHA384"}
	})
	if len(c.Negotiated) != 1 || c.Negotiated[0].CipherSuite != "TLS_AES_256_GCM_SHA384" {
		t.Fatalf("negotiated %+v", c.Negotiated)
	}
}

// A server that sends no new ticket on a resumed TLS 1.3 connection (Node):
// the openssl client resumes with the ticket it has, every time, as
// crypto/tls does (OpenSSL had marked the session it resumed not
// resumable: every second resumption was a full handshake).
func TestOpenSSLResumesAgainstNode(t *testing.T) {
	t.Setenv(testenv.NodeEnv, testenv.NodeMLKEM(t))
	c := opensslCase(t, scenarios.KindNode, func(m *scenarios.Matrix) {
		m.TLS, m.Resume = []string{"1.3"}, []string{"tickets"}
	})
	if c.Counts.OK == 0 || c.Counts.Resumed != c.Counts.OK {
		t.Fatalf("counts %+v: want every handshake resumed", c.Counts)
	}
}

// HTTP/2 on the openssl client against nginx: ALPN h2, every request
// answered, and nginx's log agrees they were HTTP/2.
func TestOpenSSLHTTP2Nginx(t *testing.T) {
	requireServer(t, "nginx")
	c := opensslCase(t, "nginx", func(m *scenarios.Matrix) {
		m.TLS, m.Resume, m.Requests = []string{"1.3"}, []string{"none"}, []int{4}
	}, func(s *scenarios.Spec) { s.Target.Mode, s.Load.Streams = scenarios.ModeHTTP2, 2 })
	if c.Counts.Requests != 4*c.Counts.OK || c.Counts.OK == 0 {
		t.Fatalf("counts %+v", c.Counts)
	}
	if tc := c.TargetCounts; tc == nil || tc.HTTP2Requests == 0 {
		t.Fatalf("nginx's record: %+v, want its HTTP/2 requests", tc)
	}
}

// Certificate rotation under the openssl client: the built-in target
// (cert and CA rotations) and nginx (a reload), each without a failed
// handshake, full handshakes after it seeing the new certificate and
// sessions carried across it, as for the go client (checkRotated).
func TestOpenSSLRotation(t *testing.T) {
	for _, tc := range []struct {
		kind, rotate string
	}{{scenarios.KindBuiltin, scenarios.RotateCert}, {scenarios.KindBuiltin, scenarios.RotateCA}, {scenarios.KindNginx, scenarios.RotateCert}} {
		t.Run(tc.kind+"/"+tc.rotate, func(t *testing.T) {
			if tc.kind != scenarios.KindBuiltin {
				requireServer(t, tc.kind)
			}
			cases := rotationCases(t, func(s *scenarios.Spec) {
				s.Target.Kind, s.Target.Rotate = tc.kind, tc.rotate
				s.Matrix.Client = []string{"openssl"}
			})
			for _, c := range runCases(t, context.Background(), cases).Cases {
				if c.Params.Client != "openssl" {
					t.Fatalf("%s: client %q", c.Name, c.Params.Client)
				}
				checkRotated(t, c)
			}
		})
	}
}
