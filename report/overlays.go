package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mtlsbench/mtlsbench/results"
)

// ParamNameError reports a GroupBy name that is not a case parameter.
type ParamNameError struct{ Name string }

func (e *ParamNameError) Error() string {
	return fmt.Sprintf("report: %q is not a case parameter (accepted: %s, or none)", e.Name, strings.Join(results.ParamNames(), ", "))
}

// CheckGroupBy returns a *ParamNameError for the first name in groupBy that
// is not a case parameter (or "none").
func CheckGroupBy(groupBy []string) error {
	for _, name := range groupBy {
		if name == "none" {
			continue
		}
		if !slices.Contains(results.ParamNames(), name) {
			return &ParamNameError{Name: name}
		}
	}
	return nil
}

// overlay is one percentile plot overlaying several cases (their Repeats).
type overlay struct {
	title string
	sets  []int
}

// overlays chooses the overlay plots for sets (see RenderOptions.GroupBy).
func overlays(sets []results.Repeats, groupBy []string) ([]overlay, error) {
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
			v, _ := s.Cases[0].Params.Lookup(name)
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
func autoGroupBy(sets []results.Repeats) []string {
	if len(sets) <= maxAutoLines {
		return []string{}
	}
	type varying struct {
		name     string
		distinct int
		values   []string
	}
	var vary []varying
	for _, name := range results.ParamNames() {
		seen := map[string]bool{}
		values := make([]string, len(sets))
		for i, s := range sets {
			values[i], _ = s.Cases[0].Params.Lookup(name)
			seen[values[i]] = true
		}
		if len(seen) > 1 {
			vary = append(vary, varying{name, len(seen), values})
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
func legendLabels(sets []results.Repeats, members []int) (labels []string, common string) {
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = sets[m].Name
	}
	labels, common, _ = shortenLabels(names)
	return labels, common
}
