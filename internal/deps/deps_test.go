package deps

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/mtlsbench/mtlsbench"

// Libraries only the renderers and compare may use.
const (
	plotting   = "gonum.org/v1/plot"
	tables     = "github.com/olekukonko/tablewriter"
	statistics = "golang.org/x/perf"
)

// rules lists, per package of the module, the packages it must not depend
// on, directly or not (a path stands for itself and everything under it),
// and why.
var rules = []struct {
	pkg       string
	forbidden []string
	why       string
}{
	{"loadgen", []string{plotting, tables, statistics, module + "/report", module + "/compare"},
		"the engine fills the result model; it must not drag in renderers or statistics"},
	{"results", []string{module + "/report", module + "/compare", plotting, tables, statistics},
		"the result model renders nothing and judges nothing"},
	{"report", []string{module + "/compare", module + "/bench", module + "/cmd"},
		"renderers never judge (compare may import report, not the reverse) and run nothing"},
	{"compare", []string{module + "/bench", module + "/cmd"},
		"compare judges results; it runs nothing"},
	{"cmd/mtlsbench", []string{module + "/internal/resultstest", module + "/internal/testenv"},
		"test fixtures and test helpers stay out of the binary"},
	{"loadgen", []string{module + "/targets", module + "/scenarios", module + "/bench", "go.yaml.in/yaml"},
		"the engine drives one address; it knows no target, reads no scenario"},
	{"targets", []string{module + "/loadgen", module + "/bench"},
		"targets must not depend on the engine"},
	{"targets/builtin", []string{module + "/loadgen", module + "/bench"},
		"targets must not depend on the engine"},
	{"targets/managed", []string{module + "/loadgen", module + "/bench"},
		"targets must not depend on the engine"},
	{"scenarios", []string{module + "/targets", module + "/bench", module + "/report", module + "/compare"},
		"the scenario format runs nothing and renders nothing"},
	{"capacity", []string{module + "/results", module + "/bench", module + "/loadgen"},
		"the search is pure: it sees measurements, not results or load"},
	{"tlsparams", []string{module + "/loadgen", module + "/targets", module + "/scenarios"},
		"the owner of TLS parameters and capabilities sits below every stack"},
	{"internal/rendezvous", []string{module + "/loadgen", module + "/targets", module + "/scenarios", module + "/bench"},
		"the start barrier knows shards and instants, not load, targets or cases"},
	{"k8s", []string{module + "/bench", module + "/loadgen", module + "/targets", module + "/report", module + "/compare", "k8s.io/client-go"},
		"k8s writes objects and reads results through kubectl: it runs no load, renders no report, links no cluster client"},
	{"loadgen", []string{"k8s.io", "sigs.k8s.io"},
		"the engine knows nothing of where it is deployed"},
	{"results", []string{"k8s.io", "sigs.k8s.io", module + "/k8s"},
		"the result model knows nothing of where it was made"},
	{"live", []string{module + "/bench", module + "/cmd", module + "/targets", module + "/scenarios", module + "/report", module + "/compare", plotting, tables},
		"live outputs show a run as it happens from the result model and the engine's progress: they run nothing and render no report"},
	{"loadgen", []string{"github.com/prometheus", module + "/live"},
		"the engine knows no exposition format: live watches it through bench"},
	{"results", []string{"github.com/prometheus", module + "/live"},
		"the result model knows nothing of live outputs"},
	{"cmd/mtlsbench", []string{module + "/internal/osslsign/cmalloc"},
		"the C allocator's counter is a leak check for tests"},
}

// pure packages do no I/O: their direct imports include none of these.
var pure = map[string][]string{
	"capacity":  {"os", "os/exec", "net", "io/fs"},
	"tlsparams": {"os", "os/exec", "net", "io/fs"},
}

// TestNothingImportsBenchOrCmd: dependencies point down. Only the CLI
// imports bench, and nothing imports the CLI.
func TestNothingImportsBenchOrCmd(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		name, imports, _ := strings.Cut(strings.TrimSpace(line), "|")
		// A test variant is "p [p.test]", a test main "p.test", an
		// external test package "p_test [p.test]": each is p's.
		pkg, _, _ := strings.Cut(name, " ")
		pkg = strings.TrimSuffix(strings.TrimSuffix(pkg, ".test"), "_test")
		for _, imp := range strings.Fields(imports) {
			switch {
			case imp == module+"/bench" && pkg != module+"/bench" && pkg != module+"/cmd/mtlsbench":
				t.Errorf("%s imports bench: only the CLI may", name)
			case strings.HasPrefix(imp, module+"/cmd/") && !strings.HasPrefix(pkg, module+"/cmd/"):
				t.Errorf("%s imports %s: nothing imports the CLI", name, imp)
			}
		}
	}
}

// TestPurePackagesDoNoIO: the search and the TLS parameters are pure
// functions of their inputs.
func TestPurePackagesDoNoIO(t *testing.T) {
	for pkg, forbidden := range pure {
		out, err := exec.Command("go", "list", "-f", "{{range .Imports}}{{.}} {{end}}", module+"/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if imp == f {
					t.Errorf("%s imports %s: it does no I/O", pkg, imp)
				}
			}
		}
	}
}

// TestDependencyRules checks every rule against the dependencies go list
// reports: each package's Deps, what 'go list -deps' lists for it.
func TestDependencyRules(t *testing.T) {
	args := []string{"list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}"}
	for _, r := range rules {
		args = append(args, module+"/"+r.pkg)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			deps[fields[0]] = fields[1:]
		}
	}
	for _, r := range rules {
		pkg := module + "/" + r.pkg
		list, ok := deps[pkg]
		if !ok {
			t.Errorf("go list said nothing of %s", pkg)
			continue
		}
		for _, dep := range list {
			for _, f := range r.forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s: %s", r.pkg, dep, r.why)
				}
			}
		}
	}
}
