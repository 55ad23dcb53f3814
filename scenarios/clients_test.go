package scenarios

import (
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// client, early_data and psk_mode expand like every axis and the key names
// them only away from their defaults (go, 0, dhe), so keys from before
// them still match; resume session-id is resume tickets' ratio by session
// ID, with a key and a name of its own.
func TestClientAxes(t *testing.T) {
	spec, err := Parse([]byte(`matrix:
  client: [go, OpenSSL]
  tls: ["1.2", "1.3"]
  resume: [tickets, session-id]
  early_data: [0, 1k]
  psk_mode: [dhe, psk_ke]
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, skipped, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Case{}
	for _, c := range cases {
		byName[c.Name] = c
	}
	// 2 clients × (TLS 1.2: tickets, session-id) + 2 clients × TLS 1.3
	// tickets × 2 early_data × 2 psk_mode.
	if len(cases) != 2*2+2*4 {
		names := make([]string, 0, len(cases))
		for _, c := range cases {
			names = append(names, c.Name)
		}
		t.Fatalf("%d cases: %s", len(cases), strings.Join(names, ", "))
	}
	goTickets, ok := byName["tls1.2-resumed-ecdsa-p256-x25519"]
	if !ok || goTickets.Client != "" || goTickets.ResumeBy != "" || strings.Contains(goTickets.Key, "client=") || !strings.Contains(goTickets.Key, "resume=tickets,") {
		t.Errorf("go tickets case: %+v", goTickets)
	}
	sid, ok := byName["tls1.2-resumed-sessionid-ecdsa-p256-x25519-openssl"]
	if !ok || sid.Client != tlsparams.ClientOpenSSL || sid.Resume != tlsparams.ResumeTickets || !sid.ResumeBy.SessionID() ||
		!strings.Contains(sid.Key, "resume=session-id,") || !strings.Contains(sid.Key, ",client=openssl,") {
		t.Errorf("session-id case: %+v (have %v)", sid, keys(byName))
	}
	ed, ok := byName["tls1.3-resumed-ecdsa-p256-x25519-openssl-early1024-psk-ke"]
	if !ok || ed.EarlyData != 1024 || !ed.PSKMode.KE() || !strings.HasSuffix(ed.Key, ",client=openssl,early_data=1024,psk_mode=ke,target=builtin,mode=handshake") {
		t.Errorf("early data case: %+v (have %v)", ed, keys(byName))
	}
	// TLS 1.3 by session ID, and TLS 1.2 early data or psk_ke, are not
	// TLS: skipped with the reason.
	var reasons []string
	for _, s := range skipped {
		reasons = append(reasons, s.Reason)
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{"session IDs resume TLS 1.2 only", "early data of 1024 bytes: a TLS 1.3 feature, and this cell is TLS 1.2", "psk_mode ke: a TLS 1.3 feature"} {
		if !strings.Contains(all, want) {
			t.Errorf("no skip reason %q in:\n%s", want, all)
		}
	}

	// Early data without resumption: skipped.
	spec, _ = Parse([]byte("matrix:\n  early_data: [512]\n  resume: [none, tickets]\n"), "e.yaml")
	cases, skipped, err = Expand(*spec)
	if err != nil || len(cases) != 1 || len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "resumed connections only") {
		t.Errorf("early data with resume none: %v, %+v, %+v", err, cases, skipped)
	}
	// A plain TCP cell takes the defaults of these TLS-only axes.
	spec, _ = Parse([]byte("matrix:\n  auth: [none]\n  client: [openssl]\n  requests: [1]\ntarget: {mode: http}\n"), "p.yaml")
	cases, _, err = Expand(*spec)
	if err != nil || len(cases) != 1 || cases[0].Client != "" || strings.Contains(cases[0].Key, "client=") {
		t.Errorf("plain TCP with client openssl: %v %+v", err, cases)
	}
}

func keys(m map[string]Case) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}

// A bad value names itself and the accepted ones, with its line.
func TestClientAxesRefused(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"matrix:\n  client: [boringssl]\n", `c.yaml:2:12: matrix.client[0]: unknown client "boringssl" (accepted: go (Go's crypto/tls), openssl`},
		{"matrix:\n  early_data: [16385]\n", `early data "16385" must be a size in bytes from 0 (none) to 16384`},
		{"matrix:\n  early_data: [lots]\n", `early data "lots" must be a size in bytes`},
		{"matrix:\n  psk_mode: [psk]\n", `unknown psk mode "psk" (accepted: dhe`},
		{"matrix:\n  resume: [session]\n", `unknown resume "session" (accepted: none, tickets, session-id`},
		{"matrix:\n  client: [go, Go]\n", "listed twice"},
	} {
		spec, err := Parse([]byte(tc.yaml), "c.yaml")
		if err == nil {
			_, _, err = Expand(*spec)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want an error containing %q", tc.yaml, err, tc.want)
		}
	}
	// SetAxis (the flags' way in) refuses the same, and Clone copies the
	// new axes.
	spec, _ := Parse([]byte("name: x\n"), "x.yaml")
	if err := spec.SetAxis("psk_mode", []string{"none"}); err == nil || !strings.Contains(err.Error(), "ke (psk_ke") {
		t.Errorf("SetAxis psk_mode none: %v", err)
	}
	if err := spec.SetAxis("client", []string{"openssl"}); err != nil {
		t.Fatal(err)
	}
	c := spec.Clone()
	c.Matrix.Client[0] = "go"
	if spec.Matrix.Client[0] != "openssl" {
		t.Error("changing the clone's client changed the original")
	}
}
