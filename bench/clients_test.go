package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// What only the openssl client can do, asked of the go client, is refused
// before any load in tlsparams' wording, naming the client that can.
func TestGoClientRefusesOpenSSLFeatures(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*scenarios.Spec)
		want string
	}{
		{"session-id", func(s *scenarios.Spec) {
			s.Matrix.TLS, s.Matrix.Resume = []string{"1.2"}, []string{"session-id"}
		}, "the go client cannot resume by session ID: Go's crypto/tls resumes only with tickets (TLS 1.2 session tickets, TLS 1.3 PSKs): it keeps no session-ID cache; the openssl client can (--client openssl, or client: openssl in a scenario)"},
		{"early data", func(s *scenarios.Spec) {
			s.Matrix.TLS, s.Matrix.Resume, s.Matrix.EarlyData = []string{"1.3"}, []string{"tickets"}, []string{"512"}
		}, "the go client cannot send and accept TLS 1.3 early data (0-RTT): Go's crypto/tls neither sends nor accepts TLS 1.3 early data; the openssl client can"},
		{"psk_ke", func(s *scenarios.Spec) {
			s.Matrix.TLS, s.Matrix.Resume, s.Matrix.PSKMode = []string{"1.3"}, []string{"tickets"}, []string{"ke"}
		}, "the go client cannot resume without (EC)DHE (psk_ke)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cases := expand(t, "quick", 300*time.Millisecond, tc.edit)
			start := time.Now()
			_, err := Run(context.Background(), Options{Cases: cases, ChildCommand: childCommand()})
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want an InputError with %q", err, tc.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("refusal took %v: load ran before it?", time.Since(start))
			}
		})
	}
}

// What the engine cannot do around the openssl client is refused before
// load with the reason: early data with requests (it would be read as a
// request); HTTP/2 and certificate rotation run on either client.
func TestEngineProblems(t *testing.T) {
	openssl := func(edit func(*scenarios.Case)) *scenarios.Case {
		c := &scenarios.Case{Params: tlsparams.Params{Version: tlsparams.TLS13, Resume: tlsparams.ResumeTickets, Client: tlsparams.ClientOpenSSL}}
		c.Target.Mode = scenarios.ModeHandshake
		edit(c)
		return c
	}
	for _, tc := range []struct {
		c    *scenarios.Case
		want string
	}{
		{openssl(func(c *scenarios.Case) { c.EarlyData, c.Requests, c.Target.Mode = 512, 1, scenarios.ModeHTTP }),
			"the engine cannot send early data in a case with 1 requests per connection: it sends early data as filler bytes, which an HTTP server would read as the start of a request"},
		{openssl(func(c *scenarios.Case) { c.Requests, c.Target.Mode = 1, scenarios.ModeHTTP2 }), ""},
		{openssl(func(c *scenarios.Case) { c.Target.RotateAt = []scenarios.Duration{scenarios.Duration(time.Second)} }), ""},
		{openssl(func(c *scenarios.Case) { c.EarlyData = 512 }), ""},
		{openssl(func(c *scenarios.Case) { c.Client, c.Requests, c.Target.Mode = "", 1, scenarios.ModeHTTP2 }), ""},
	} {
		err := engineProblem(tc.c)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v; want %q", tc.c.Params, err, tc.want)
		}
	}
}

// The servers' side of the same rules: with a client that can (the
// openssl client's features), nginx refuses early data and psk_ke with
// its reasons, and resumes by session ID.
func TestServersRefuseWhatTheyLack(t *testing.T) {
	needKind(t, "nginx")
	capability, err := targets.Capabilities(targets.KindNginx)
	if err != nil {
		t.Fatal(err)
	}
	client := tlsparams.GoTLS("a test client")
	client.Features = append(client.Features, tlsparams.SessionIDResumption, tlsparams.EarlyData, tlsparams.PSKKE)
	x25519, _ := tlsparams.ParseGroup("x25519")
	base := tlsparams.Params{Version: tlsparams.TLS13, Group: x25519, KeyShare: x25519, Resume: tlsparams.ResumeTickets}
	ed, ke, sid := base, base, base
	ed.EarlyData = 512
	ke.PSKMode = tlsparams.PSKModeKE
	sid.Version, sid.ResumeBy = tlsparams.TLS12, tlsparams.ResumeBySessionID
	if err := tlsparams.Check(ed, client, capability.TLS); err == nil || !strings.Contains(err.Error(), "nginx cannot send and accept TLS 1.3 early data (0-RTT): mtlsbench sends early data as filler bytes, which nginx would read as the start of a request") {
		t.Errorf("early data: %v", err)
	}
	if err := tlsparams.Check(ke, client, capability.TLS); err == nil || !strings.Contains(err.Error(), "SSL_OP_PREFER_NO_DHE_KEX") {
		t.Errorf("psk_ke: %v", err)
	}
	if err := tlsparams.Check(sid, client, capability.TLS); err != nil {
		t.Errorf("session-id: %v", err)
	}
}

// The case reaches the target's configuration and the result: session-id
// as SessionIDs, early data as EarlyData; params name the client, and
// resume_by and psk_mode only away from their defaults; plain TCP none.
func TestClientParams(t *testing.T) {
	cases := expand(t, "quick", 300*time.Millisecond, func(s *scenarios.Spec) {
		s.Matrix.TLS, s.Matrix.Resume, s.Matrix.Client = []string{"1.2"}, []string{"session-id"}, []string{"openssl"}
	})
	c := &cases[0]
	if cfg := targetConfig(c, &material{}); !cfg.SessionIDs || cfg.DisableTickets || cfg.EarlyData != 0 {
		t.Errorf("session-id target config: %+v", cfg)
	}
	if p := caseParams(c); p.Client != "openssl" || p.ResumeBy != "session-id" || p.Resume != "tickets" || p.EarlyData != 0 || p.PSKMode != "" {
		t.Errorf("session-id params: %+v", p)
	}
	cases = expand(t, "quick", 300*time.Millisecond, func(s *scenarios.Spec) {
		s.Matrix.TLS, s.Matrix.Resume, s.Matrix.EarlyData, s.Matrix.PSKMode = []string{"1.3"}, []string{"tickets"}, []string{"1k"}, []string{"ke"}
	})
	c = &cases[0]
	if cfg := targetConfig(c, &material{}); cfg.SessionIDs || cfg.EarlyData != 1024 {
		t.Errorf("early data target config: %+v", cfg)
	}
	if p := caseParams(c); p.Client != "go" || p.ResumeBy != "" || p.EarlyData != 1024 || p.PSKMode != "ke" {
		t.Errorf("early data params: %+v", p)
	}
	c.Auth = tlsparams.AuthNone
	if p := caseParams(c); p.Client != "" || p.EarlyData != 0 || p.PSKMode != "" {
		t.Errorf("plain TCP params: %+v", p)
	}
}

// s_server's count of early data received cross-checks the client's
// accepted early data: connections and bytes, within the edge slack.
func TestEarlyDataCrosscheck(t *testing.T) {
	for _, tc := range []struct {
		name            string
		accepted, bytes int64
		conns, received int64
		want            string
	}{
		{"agree", 100, 51200, 100, 51200, ""},
		{"an edge connection", 100, 51200, 102, 52224, ""},
		{"server received none", 100, 51200, 0, 0, "the target received early data on 0 connections, the client had it accepted on 100"},
		{"short bytes", 100, 51200, 100, 25600, "the target received 25600 bytes of early data, the client had 51200 accepted"},
	} {
		out := &results.Case{Status: results.StatusOK, Params: results.Params{Target: "openssl", EarlyData: 512},
			Counts:    results.Counts{OK: 1000, Resumed: 100},
			EarlyData: &results.EarlyData{Offered: tc.accepted, Accepted: tc.accepted, BytesAccepted: tc.bytes}}
		tc2 := &results.TargetCounts{Source: "s_server", Handshakes: 1000, Resumed: 100, EarlyData: tc.conns, EarlyDataBytes: tc.received}
		crosscheck(out, tc2, 2)
		if tc.want == "" && out.Status != results.StatusOK {
			t.Errorf("%s: %s", tc.name, out.Failure)
		}
		if tc.want != "" && (out.Status != results.StatusCrosscheckFailed || !strings.Contains(out.Failure, tc.want)) {
			t.Errorf("%s: status %s, failure %q; want %q", tc.name, out.Status, out.Failure, tc.want)
		}
	}
}

// Early data the server rejected is said in a warning; none offered, or
// all accepted, says nothing.
func TestEarlyDataWarning(t *testing.T) {
	if w := earlyDataWarning(&results.EarlyData{Offered: 10, Accepted: 7, Rejected: 3}); !strings.Contains(w, "rejected the early data of 3 of the 10") {
		t.Errorf("warning %q", w)
	}
	if w := earlyDataWarning(&results.EarlyData{Offered: 10, Accepted: 10}); w != "" {
		t.Errorf("all accepted: %q", w)
	}
	if w := earlyDataWarning(nil); w != "" {
		t.Errorf("none offered: %q", w)
	}
	if earlyData(results.EarlyData{}) != nil {
		t.Error("a result with nothing offered has early data")
	}
}
