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
	{"cmd/mtlsbench", []string{module + "/internal/resultstest"},
		"test fixtures stay out of the binary"},
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
