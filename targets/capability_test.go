package targets

import (
	"errors"
	"strings"
	"testing"
)

// TestCheck: what a target cannot serve apart from TLS is refused naming
// what, why and what would work. (TLS refusals are tlsparams.Check's.)
func TestCheck(t *testing.T) {
	one := Capability{Kind: KindOpenSSL, Modes: []Mode{ModeHandshake, ModeHTTP}, MaxWorkers: 1, MaxRequestsPerConn: 1}
	var unsupported *UnsupportedError
	for _, tc := range []struct {
		name     string
		cfg      Config
		requests int
		want     string // empty: accepted
	}{
		{"one worker, one request", Config{Workers: 1, Mode: ModeHTTP}, 1, ""},
		{"two workers", Config{Workers: 2}, 0, "targets: openssl cannot serve 2 workers: it serves one connection at a time"},
		{"keep-alive requests", Config{Mode: ModeHTTP}, 5, "cannot serve 5 requests per connection: it answers at most 1 request per connection; use nginx or haproxy"},
		{"an unknown mode", Config{Mode: "grpc"}, 0, `cannot serve mode "grpc": accepted: handshake, http`},
	} {
		err := one.Check(tc.cfg, tc.requests)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.As(err, &unsupported) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an *UnsupportedError with %q", tc.name, err, tc.want)
		}
	}
}

func TestCheckRequests(t *testing.T) {
	nginx := Capability{Kind: KindNginx, RecordsRequestsOnly: true, CrossCheck: "access log"}
	for _, tc := range []struct {
		mode     Mode
		requests int
		refused  bool
	}{
		{ModeHTTP2, 0, true}, {ModeHTTP, 0, true}, {ModeHTTP2, 1, false}, {ModeHandshake, 0, false},
	} {
		err := nginx.CheckRequests(tc.mode, tc.requests)
		if (err != nil) != tc.refused || (err != nil && !strings.Contains(err.Error(), "no line for a connection that made no request")) {
			t.Errorf("%s, %d requests: %v", tc.mode, tc.requests, err)
		}
	}
	if err := (Capability{Kind: KindHAProxy}).CheckRequests(ModeHTTP2, 0); err != nil {
		t.Errorf("haproxy: %v", err)
	}
}
