package scenarios

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Error is one problem with a scenario: what is wrong, where it was
// written, and what would be accepted. It renders as a compiler does,
//
//	quick.yaml:12:9: matrix.group[1]: unknown group "x448" (accepted: x25519, p256, ...)
//
// so editors can jump to it. Every error this package returns for bad input
// is an *Error, alone or in an Errors list (errors.As finds it in both).
type Error struct {
	// Source is the file or library name; empty for a Spec built in code.
	Source string
	// Line and Column are 1-based; zero when unknown (the value was set in
	// code or by a flag, not read from the file).
	Line, Column int
	// Field is the path of the value in the file: "load.duration",
	// "matrix.tls[1]", "exclude[0].group". Empty for the whole file.
	Field string
	// Message says what is wrong and how to fix it.
	Message string
	// Accepted lists the accepted values, when there is such a list.
	Accepted string
	// Err is the underlying cause (e.g. an fs.PathError), if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Source != "" && e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", e.Source, e.Line, e.Column)
	case e.Source != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.Source, e.Line)
	case e.Source != "":
		b.WriteString(e.Source + ": ")
	default:
		b.WriteString("scenarios: ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	if e.Accepted != "" {
		b.WriteString(" (accepted: " + e.Accepted + ")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in one pass, in file order. Parse,
// Validate and Expand report all they find (up to maxErrors) rather than
// stop at the first.
type Errors []*Error

// shownErrors is how many problems Errors.Error prints before "and N more".
const shownErrors = 10

func (l Errors) Error() string {
	if len(l) == 1 {
		return l[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems in the scenario:", len(l))
	for i, e := range l {
		if i == shownErrors {
			fmt.Fprintf(&b, "\n  ... and %d more", len(l)-shownErrors)
			break
		}
		b.WriteString("\n  " + e.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find each *Error.
func (l Errors) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// maxErrors bounds how many problems one pass collects, so a pathological
// file costs bounded memory.
const maxErrors = 100

// asError returns nil, the single *Error, or the Errors list sorted by
// position (errors without a position last, in the order found).
func asError(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	sorted := append(Errors(nil), errs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return sorted
}

// position is where a value was written, and the value decoded there: a
// caller that changes the field afterwards (a flag override) makes the
// position stale, and errors about the new value then carry none.
type position struct {
	line, column int
	value        any
}

// positions maps a field path ("matrix.tls[1]") to where it was written.
// A mapping key's own position is under path + keySuffix.
type positions map[string]position

const keySuffix = "#key"

// problems collects errors about one Spec, locating them through its
// recorded positions.
type problems struct {
	spec *Spec
	// quiet holds paths that already have an error (a decoding one): later
	// checks say nothing more about them or what they contain.
	quiet map[string]bool
	errs  []*Error
	seen  map[string]bool
}

// add records a problem with field, whose current value is cur (nil: the
// position is used whatever the value).
func (p *problems) add(field string, cur any, msg, accepted string) {
	p.addAt(field, field, cur, msg, accepted)
}

// addAt records a problem with field, located where the value at path was
// written (a missing field is reported where its neighbour is).
func (p *problems) addAt(field, path string, cur any, msg, accepted string) {
	if p.isQuiet(field) || len(p.errs) >= maxErrors {
		return
	}
	e := &Error{Field: field, Message: msg, Accepted: accepted}
	if p.spec != nil {
		e.Source = p.spec.source
		if pos, ok := p.spec.pos[path]; ok && (cur == nil || pos.value == nil || sameValue(pos.value, cur)) {
			e.Line, e.Column = pos.line, pos.column
		}
		for path, flag := range p.spec.flags {
			if field == path || within(field, path) {
				// Set by a flag: name it and its value, not the file.
				e.Source, e.Line, e.Column, e.Field = strings.TrimSpace(flag+" "+flagValue(cur)), 0, 0, ""
				break
			}
		}
	}
	id := e.Error()
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	if p.seen[id] {
		return
	}
	p.seen[id] = true
	p.errs = append(p.errs, e)
}

// flagValue writes a value as a flag would have been given it.
func flagValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []float64:
		parts := make([]string, len(v))
		for i, f := range v {
			parts[i] = strconv.FormatFloat(f, 'g', -1, 64)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// sameValue reports whether a value read from the file (pos.value) is
// still the field's value; 100 read as an int matches "100" as a string.
func sameValue(read, cur any) bool {
	return reflect.DeepEqual(read, cur) || fmt.Sprint(read) == fmt.Sprint(cur)
}

func (p *problems) isQuiet(field string) bool {
	for q := range p.quiet {
		if q == field || within(field, q) || within(q, field) {
			return true
		}
	}
	return false
}

// within reports whether path lies inside parent ("a.b[2]" is within "a.b"
// and "a").
func within(path, parent string) bool {
	return strings.HasPrefix(path, parent) && len(path) > len(parent) &&
		(path[len(parent)] == '.' || path[len(parent)] == '[')
}

// index returns path[i].
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// line returns the line where path was written, for "first at line N".
func (s *Spec) line(path string) int {
	if s == nil {
		return 0
	}
	return s.pos[path].line
}
