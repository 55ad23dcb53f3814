package scenarios

import (
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// The auth axis: mutual cases keep the keys they had before it, server
// and none cases say so in their key and name, and auth none, which has
// no TLS, does not multiply by the TLS axes: the repeats are skipped,
// naming the case that runs.
func TestAuthAxis(t *testing.T) {
	spec, err := Parse([]byte("matrix:\n  auth: [mutual, server, none]\n  tls: [1.2, 1.3]\n  resume: [none, tickets]\n"), "a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, skipped, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	checkUnique(t, cases, skipped)
	var names []string
	for _, c := range cases {
		names = append(names, c.Name)
	}
	want := []string{
		"tls1.2-full-ecdsa-p256-x25519-mutual", "tls1.2-resumed-ecdsa-p256-x25519-mutual",
		"tls1.3-full-ecdsa-p256-x25519-mutual", "tls1.3-resumed-ecdsa-p256-x25519-mutual",
		"tls1.2-full-ecdsa-p256-x25519-server-only", "tls1.2-resumed-ecdsa-p256-x25519-server-only",
		"tls1.3-full-ecdsa-p256-x25519-server-only", "tls1.3-resumed-ecdsa-p256-x25519-server-only",
		"plain-tcp",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("cases:\n got %v\nwant %v", names, want)
	}
	if len(skipped) != 3 {
		t.Fatalf("%d skipped, want the 3 repeats of the plain TCP case: %+v", len(skipped), skipped)
	}
	for _, s := range skipped {
		if s.Case.Auth != tlsparams.AuthNone || !strings.Contains(s.Reason, "same plain-TCP case as plain-tcp") {
			t.Errorf("skipped %s: %q", s.Case.Name, s.Reason)
		}
	}
	for _, c := range cases {
		switch c.Auth {
		case tlsparams.AuthMutual:
			if strings.Contains(c.Key, "auth=") {
				t.Errorf("%s: key %q names auth; a mutual case keeps the key it had before the axis", c.Name, c.Key)
			}
		case tlsparams.AuthServer:
			if !strings.Contains(c.Key, ",auth=server,target=") {
				t.Errorf("%s: key %q", c.Name, c.Key)
			}
		case tlsparams.AuthNone:
			// The TLS axes take their defaults: the key is the same
			// whatever the matrix lists for them.
			if c.Key != "tls=1.3,cipher=any,group=x25519,key_share=x25519,server_key=ecdsa-p256,client_key=ecdsa-p256,chain=root,identities=1,resume=none,requests=0,auth=none,target=builtin,mode=handshake" {
				t.Errorf("%s: key %q", c.Name, c.Key)
			}
		default:
			t.Errorf("%s: auth %q", c.Name, c.Auth)
		}
	}

	// The default is mutual, and a rule can select by auth.
	spec, err = Parse([]byte("matrix:\n  auth: [mutual, server]\n  requests: [0, 2]\nexclude:\n  - {auth: server, requests: 2}\n"), "b.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err = Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 {
		t.Errorf("%d cases, want 3 (the exclude rule matches auth)", len(cases))
	}
	if def, _, err := Expand(Spec{}); err != nil || def[0].Auth != tlsparams.AuthMutual {
		t.Errorf("default auth: %v, %v", def, err)
	}
}

// A bad value names itself and the accepted ones, from a file or a flag.
func TestAuthValues(t *testing.T) {
	_, err := Parse([]byte("matrix:\n  auth: [mutual, oneway]\n"), "c.yaml")
	if err == nil || !strings.Contains(err.Error(), `"oneway"`) || !strings.Contains(err.Error(), "server (one-way TLS") {
		t.Errorf("Parse = %v", err)
	}
	var s Spec
	if err := s.SetAxis("auth", []string{"Server", "server"}); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("SetAxis twice = %v", err)
	}
	if err := s.SetAxis("auth", []string{"NONE"}); err != nil || len(s.Matrix.Auth) != 1 || s.Matrix.Auth[0] != "none" {
		t.Errorf("SetAxis(NONE) = %v, %v", err, s.Matrix.Auth)
	}
	c := s.Clone()
	c.Matrix.Auth[0] = "mutual"
	if s.Matrix.Auth[0] != "none" {
		t.Error("Clone shares the auth axis")
	}
}

// The library's mutual-cost scenario is the three auths of one case.
func TestMutualCostScenario(t *testing.T) {
	spec, err := Load("mutual-cost")
	if err != nil {
		t.Fatal(err)
	}
	cases, skipped, err := Expand(*spec)
	if err != nil || len(skipped) != 0 {
		t.Fatal(err, skipped)
	}
	var auths []string
	for _, c := range cases {
		auths = append(auths, c.Auth.String())
		if c.Version != tlsparams.TLS13 || c.Load.Duration.D() <= 0 {
			t.Errorf("%s: %+v", c.Name, c.Params)
		}
	}
	if strings.Join(auths, ",") != "mutual,server,none" {
		t.Errorf("auths %v", auths)
	}
}
