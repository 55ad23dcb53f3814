package scenarios

import (
	"strings"
	"testing"
)

// mode http2 with a streams setting: the cases carry both, streams above
// one is part of the key, and an external target may ask for HTTP/2 (it
// says what the client speaks).
func TestHTTP2Mode(t *testing.T) {
	spec, err := Parse([]byte("target:\n  mode: http2\nload:\n  streams: 8\nmatrix:\n  requests: [0, 10]\n"), "h2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 {
		t.Fatalf("%d cases, want 2", len(cases))
	}
	for _, c := range cases {
		if c.Target.Mode != ModeHTTP2 || c.Load.Streams != 8 || !strings.HasSuffix(c.Key, ",mode=http2,streams=8") {
			t.Errorf("%s: mode %q streams %d key %s", c.Name, c.Target.Mode, c.Load.Streams, c.Key)
		}
	}
	// One stream is the default, and keeps the key as it was.
	spec, _ = Parse([]byte("target:\n  mode: http2\nmatrix:\n  requests: [1]\n"), "h2.yaml")
	cases, _, err = Expand(*spec)
	if err != nil || cases[0].Load.Streams != 1 || !strings.HasSuffix(cases[0].Key, "requests=1,target=builtin,mode=http2") {
		t.Errorf("default streams: %v %+v", err, cases)
	}
	spec, _ = Parse([]byte("target:\n  kind: external\n  addr: 10.0.0.5:443\n  cert: c.pem\n  key: k.pem\n  ca: ca.pem\n  mode: http2\nmatrix:\n  requests: [3]\n"), "ext.yaml")
	if cases, _, err = Expand(*spec); err != nil || cases[0].Target.Mode != ModeHTTP2 {
		t.Errorf("external http2: %v", err)
	}
}

func TestHTTP2Refusals(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"load:\n  streams: 4\nmatrix:\n  requests: [10]\n", "streams 4 needs HTTP/2"},
		{"target:\n  mode: http2\nload:\n  streams: 1001\n", "streams 1001 is out of range"},
		{"target:\n  mode: http3\n", "http2 (HTTP/2, ALPN h2)"},
		{"target:\n  kind: external\n  addr: 10.0.0.5:443\n  cert: c.pem\n  key: k.pem\n  ca: ca.pem\n  mode: http\n", "mode: http2 for HTTP/2"},
	} {
		_, err := Parse([]byte(tc.yaml), "s.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
	// --streams 0 asked for something: refused, naming the flag.
	spec, _ := Parse([]byte("target:\n  mode: http2\n"), "s.yaml")
	zero := 0
	err := spec.Apply(Overrides{Load: LoadOverrides{Streams: &zero}, Names: map[string]string{"load.streams": "--streams"}})
	if err == nil || !strings.Contains(err.Error(), "--streams 0") {
		t.Errorf("--streams 0: %v", err)
	}
}

// auth none in mode http2 is skipped with the reason: HTTP/2 here is over
// TLS, and plain TCP has no ALPN.
func TestHTTP2PlainSkipped(t *testing.T) {
	spec, err := Parse([]byte("name: x\ntarget: {mode: http2}\nmatrix: {tls: [1.3], resume: [none], requests: [1], auth: [mutual, none]}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, skipped, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || cases[0].Auth != "mutual" || len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "h2c") {
		t.Fatalf("cases %d, skipped %+v", len(cases), skipped)
	}
}
