package scenarios

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

var update = flag.Bool("update", false, "rewrite testdata/library.golden")

// TestLibrary checks that every embedded scenario parses, expands without
// error, is named after its file, says what it is in one line and explains
// itself in comments.
func TestLibrary(t *testing.T) {
	entries := Library()
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	for _, want := range []string{"quick", "versions", "key-types", "groups-pq", "resumption", "chain-depth", "identities", "clients"} {
		if !slices.Contains(names, want) {
			t.Errorf("library has no %q (has %v)", want, names)
		}
	}
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			spec, err := Load(e.Name)
			if err != nil {
				t.Fatal(err)
			}
			if spec.Name != e.Name {
				t.Errorf("name: %q in file %s.yaml", spec.Name, e.Name)
			}
			if e.Description == "" || strings.Contains(e.Description, "\n") || len(e.Description) > 100 {
				t.Errorf("description %q: want one line of at most 100 characters", e.Description)
			}
			if !bytes.HasPrefix(e.Source, []byte("# "+e.Name+" — ")) {
				t.Errorf("file does not open with a comment '# %s — ...' saying what it measures", e.Name)
			}
			cases, _, err := Expand(*spec)
			if err != nil {
				t.Fatal(err)
			}
			checkUnique(t, cases, nil)
			if data, err := Show(e.Name); err != nil || !bytes.Equal(data, e.Source) {
				t.Errorf("Show = %d bytes, %v", len(data), err)
			}
		})
	}
	if _, err := Show("nope"); err == nil || !strings.Contains(err.Error(), "quick") {
		t.Errorf("Show(nope) = %v, want an error listing the library", err)
	}
	if _, err := Show("../library/quick"); err == nil {
		t.Error("Show accepted a path")
	}
}

// TestQuick checks the default run: TLS 1.2 and 1.3 × full and resumed,
// ECDSA P-256, X25519, builtin target, and short enough to finish in
// under 30 s with the target's start-up.
func TestQuick(t *testing.T) {
	spec, err := Load(DefaultScenario)
	if err != nil {
		t.Fatal(err)
	}
	cases, skipped, err := Expand(*spec)
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	var total time.Duration
	for _, c := range cases {
		if c.ServerKey != pki.ECDSAP256 || c.Group.Name != "x25519" || c.Target.Kind != KindBuiltin {
			t.Errorf("%s: %s", c.Name, c.Key)
		}
		if c.Load.Duration.D() == 0 || c.Load.Count != 0 {
			t.Errorf("%s: want a time-bound window, got %+v", c.Name, c.Load)
		}
		total += c.Load.Duration.D() + c.Load.Warmup.D()
	}
	if len(cases) != 4 {
		t.Errorf("quick has %d cases, want 4", len(cases))
	}
	if total > 20*time.Second {
		t.Errorf("quick measures for %v; with start-up it must stay under 30 s", total)
	}
}

// TestKeyTypesScenario checks key-types: one case per key type, server and
// client alike.
func TestKeyTypesScenario(t *testing.T) {
	spec, err := Load("key-types")
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	var got []pki.KeyType
	for _, c := range cases {
		if c.ClientKey != c.ServerKey {
			t.Errorf("%s: client key %s", c.Name, c.ClientKey)
		}
		got = append(got, c.ServerKey)
	}
	if !slices.Equal(got, pki.KeyTypes()) {
		t.Errorf("key types %v, want %v", got, pki.KeyTypes())
	}
}

// TestLibraryGolden pins every library scenario's case names and keys:
// results are compared by key and read by name, so a change here changes
// what old results match. Regenerate with go test -run LibraryGolden
// -update ./scenarios after checking the diff.
func TestLibraryGolden(t *testing.T) {
	var b strings.Builder
	for _, e := range Library() {
		spec, err := Load(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		cases, skipped, err := Expand(*spec)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== %s: %s\n", e.Name, e.Description)
		for _, c := range cases {
			fmt.Fprintf(&b, "%s\n    %s\n", c.Name, c.Key)
		}
		for _, s := range skipped {
			fmt.Fprintf(&b, "skipped %s\n    %s\n", s.Case.Name, s.Reason)
		}
	}
	path := filepath.Join("testdata", "library.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("library cases differ from %s (run with -update if intended):\n%s", path, got)
	}
}

// TestDocExample checks that the complete example in docs/scenarios.md
// parses and expands to what the text says.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "scenarios.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml example in docs/scenarios.md")
	}
	spec, err := Parse([]byte(example), "docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	cases, skipped, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 18 || len(skipped) != 5 || spec.Repeat != 3 {
		t.Errorf("the example gives %d cases, %d skipped, repeat %d; the text says 18, 5, 3", len(cases), len(skipped), spec.Repeat)
	}
}

// README's library table lists every embedded scenario and no other.
func TestREADMEListsTheLibrary(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const header = "| name | what it answers |"
	_, table, ok := strings.Cut(string(readme), header+"\n")
	if !ok {
		t.Fatalf("README has no library table (a line %q)", header)
	}
	var listed []string
	for line := range strings.SplitSeq(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		if rest, ok := strings.CutPrefix(line, "| `"); ok {
			name, _, _ := strings.Cut(rest, "`")
			listed = append(listed, name)
		}
	}
	var names []string
	for _, e := range Library() {
		names = append(names, e.Name)
		if !slices.Contains(listed, e.Name) {
			t.Errorf("README's library table has no row for %q", e.Name)
		}
	}
	for _, name := range listed {
		if !slices.Contains(names, name) {
			t.Errorf("README's library table lists %q, which is not in the library (%v)", name, names)
		}
	}
}
