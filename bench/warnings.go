package bench

import (
	"fmt"
	"strings"
)

// warnings gathers a run's warnings so that each is printed once: the
// first time it comes, with its case ("mtlsbench: CASE: TEXT"), and, if
// more cases had it, once more at the end of the run with all of them:
//
//	mtlsbench: warning for 3 cases (a, b, c): TEXT
//
// A CI log then reads the warning where it first happened and, at the
// end, how far it went; a terminal does not scroll a warning per case.
type warnings struct {
	order []string            // texts, in the order first seen
	cases map[string][]string // text → the cases it came with, each once
}

// maxNamed is how many cases a summary line names before "and N more".
const maxNamed = 8

// add notes that caseName had text, and reports whether text is new.
func (w *warnings) add(caseName, text string) bool {
	if w.cases == nil {
		w.cases = map[string][]string{}
	}
	names, seen := w.cases[text]
	if !seen {
		w.order = append(w.order, text)
	}
	for _, n := range names {
		if n == caseName {
			return false // a repeat of the same case
		}
	}
	w.cases[text] = append(names, caseName)
	return !seen
}

// summary is a line for each warning more than one case had.
func (w *warnings) summary() []string {
	var lines []string
	for _, text := range w.order {
		names := w.cases[text]
		if len(names) < 2 {
			continue
		}
		list := strings.Join(names[:min(len(names), maxNamed)], ", ")
		if more := len(names) - maxNamed; more > 0 {
			list += fmt.Sprintf(" and %d more", more)
		}
		lines = append(lines, fmt.Sprintf("mtlsbench: warning for %d cases (%s): %s", len(names), list, text))
	}
	return lines
}

// summarize logs the summary through logf.
func (w *warnings) summarize(logf func(format string, a ...any)) {
	for _, line := range w.summary() {
		logf("%s", line)
	}
}
