package scenarios

import (
	"github.com/mtlsbench/mtlsbench/tlsparams"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const externalTarget = "target: {kind: external, addr: 'srv.example:8443', ca: ca.pem, cert: c.pem, key: k.pem}\n"

// TestExpand checks matrix expansion: the product's order, exclude and
// include, skipped cells, refusals, and the names cases get.
func TestExpand(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		cases   []string // names, in order
		skipped []string // names of skipped cells, in order
		err     string   // a substring of the error; "" for none
		errAt   string   // "line:col field" the error names, if err
	}{
		// No matrix: one case, every axis at its default.
		{"defaults", "load: {duration: 1s}\n", []string{"tls1.3-full-ecdsa-p256-x25519"}, nil, "", ""},
		// Two axes: their product, the first axis written varying slowest.
		{"product", "matrix:\n  tls: [1.2, 1.3]\n  resume: [none, tickets]\n",
			[]string{"tls1.2-full-ecdsa-p256-x25519", "tls1.2-resumed-ecdsa-p256-x25519", "tls1.3-full-ecdsa-p256-x25519", "tls1.3-resumed-ecdsa-p256-x25519"}, nil, "", ""},
		// The order axes are written in is the order they nest in.
		{"written order", "matrix:\n  resume: [none, tickets]\n  tls: [1.2, 1.3]\n",
			[]string{"tls1.2-full-ecdsa-p256-x25519", "tls1.3-full-ecdsa-p256-x25519", "tls1.2-resumed-ecdsa-p256-x25519", "tls1.3-resumed-ecdsa-p256-x25519"}, nil, "", ""},
		// An exclude rule removes the cells matching all its keys (a
		// partial match), and nothing else.
		{"exclude", "matrix:\n  tls: [1.2, 1.3]\n  resume: [none, tickets]\nexclude:\n  - {tls: 1.2, resume: tickets}\n",
			[]string{"tls1.2-full-ecdsa-p256-x25519", "tls1.3-full-ecdsa-p256-x25519", "tls1.3-resumed-ecdsa-p256-x25519"}, nil, "", ""},
		// A rule matches values in any spelling, and defaults too (the
		// server_key axis is not written; its default is ecdsa-p256).
		{"exclude on default and alias", "matrix:\n  group: [x25519, p256]\nexclude:\n  - {group: P-256, server_key: p256}\n",
			[]string{"tls1.3-full-ecdsa-p256-x25519"}, nil, "", ""},
		// An include that matches an existing cell adds nothing.
		{"include matches", "matrix:\n  tls: [1.2, 1.3]\ninclude:\n  - {tls: 1.3, group: x25519}\n",
			[]string{"tls1.2-full-ecdsa-p256-x25519", "tls1.3-full-ecdsa-p256-x25519"}, nil, "", ""},
		// An include that matches nothing adds a cell from its values and
		// the axes' defaults, not the matrix's values (server_key here).
		{"include adds", "matrix:\n  server_key: [rsa2048]\ninclude:\n  - {group: p256}\n",
			[]string{"tls1.3-full-rsa2048-x25519", "tls1.3-full-ecdsa-p256-p256"}, nil, "", ""},
		// Includes apply after excludes, so an include can bring back an
		// excluded cell; a second identical include then matches it.
		{"include after exclude", "matrix:\n  tls: [1.2, 1.3]\nexclude:\n  - {tls: 1.2}\ninclude:\n  - {tls: 1.2}\n  - {tls: '1.2'}\n",
			[]string{"tls1.3-full-ecdsa-p256-x25519", "tls1.2-full-ecdsa-p256-x25519"}, nil, "", ""},
		// Excluding everything is an error, not an empty run.
		{"exclude all", "matrix:\n  tls: [1.2, 1.3]\nexclude:\n  - {group: x25519}\n", nil, nil, "exclude rules remove every case", "3:1 exclude"},
		// A client key differing from the server's shows in the name.
		{"client key", "matrix:\n  server_key: [rsa2048]\n  client_key: [rsa2048, ed25519]\n",
			[]string{"tls1.3-full-rsa2048-x25519", "tls1.3-full-rsa2048-client-ed25519-x25519"}, nil, "", ""},
		// TLS 1.2 has no post-quantum groups: those cells are skipped.
		{"skip pq in tls1.2", "matrix:\n  tls: [1.2, 1.3]\n  group: [x25519, x25519mlkem768]\n",
			[]string{"tls1.2-full-ecdsa-p256-x25519", "tls1.3-full-ecdsa-p256-x25519", "tls1.3-full-ecdsa-p256-x25519mlkem768"},
			[]string{"tls1.2-full-ecdsa-p256-x25519mlkem768"}, "", ""},
		// A suite of the other version is skipped both ways (openssl can pin
		// TLS 1.3 suites, so nothing is refused).
		{"skip suite version", "target: {kind: openssl}\nmatrix:\n  tls: [1.2, 1.3]\n  cipher: [TLS_AES_128_GCM_SHA256, ECDHE-ECDSA-AES128-GCM-SHA256]\n",
			[]string{"tls1.2-full-ecdsa-p256-x25519-aes128gcm", "tls1.3-full-ecdsa-p256-x25519-aes128gcm"},
			[]string{"tls1.2-full-ecdsa-p256-x25519-aes128gcm-2", "tls1.3-full-ecdsa-p256-x25519-ecdsa-aes128gcm"}, "", ""},
		// A TLS 1.2 suite whose authentication doesn't fit the server key is
		// skipped; Ed25519 keys use ECDSA suites.
		{"skip suite auth", "matrix:\n  tls: [1.2]\n  server_key: [rsa2048, ed25519]\n  cipher: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n",
			[]string{"tls1.2-full-rsa2048-x25519-aes128gcm", "tls1.2-full-ed25519-x25519-aes128gcm"},
			[]string{"tls1.2-full-rsa2048-x25519-ecdsa-aes128gcm", "tls1.2-full-ed25519-x25519-rsa-aes128gcm"}, "", ""},
		// A HelloRetryRequest needs TLS 1.3: the TLS 1.2 cell is skipped.
		{"skip hrr in tls1.2", "matrix:\n  tls: [1.2, 1.3]\n  group: [p256]\n  key_share: [x25519]\n",
			[]string{"tls1.3-full-ecdsa-p256-p256-hrr-x25519"}, []string{"tls1.2-full-ecdsa-p256-p256-hrr-x25519"}, "", ""},
		// Every cell impossible: an error saying why.
		{"all skipped", "matrix:\n  tls: [1.2]\n  group: [x25519mlkem768, secp256r1mlkem768]\n", nil, nil,
			"every case is one the TLS stack cannot express, so nothing is left to run: TLS 1.2 has no post-quantum key exchange (group x25519mlkem768 is TLS 1.3 only)", "1:1 matrix"},
		// What a client stack or a target cannot do (pin a TLS 1.3 suite,
		// send a key share that causes a retry) is theirs to refuse, before
		// load (tlsparams.Check): Expand builds the cases.
		{"tls13 suite on builtin", "matrix:\n  tls: [1.3]\n  cipher: [TLS_AES_256_GCM_SHA384]\n",
			[]string{"tls1.3-full-ecdsa-p256-x25519"}, nil, "", ""},
		{"key share below group", "matrix:\n  group: [x25519]\n  key_share: [p256]\n",
			[]string{"tls1.3-full-ecdsa-p256-x25519-hrr-p256"}, nil, "", ""},
		// A key share above the group is an HRR case.
		{"hrr", "matrix:\n  group: [p256, p384]\n  key_share: [x25519mlkem768]\n",
			[]string{"tls1.3-full-ecdsa-p256-p256-hrr-x25519mlkem768", "tls1.3-full-ecdsa-p256-p384-hrr-x25519mlkem768"}, nil, "", ""},
		// Axes that vary get a name part: identities, chain, requests.
		{"varying parts", "matrix:\n  client_identities: [1, 100]\n  chain: [intermediate]\n  requests: [0, 5]\n",
			[]string{"tls1.3-full-ecdsa-p256-x25519-ids1-req0", "tls1.3-full-ecdsa-p256-x25519-ids1-req5", "tls1.3-full-ecdsa-p256-x25519-ids100-req0", "tls1.3-full-ecdsa-p256-x25519-ids100-req5"}, nil, "", ""},
		// Resume ratios read as percentages; a ratio of 1 is tickets.
		{"resume names", "matrix:\n  resume: [0.8, 50%, '1', none]\n",
			[]string{"tls1.3-resume80-ecdsa-p256-x25519", "tls1.3-resume50-ecdsa-p256-x25519", "tls1.3-resumed-ecdsa-p256-x25519", "tls1.3-full-ecdsa-p256-x25519"}, nil, "", ""},
		// An external target's certificates are what they are: no key in
		// the name unless the scenario states the one expected.
		{"external", externalTarget + "matrix:\n  tls: [1.2, 1.3]\n",
			[]string{"tls1.2-full-x25519", "tls1.3-full-x25519"}, nil, "", ""},
		// With no server key to rule cells out, two suites with the same
		// bulk cipher would share a name: the second spells out its
		// authentication.
		{"name collision", externalTarget + "matrix:\n  tls: [1.2]\n  cipher: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n",
			[]string{"tls1.2-full-x25519-aes128gcm", "tls1.2-full-x25519-rsa-aes128gcm"}, nil, "", ""},
		// A matrix past MaxCases is refused before it is built.
		{"too many", "matrix:\n  server_key: [rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519]\n  client_key: [rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519]\n  client_identities: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  requests: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]\n", nil, nil,
			"more than 10000 cells", "1:1 matrix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := Parse([]byte(tt.yaml), "x.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			cases, skipped, err := Expand(*spec)
			if tt.err != "" {
				e := problemsOf(t, err)[0]
				if !strings.Contains(e.Message, tt.err) {
					t.Fatalf("error %q, want it to contain %q", err, tt.err)
				}
				if at := strings.Join([]string{strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column), e.Field}, " "); at != tt.errAt {
					t.Errorf("error at %q, want %q", at, tt.errAt)
				}
				if cases != nil || skipped != nil {
					t.Errorf("cases %v and skipped %v returned with an error", cases, skipped)
				}
				return
			}
			if err != nil {
				t.Fatalf("Expand: %v", err)
			}
			if got := caseNamesOf(cases); !slices.Equal(got, tt.cases) {
				t.Errorf("cases:\n got %q\nwant %q", got, tt.cases)
			}
			var gotSkipped []string
			for _, s := range skipped {
				gotSkipped = append(gotSkipped, s.Case.Name)
				if s.Reason == "" {
					t.Errorf("skipped %s without a reason", s.Case.Name)
				}
			}
			if !slices.Equal(gotSkipped, tt.skipped) {
				t.Errorf("skipped:\n got %q\nwant %q", gotSkipped, tt.skipped)
			}
			checkUnique(t, cases, skipped)
		})
	}
}

func caseNamesOf(cases []Case) []string {
	var names []string
	for _, c := range cases {
		names = append(names, c.Name)
	}
	return names
}

// checkUnique fails if two cases (runnable or skipped) share a name or a
// key. A skipped auth none cell is the plain TCP case it repeats, key and
// all: only its name must differ.
func checkUnique(t *testing.T, cases []Case, skipped []Skipped) {
	t.Helper()
	all := slices.Clone(cases)
	for _, s := range skipped {
		if s.Case.Auth == tlsparams.AuthNone {
			s.Case.Key += ",skipped=" + s.Case.Name
		}
		all = append(all, s.Case)
	}
	names, keys := map[string]bool{}, map[string]bool{}
	for _, c := range all {
		if names[c.Name] {
			t.Errorf("name %s twice", c.Name)
		}
		if keys[c.Key] {
			t.Errorf("key %s twice", c.Key)
		}
		names[c.Name], keys[c.Key] = true, true
	}
}

// TestExpandSkipReasons checks the reason given for each kind of
// impossible cell.
func TestExpandSkipReasons(t *testing.T) {
	spec, err := Parse([]byte(`
target: {kind: openssl}
matrix:
  tls: [1.2]
  server_key: [rsa2048]
  group: [x25519, x25519mlkem768]
  key_share: [x25519]
  cipher: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
`), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, skipped, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || cases[0].Suite.Name != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" {
		t.Fatalf("cases = %v", caseNamesOf(cases))
	}
	want := []string{
		"TLS_AES_128_GCM_SHA256 is a TLS 1.3 suite, not usable in TLS 1.2",
		"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 needs an ECDSA or Ed25519 server key, and rsa2048 is not one",
		"TLS 1.2 has no post-quantum key exchange (group x25519mlkem768 is TLS 1.3 only)",
	}
	var got []string
	for _, s := range skipped {
		if !slices.Contains(got, s.Reason) {
			got = append(got, s.Reason)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("reasons:\n got %q\nwant %q", got, want)
	}
}

// TestExpandDefaults checks every default a Case gets, and that Expand
// leaves the caller's spec alone.
func TestExpandDefaults(t *testing.T) {
	spec, err := Parse([]byte("load: {steps: [10, 20], step_duration: 1s}\nmatrix: {requests: [0, 3]}\n"), "d.yaml")
	if err != nil {
		t.Fatal(err)
	}
	before := spec.Clone()
	cases, _, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spec, before) {
		t.Error("Expand changed the caller's spec")
	}
	c := cases[0]
	x25519, _ := tlsparams.ParseGroup("x25519")
	want := Case{
		Name: "tls1.3-full-ecdsa-p256-x25519-req0",
		Key:  "tls=1.3,cipher=any,group=x25519,key_share=x25519,server_key=ecdsa-p256,client_key=ecdsa-p256,chain=root,identities=1,resume=none,requests=0,target=builtin,mode=handshake",
		Params: tlsparams.Params{Version: tlsparams.TLS13, Group: x25519, KeyShare: x25519,
			ServerKey: "ecdsa-p256", ClientKey: "ecdsa-p256", Chain: "root", Resume: tlsparams.ResumeNone, Auth: tlsparams.AuthMutual},
		ClientIdentities: 1, Requests: 0, TrustStore: 1,
		Target: TargetSpec{Kind: "builtin", ServerName: "localhost", Mode: "handshake"},
		Load: LoadSpec{Steps: []float64{10, 20}, StepDuration: Duration(time.Second), MaxInFlight: 10000,
			Interval: Duration(time.Second), Timeout: Duration(10 * time.Second), ErrorBudget: "1%"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("case:\n got %+v\nwant %+v", c, want)
	}
	if m := cases[1].Target.Mode; m != "http" || !strings.HasSuffix(cases[1].Key, "requests=3,target=builtin,mode=http") {
		t.Errorf("a case with requests: mode %q, key %s", m, cases[1].Key)
	}
	cases[0].Load.Steps[0] = 99
	if cases[1].Load.Steps[0] != 10 || spec.Load.Steps[0] != 10 {
		t.Error("cases share their Steps slice")
	}

	// Closed loop: concurrency and duration defaults.
	spec, _ = Parse([]byte("matrix: {tls: 1.2}\n"), "d.yaml")
	cases, _, _ = Expand(*spec)
	if l := cases[0].Load; l.Concurrency != 2*runtime.GOMAXPROCS(0) || l.Duration.D() != 10*time.Second || l.MaxInFlight != 0 {
		t.Errorf("closed-loop load = %+v", l)
	}
	// Count instead of duration: no duration added.
	spec, _ = Parse([]byte("load: {count: 500, concurrency: 3}\n"), "d.yaml")
	cases, _, _ = Expand(*spec)
	if l := cases[0].Load; l.Duration != 0 || l.Count != 500 || l.Concurrency != 3 {
		t.Errorf("count load = %+v", l)
	}
	// Open loop with a rate: duration and in-flight defaults, concurrency
	// left as written (the rate wins).
	spec, _ = Parse([]byte("load: {rate: 1000, concurrency: 4}\n"), "d.yaml")
	cases, _, _ = Expand(*spec)
	if l := cases[0].Load; l.Duration.D() != 10*time.Second || l.MaxInFlight != 10000 || l.Concurrency != 4 {
		t.Errorf("open-loop load = %+v", l)
	}
	// External: SNI is the address's host; key types are whatever the
	// certificates are, unless stated.
	spec, _ = Parse([]byte(externalTarget+"matrix: {server_key: rsa2048}\n"), "d.yaml")
	cases, _, _ = Expand(*spec)
	if c := cases[0]; c.Target.ServerName != "srv.example" || c.ServerKey != "rsa2048" || c.ClientKey != "rsa2048" || c.Chain != "" ||
		!strings.Contains(c.Key, "server_key=rsa2048,client_key=rsa2048,chain=any") || !strings.HasSuffix(c.Key, "target=external,mode=handshake") {
		t.Errorf("external case = %+v", c)
	}
	spec, _ = Parse([]byte(externalTarget), "d.yaml")
	cases, _, _ = Expand(*spec)
	if c := cases[0]; c.ServerKey != "" || c.ClientKey != "" || !strings.Contains(c.Key, "server_key=any,client_key=any") {
		t.Errorf("external case without key types = %+v", c)
	}
}

// TestKeyIsCanonical checks that a cell's key does not depend on the
// scenario around it or on how its values were spelt.
func TestKeyIsCanonical(t *testing.T) {
	a, _ := Parse([]byte("matrix:\n  tls: [TLSv1.3]\n  group: [X25519, P-256]\n  resume: ['100%']\n  server_key: [p256]\n"), "a.yaml")
	b, _ := Parse([]byte("load: {duration: 1s}\nmatrix:\n  resume: [tickets, none]\n"), "b.yaml")
	ca, _, err := Expand(*a)
	if err != nil {
		t.Fatal(err)
	}
	cb, _, err := Expand(*b)
	if err != nil {
		t.Fatal(err)
	}
	if ca[0].Key != cb[0].Key {
		t.Errorf("same cell, different keys:\n%s\n%s", ca[0].Key, cb[0].Key)
	}
}

// TestExpandValidates checks that Expand refuses a spec changed in code
// into something invalid, as run's flags might.
func TestExpandValidates(t *testing.T) {
	spec, err := Parse([]byte("load: {duration: 2s}\n"), "v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec.Load.Count = 10
	if _, _, err := Expand(*spec); err == nil || !strings.Contains(err.Error(), "duration and count are both set") {
		t.Errorf("Expand = %v", err)
	}
	var empty Spec
	if cases, _, err := Expand(empty); err != nil || len(cases) != 1 {
		t.Errorf("Expand(Spec{}) = %v, %v", cases, err)
	}
}
