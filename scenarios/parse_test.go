package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// problemsOf returns the *Errors in err, failing the test if err carries
// none.
func problemsOf(t *testing.T, err error) []*Error {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var list Errors
	if errors.As(err, &list) {
		return list
	}
	var one *Error
	if !errors.As(err, &one) {
		t.Fatalf("error %v (%T) is not a *scenarios.Error", err, err)
	}
	return []*Error{one}
}

// TestParseErrors checks that each kind of bad input is reported at the
// right line and column, naming the field, with a message that says what
// to do.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		line, col int
		field     string
		msg       string // a substring of the message
		accepted  string // a substring of Accepted ("" to skip)
	}{
		// A misspelt top-level field names the field and the accepted ones.
		{"unknown top-level field", "name: x\nmatrixx:\n  tls: [1.3]\n", 2, 1, "matrixx", `unknown field "matrixx" (did you mean "matrix"?)`, "name, description, target"},
		// A field of load written at the top level says where it belongs.
		{"misplaced field", "duration: 2s\n", 1, 1, "duration", "duration is a field of load: move it there", ""},
		// Unknown fields inside nested mappings carry the nested path.
		{"unknown load field", "load:\n  concurency: 4\n", 2, 3, "load.concurency", `did you mean "concurrency"`, "concurrency, rate"},
		// A string where a number goes is a type error, located at the value.
		{"wrong type int", "load:\n  concurrency: many\n", 2, 16, "load.concurrency", `want a whole number, got "many"`, ""},
		// A fraction where a whole number goes is a type error too.
		{"float for int", "load:\n  count: 1.5\n", 2, 10, "load.count", "want a whole number, got the number 1.5", ""},
		// A mapping where a list goes.
		{"mapping for list", "matrix:\n  tls: {a: b}\n", 2, 8, "matrix.tls", "want a list, got a mapping", ""},
		// A list where a mapping goes is reported at the key.
		{"list for struct", "load: [1, 2]\n", 1, 7, "load", "want a mapping of load fields, got a list", "concurrency"},
		// A boolean field takes only true or false.
		{"bool", "load:\n  linger0: yes\n", 2, 12, "load.linger0", `want true or false, got "yes"`, ""},
		// Durations need a unit.
		{"duration unit", "load:\n  duration: 10\n", 2, 13, "load.duration", `duration "10" needs a unit: write 10s`, ""},
		// Bad duration syntax.
		{"duration syntax", "load:\n  warmup: 2 seconds\n", 2, 11, "load.warmup", `bad duration "2 seconds"`, ""},
		// Unknown TLS version, located at the list item.
		{"unknown tls", "matrix:\n  tls: [1.2, 1.1]\n", 2, 14, "matrix.tls[1]", `unknown TLS version "1.1"`, "1.2, 1.3"},
		// Unknown group in block-style list.
		{"unknown group", "matrix:\n  group:\n    - x25519\n    - x448\n", 4, 7, "matrix.group[1]", `unknown group "x448"`, "x25519mlkem768"},
		// Unknown key type.
		{"unknown key", "matrix:\n  server_key: [rsa1024]\n", 2, 16, "matrix.server_key[0]", `unknown key type "rsa1024"`, "ed25519"},
		// Unknown cipher suite.
		{"unknown cipher", "matrix:\n  cipher: [TLS_RSA_WITH_RC4_128_SHA]\n", 2, 12, "matrix.cipher[0]", "unknown cipher suite", "TLS_AES_128_GCM_SHA256"},
		// Unknown resume mode.
		{"unknown resume", "matrix:\n  resume: [always]\n", 2, 12, "matrix.resume[0]", `unknown resume "always"`, "none, tickets"},
		// A resume ratio outside (0, 1].
		{"resume ratio range", "matrix:\n  resume: [1.5]\n", 2, 12, "matrix.resume[0]", "out of range", ""},
		// Unknown chain.
		{"unknown chain", "matrix:\n  chain: [leaf]\n", 2, 11, "matrix.chain[0]", `unknown chain "leaf"`, "intermediate"},
		// client_identities must be at least 1.
		{"identities zero", "matrix:\n  client_identities: [0]\n", 2, 23, "matrix.client_identities[0]", "from 1 to", ""},
		// Requests can't be negative.
		{"requests negative", "matrix:\n  requests: [-1]\n", 2, 14, "matrix.requests[0]", "from 0 to", ""},
		// The same value twice under two spellings.
		{"duplicate value", "matrix:\n  group: [p256, P-256]\n", 2, 17, "matrix.group[1]", "listed twice (also matrix.group[0], line 2)", ""},
		// A field given twice.
		{"duplicate field", "load:\n  duration: 2s\n  duration: 3s\n", 3, 3, "load.duration", "given twice (first at line 2)", ""},
		// Unknown target kind.
		{"unknown kind", "target:\n  kind: envoy\n", 2, 9, "target.kind", `unknown target kind "envoy"`, "builtin, nginx, haproxy, openssl, node, external"},
		// Unknown mode.
		{"unknown mode", "target:\n  mode: grpc\n", 2, 9, "target.mode", `unknown mode "grpc"`, "handshake"},
		// An external target needs an address, reported at its kind.
		{"external without addr", "target:\n  kind: external\n  cert: c.pem\n  key: k.pem\n  ca: ca.pem\n", 2, 9, "target.addr", "needs addr", ""},
		// An external target needs the client's certificate and key.
		{"external without cert", "target:\n  kind: external\n  addr: h:1\n  ca: ca.pem\n", 2, 9, "target.cert", "needs cert and key", ""},
		// An external target needs a CA unless verification is skipped.
		{"external without ca", "target:\n  kind: external\n  addr: h:1\n  cert: c\n  key: k\n", 2, 9, "target.ca", "needs ca", ""},
		// A bad HOST:PORT.
		{"bad addr", "target:\n  kind: external\n  addr: example.com\n  cert: c\n  key: k\n  ca: a\n", 3, 9, "target.addr", "is not HOST:PORT", ""},
		// Managed targets don't take an address.
		{"addr for builtin", "target:\n  addr: 127.0.0.1:8443\n", 2, 9, "target.addr", "only for kind external", ""},
		// handshake_delay is a built-in target knob.
		{"delay for nginx", "target:\n  kind: nginx\n  handshake_delay: 1ms\n", 3, 20, "target.handshake_delay", "built-in target only", ""},
		// Chain makes no sense for an external server.
		{"chain for external", "target: {kind: external, addr: 'h:1', cert: c, key: k, ca: a}\nmatrix:\n  chain: [intermediate]\n", 3, 11, "matrix.chain[0]", "not for an external target", ""},
		// An include rule can't bring in what the target refuses either.
		{"include chain for external", "target: {kind: external, addr: 'h:1', cert: c, key: k, ca: a}\ninclude:\n  - {chain: intermediate}\n", 3, 13, "include[0].chain", "not for an external target", ""},
		// Requests need a target that answers them.
		{"requests with handshake mode", "target:\n  mode: handshake\nmatrix:\n  requests: [0, 10]\n", 4, 17, "matrix.requests[1]", "set mode: http", ""},
		// duration and count both set: reported at count, naming duration's line.
		{"duration and count", "load:\n  duration: 2s\n  count: 100\n", 3, 10, "load.count", "duration and count are both set (duration at line 2)", ""},
		// steps need a step_duration.
		{"steps without step_duration", "load:\n  steps: [100, 200]\n", 2, 3, "load.steps", "steps need step_duration", ""},
		// step_duration without steps.
		{"step_duration alone", "load:\n  step_duration: 5s\n", 2, 18, "load.step_duration", "step_duration without steps", ""},
		// steps are the window: duration is refused.
		{"steps with duration", "load:\n  steps: [100]\n  step_duration: 1s\n  duration: 10s\n", 4, 13, "load.duration", "steps are the measured window", ""},
		// rate and steps both.
		{"rate and steps", "load:\n  rate: 100\n  steps: [100]\n  step_duration: 1s\n", 3, 3, "load.steps", "rate and steps are both set (rate at line 2)", ""},
		// max_in_flight is an open-loop knob.
		{"max_in_flight closed loop", "load:\n  max_in_flight: 10\n", 2, 18, "load.max_in_flight", "caps an open loop", ""},
		// ramp_up needs a rate.
		{"ramp_up without rate", "load:\n  ramp_up: 5s\n", 2, 12, "load.ramp_up", "set rate", ""},
		// Negative numbers.
		{"negative concurrency", "load:\n  concurrency: -1\n", 2, 16, "load.concurrency", "is negative", ""},
		// Repeat out of range.
		{"repeat", "repeat: 5000\n", 1, 9, "repeat", "out of range", ""},
		// A rule naming an unknown axis, located at the key.
		{"rule unknown axis", "exclude:\n  - {tls: 1.2, groups: p256}\n", 2, 16, "exclude[0].groups", `unknown axis "groups" (did you mean "group"?)`, "tls, cipher"},
		// A rule value is checked like a matrix value.
		{"rule unknown value", "include:\n  - tls: 1.2\n    resume: sometimes\n", 3, 13, "include[0].resume", `unknown resume "sometimes"`, "tickets"},
		// An empty rule would match everything.
		{"empty rule", "exclude:\n  - {}\n", 2, 5, "exclude[0]", "would match every case", ""},
		// A rule value that is a list.
		{"rule list value", "exclude:\n  - tls: [1.2, 1.3]\n", 2, 10, "exclude[0].tls", "want one value, got a list", ""},
		// An empty list item.
		{"empty item", "matrix:\n  tls:\n    -\n    - 1.3\n", 3, 6, "matrix.tls[0]", "empty list item", ""},
		// A second YAML document.
		{"two documents", "name: a\n---\nname: b\n", 2, 1, "", "a second YAML document", ""},
		// YAML syntax errors carry the line the parser names (where the open
		// flow sequence began).
		{"syntax", "matrix:\n  tls: [1.2\n", 1, 0, "", "YAML syntax", ""},
		// The root must be a mapping.
		{"root list", "- a\n- b\n", 1, 1, "", "want a mapping of scenario fields, got a list", "matrix"},
		// cpus must be a CPU list.
		{"cpus", "target:\n  cpus: two\n", 2, 9, "target.cpus", "not a CPU number", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "s.yaml")
			errs := problemsOf(t, err)
			for _, e := range errs {
				if e.Field == tt.field && e.Line == tt.line && e.Column == tt.col && strings.Contains(e.Message, tt.msg) && strings.Contains(e.Accepted, tt.accepted) {
					if e.Source != "s.yaml" {
						t.Errorf("Source = %q, want s.yaml", e.Source)
					}
					if !strings.HasPrefix(e.Error(), "s.yaml:") {
						t.Errorf("Error() = %q, want it to start with the file name", e.Error())
					}
					return
				}
			}
			t.Errorf("want %d:%d %s: %q (accepted %q); got:\n%v", tt.line, tt.col, tt.field, tt.msg, tt.accepted, err)
		})
	}
}

// TestParseReportsAll checks that every problem is reported, in file
// order, not just the first.
func TestParseReportsAll(t *testing.T) {
	src := `name: many
load:
  duration: 10
  concurrency: x
matrix:
  tls: [1.4]
  group: [x448]
  server_key: [rsa1024]
exclude:
  - {foo: bar}
`
	_, err := Parse([]byte(src), "many.yaml")
	errs := problemsOf(t, err)
	wantFields := []string{"load.duration", "load.concurrency", "matrix.tls[0]", "matrix.group[0]", "matrix.server_key[0]", "exclude[0].foo"}
	if len(errs) != len(wantFields) {
		t.Fatalf("got %d problems, want %d:\n%v", len(errs), len(wantFields), err)
	}
	for i, e := range errs {
		if e.Field != wantFields[i] {
			t.Errorf("problem %d is about %s, want %s", i, e.Field, wantFields[i])
		}
	}
	if !strings.HasPrefix(err.Error(), "6 problems in the scenario:\n  many.yaml:3:13: load.duration:") {
		t.Errorf("Error() =\n%s", err)
	}
}

// TestParseNoCascade checks that a value that failed to decode does not
// cause a second, confusing error about the same field.
func TestParseNoCascade(t *testing.T) {
	src := "target:\n  kind: external\n  addr: [a, b]\n  cert: c\n  key: k\n  ca: a\n"
	errs := problemsOf(t, func() error { _, err := Parse([]byte(src), "s.yaml"); return err }())
	if len(errs) != 1 || errs[0].Field != "target.addr" || !strings.Contains(errs[0].Message, "want a single value") {
		t.Errorf("got %v, want one type error on target.addr", Errors(errs))
	}
}

// TestParseValues checks that valid spellings are accepted and keep their
// meaning: scalars for one-value lists, aliases and merge keys, durations.
func TestParseValues(t *testing.T) {
	src := `
description: all the spellings
defaults: &load
  duration: 3s
  warmup: 500ms
  concurrency: 8
load:
  <<: *load
  concurrency: 16   # the mapping's own value wins over the merged one
target:
  kind: builtin
  handshake_delay: 1ms
matrix:
  tls: 1.3            # a single value is a list of one
  group: [P-256, X25519MLKEM768]
  resume: [none, "80%", 0.5, 1]
  cipher: any
  client_identities: 10
`
	// "defaults" is not a field: anchors must live somewhere known.
	if _, err := Parse([]byte(src), "v.yaml"); err == nil || !strings.Contains(err.Error(), `unknown field "defaults"`) {
		t.Fatalf("want an unknown-field error for defaults, got %v", err)
	}
	src = strings.Replace(src, "defaults: &load", "load: &load", 1)
	src = strings.Replace(src, "load:\n  <<: *load", "xload:\n  <<: *load", 1)
	if _, err := Parse([]byte(src), "v.yaml"); err == nil {
		t.Fatal("want an error for xload")
	}

	src = `
name: merged
target: &t
  kind: builtin
load:
  <<: {duration: 3s, concurrency: 8}
  concurrency: 16
matrix:
  tls: 1.3
  group: [P-256, X25519MLKEM768]
  resume: [none, "80%", 0.5, 1]
  cipher: any
  client_identities: 10
`
	spec, err := Parse([]byte(src), "dir/v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Load.Duration.D() != 3*time.Second || spec.Load.Concurrency != 16 {
		t.Errorf("load = %+v, want duration 3s (merged) and concurrency 16 (own)", spec.Load)
	}
	if got := strings.Join(spec.Matrix.TLS, ","); got != "1.3" {
		t.Errorf("tls = %q", got)
	}
	if got := strings.Join(spec.Matrix.Resume, ","); got != "none,80%,0.5,1" {
		t.Errorf("resume = %q (values are kept as written; Expand normalises)", got)
	}
	if len(spec.Matrix.ClientIdentities) != 1 || spec.Matrix.ClientIdentities[0] != 10 {
		t.Errorf("client_identities = %v", spec.Matrix.ClientIdentities)
	}
	if spec.Source() != "dir/v.yaml" {
		t.Errorf("Source() = %q", spec.Source())
	}

	// A spec without a name takes the file's base name.
	spec, err = Parse([]byte("matrix: {tls: 1.3}\n"), "some/dir/tls-only.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != "tls-only" {
		t.Errorf("Name = %q, want tls-only", spec.Name)
	}
}

// TestParseEmpty checks that an empty file is an error, not a silent
// default run.
func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "---\n"} {
		if _, err := Parse([]byte(src), "e.yaml"); err == nil || !strings.Contains(err.Error(), "e.yaml") {
			t.Errorf("Parse(%q) = %v, want an error naming the file", src, err)
		}
	}
}

// TestAliasBomb checks that aliases standing for a huge tree are not
// expanded: the decoder walks only as deep as the Spec's types go.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: &n0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, "description: &n%d [", i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*n%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("matrix:\n  tls: *n11\n  group: [*n11, *n11]\n")
	start := time.Now()
	_, err := Parse([]byte(b.String()), "bomb.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestStalePositions checks that an error about a value changed after
// parsing (a flag override) does not point at the file's old line.
func TestStalePositions(t *testing.T) {
	spec, err := Parse([]byte("load:\n  duration: 2s\n  warmup: 1s\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec.Load.Count = 100 // as --count would
	errs := problemsOf(t, spec.Validate())
	if e := errs[0]; e.Field != "load.count" || e.Line != 0 || !strings.Contains(e.Message, "duration at line 2") {
		t.Errorf("got %+v, want load.count without a position, naming duration's line", e)
	}
	spec.Load.Count = 0
	spec.Load.Duration = Duration(-time.Second)
	errs = problemsOf(t, spec.Validate())
	if e := errs[0]; e.Field != "load.duration" || e.Line != 0 {
		t.Errorf("got %+v, want load.duration without a position (the value is not the file's)", e)
	}
	if got := errs[0].Error(); got != "p.yaml: load.duration: duration -1s is negative" {
		t.Errorf("Error() = %q", got)
	}
}

// TestLoad checks Load's name-or-path lookup and its errors.
func TestLoad(t *testing.T) {
	spec, err := Load("quick")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != "quick" || spec.Source() != "library/quick.yaml" {
		t.Errorf("Load(quick) = %q from %q", spec.Name, spec.Source())
	}

	_, err = Load("quik")
	e := problemsOf(t, err)[0]
	if !strings.Contains(e.Error(), "no built-in scenario by that name and no such file") || !strings.Contains(e.Accepted, "quick, resumption") {
		t.Errorf("Load(quik) = %v", err)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(path, []byte("matrix:\n  tls: [1.2]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec, err = Load(path)
	if err != nil || spec.Name != "mine" {
		t.Fatalf("Load(%s) = %v, %v", path, spec, err)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	e = problemsOf(t, err)[0]
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(e.Error(), "cannot read the scenario file") {
		t.Errorf("Load(missing) = %v", err)
	}
}

// TestDurationJSON checks that durations serialise as text in results.
func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(LoadSpec{Duration: Duration(1500 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"duration":"1.5s"}` {
		t.Errorf("json = %s", b)
	}
	var l LoadSpec
	if err := json.Unmarshal([]byte(`{"duration":"2s","warmup":"0"}`), &l); err != nil || l.Duration.D() != 2*time.Second {
		t.Errorf("unmarshal = %+v, %v", l, err)
	}
	if err := json.Unmarshal([]byte(`{"duration":"2"}`), &l); err == nil {
		t.Error("unmarshal of a duration without unit succeeded")
	}

	// A whole spec, as results record it.
	spec, err := Load("groups-pq")
	if err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"groups-pq"`, `"load":{"duration":"5s","warmup":"1s"}`, `"include":[{"group":"p256","key_share":"x25519"}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("json lacks %s:\n%s", want, b)
		}
	}
}

// TestLongValuesClipped checks that a huge value does not make a huge
// error message.
func TestLongValuesClipped(t *testing.T) {
	long := strings.Repeat("x", 100000)
	_, err := Parse([]byte("matrix:\n  group: ["+long+"]\n"+long+": 1\n"), "l.yaml")
	for _, e := range problemsOf(t, err) {
		if len(e.Error()) > 500 {
			t.Errorf("message of %d bytes: %.100s...", len(e.Error()), e.Error())
		}
	}
}
