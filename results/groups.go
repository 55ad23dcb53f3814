package results

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// caseSet is every repeat of one case: the cases of a run that share a key.
// Charts draw one line or bar per set, compare treats the repeats as
// samples.
type caseSet struct {
	key   string
	name  string
	cases []*Case
}

// caseKey is what compare and merge match cases by: Key, or the name for a
// result written without keys.
func caseKey(c *Case) string {
	if c.Key != "" {
		return c.Key
	}
	return c.Name
}

// caseSets groups run's cases by key, in order of first appearance.
func caseSets(run *Run) []caseSet {
	var sets []caseSet
	index := map[string]int{}
	for i := range run.Cases {
		c := &run.Cases[i]
		k := caseKey(c)
		j, ok := index[k]
		if !ok {
			j = len(sets)
			index[k] = j
			sets = append(sets, caseSet{key: k, name: c.Name})
		}
		sets[j].cases = append(sets[j].cases, c)
	}
	return sets
}

// histogram merges the repeats' histograms of one phase; nil when no repeat
// has one.
func (s caseSet) histogram(phase func(*Latency) *Summary) (*hdrhistogram.Histogram, error) {
	var merged *hdrhistogram.Histogram
	for _, c := range s.cases {
		sum := phase(&c.Latency)
		if sum == nil {
			continue
		}
		h, err := sum.Histogram()
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
		if h == nil {
			continue
		}
		if merged == nil {
			merged = NewHistogram()
		}
		merged.Merge(h)
	}
	return merged, nil
}

// median is the median over the repeats of a per-case figure.
func (s caseSet) median(f func(*Case) float64) float64 {
	values := make([]float64, len(s.cases))
	for i, c := range s.cases {
		values[i] = f(c)
	}
	return median(values)
}

func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// paramFields are Params' JSON names in field order, with their index.
var paramFields = func() []struct {
	name  string
	index int
} {
	t := reflect.TypeFor[Params]()
	var fields []struct {
		name  string
		index int
	}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		fields = append(fields, struct {
			name  string
			index int
		}{name, i})
	}
	return fields
}()

// ParamNames lists the case parameters by their JSON names ("tls_version",
// "key_type", ...): the names RenderOptions.GroupBy accepts.
func ParamNames() []string {
	names := make([]string, len(paramFields))
	for i, f := range paramFields {
		names[i] = f.name
	}
	return names
}

// paramValue is the parameter's value as text; ok is false for an unknown
// name.
func paramValue(p *Params, name string) (value string, ok bool) {
	for _, f := range paramFields {
		if f.name == name {
			return fmt.Sprint(reflect.ValueOf(p).Elem().Field(f.index).Interface()), true
		}
	}
	return "", false
}

// ParamNameError reports a GroupBy name that is not a case parameter.
type ParamNameError struct{ Name string }

func (e *ParamNameError) Error() string {
	return fmt.Sprintf("results: %q is not a case parameter (accepted: %s, or none)", e.Name, strings.Join(ParamNames(), ", "))
}

// CheckGroupBy returns a *ParamNameError for the first name in groupBy that
// is not a case parameter (or "none").
func CheckGroupBy(groupBy []string) error {
	for _, name := range groupBy {
		if name == "none" {
			continue
		}
		if _, ok := paramValue(&Params{}, name); !ok {
			return &ParamNameError{Name: name}
		}
	}
	return nil
}

// overlay is one percentile plot overlaying several case sets.
type overlay struct {
	title string
	sets  []int
}

// overlays chooses the overlay plots for sets (see RenderOptions.GroupBy).
func overlays(sets []caseSet, groupBy []string) ([]overlay, error) {
	if err := CheckGroupBy(groupBy); err != nil {
		return nil, err
	}
	if len(groupBy) == 1 && groupBy[0] == "none" {
		groupBy = []string{}
	}
	if groupBy == nil {
		groupBy = autoGroupBy(sets)
	}
	var groups []overlay
	index := map[string]int{}
	for i, s := range sets {
		var parts []string
		for _, name := range groupBy {
			v, _ := paramValue(&s.cases[0].Params, name)
			parts = append(parts, name+"="+orDash(v))
		}
		title := strings.Join(parts, ", ")
		if title == "" {
			title = "all cases"
		}
		j, ok := index[title]
		if !ok {
			j = len(groups)
			index[title] = j
			groups = append(groups, overlay{title: title})
		}
		groups[j].sets = append(groups[j].sets, i)
	}
	return groups, nil
}

// maxAutoLines is how many cases autoGroupBy puts on one plot before it
// splits them.
const maxAutoLines = 6

// autoGroupBy puts up to maxAutoLines cases on one plot. Past that it
// overlays the parameter with the most distinct values (ties go to the
// earlier field) and groups by every other parameter that varies, so a
// key-type matrix gives one plot per TLS version and resume mode, each
// with every key type.
func autoGroupBy(sets []caseSet) []string {
	if len(sets) <= maxAutoLines {
		return []string{}
	}
	type varying struct {
		name     string
		distinct int
		values   []string
	}
	var vary []varying
	for _, f := range paramFields {
		seen := map[string]bool{}
		values := make([]string, len(sets))
		for i, s := range sets {
			values[i], _ = paramValue(&s.cases[0].Params, f.name)
			seen[values[i]] = true
		}
		if len(seen) > 1 {
			vary = append(vary, varying{f.name, len(seen), values})
		}
	}
	if len(vary) <= 1 {
		return []string{}
	}
	overlaid := 0
	for i, v := range vary {
		if v.distinct > vary[overlaid].distinct {
			overlaid = i
		}
	}
	// Group by the other varying parameters, skipping those that vary in
	// step with one already chosen (key_type and client_key_type in a
	// key-type matrix): they would split nothing further.
	groupBy := []string{}
	chosen := []varying{vary[overlaid]}
	for i, v := range vary {
		if i == overlaid {
			continue
		}
		alias := false
		for _, c := range chosen {
			alias = alias || sameAxis(c.values, v.values)
		}
		if !alias {
			groupBy = append(groupBy, v.name)
			chosen = append(chosen, v)
		}
	}
	return groupBy
}

// sameAxis reports whether two parameters' values over the same sets
// correspond one to one: they vary together, as one axis of the matrix.
func sameAxis(a, b []string) bool {
	ab, ba := map[string]string{}, map[string]string{}
	for i := range a {
		if v, ok := ab[a[i]]; ok && v != b[i] {
			return false
		}
		if v, ok := ba[b[i]]; ok && v != a[i] {
			return false
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return true
}

// legendLabels names the sets on one plot: their names without the words
// they all share, which it returns as common.
func legendLabels(sets []caseSet, members []int) (labels []string, common string) {
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = sets[m].name
	}
	labels, common, _ = shortenLabels(names)
	return labels, common
}
