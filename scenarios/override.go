package scenarios

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// SetAxis replaces the matrix axis name (one of AxisNames; "-" may stand
// for "_", so "key-share" is key_share) with values, checked as a file's
// values are: this is how command-line flags override a scenario
// (--tls 1.2,1.3 → SetAxis("tls", []string{"1.2", "1.3"})). Nil or empty
// values clear the axis back to its default. On error the spec is
// unchanged; every bad value is reported, each an *Error whose Field is
// the axis name and whose Message quotes the value (see Error.ForFlag to
// present it as a flag's).
//
// Exclude and include rules stay and apply to the new values. The axis
// keeps its place in the expansion order, but its values' positions in the
// file are forgotten: errors about them no longer point there.
func (s *Spec) SetAxis(name string, values []string) error {
	ax, ok := axisByName(strings.ReplaceAll(name, "-", "_"))
	if !ok {
		return &Error{Field: name, Message: fmt.Sprintf("unknown matrix axis %q", clip(name)), Accepted: strings.Join(AxisNames(), ", ")}
	}
	var errs []*Error
	seen := map[string]string{}
	var canon []string
	for _, v := range values {
		c, msg, accepted := axes[ax].parse(v)
		switch {
		case msg != "":
			errs = append(errs, &Error{Field: name, Message: msg, Accepted: accepted})
		case seen[c] != "":
			errs = append(errs, &Error{Field: name, Message: fmt.Sprintf("%q is listed twice (also as %q); keep one", clip(v), clip(seen[c]))})
		default:
			seen[c] = v
			canon = append(canon, c)
		}
	}
	if err := asError(errs); err != nil {
		return err
	}
	m := &s.Matrix
	switch ax {
	case axTLS:
		m.TLS = canon
	case axCipher:
		m.Cipher = canon
	case axGroup:
		m.Group = canon
	case axKeyShare:
		m.KeyShare = canon
	case axServerKey:
		m.ServerKey = canon
	case axClientKey:
		m.ClientKey = canon
	case axChain:
		m.Chain = canon
	case axIdentities:
		m.ClientIdentities = atois(canon)
	case axResume:
		m.Resume = canon
	case axRequests:
		m.Requests = atois(canon)
	}
	// Copy on write: a Spec copied before this call keeps its positions.
	field := "matrix." + axes[ax].name
	pos := make(positions, len(s.pos))
	for path, p := range s.pos {
		if path != field && !within(path, field) {
			pos[path] = p
		}
	}
	s.pos = pos
	return nil
}

// atois converts canonical (already checked) integers.
func atois(s []string) []int {
	if len(s) == 0 {
		return nil
	}
	out := make([]int, len(s))
	for i, v := range s {
		out[i], _ = strconv.Atoi(v)
	}
	return out
}

// ForFlag returns a copy of e that reads as a problem with a command-line
// flag's value: "--tls: unknown TLS version "1.4" (accepted: 1.2, 1.3)".
func (e *Error) ForFlag(flag string) *Error {
	c := *e
	c.Source, c.Line, c.Column, c.Field = flag, 0, 0, ""
	return &c
}

// Clone returns a deep copy of s: changing one's slices, rules or fields
// leaves the other as it was.
func (s *Spec) Clone() *Spec {
	c := *s
	c.Target.PIDs = cloneSlice(s.Target.PIDs)
	c.Load.Steps = cloneSlice(s.Load.Steps)
	c.Capacity.Project = cloneSlice(s.Capacity.Project)
	m := &c.Matrix
	m.TLS, m.Cipher, m.Group, m.KeyShare = cloneSlice(m.TLS), cloneSlice(m.Cipher), cloneSlice(m.Group), cloneSlice(m.KeyShare)
	m.ServerKey, m.ClientKey, m.Chain, m.Resume = cloneSlice(m.ServerKey), cloneSlice(m.ClientKey), cloneSlice(m.Chain), cloneSlice(m.Resume)
	m.ClientIdentities, m.Requests = cloneSlice(m.ClientIdentities), cloneSlice(m.Requests)
	c.Exclude, c.Include = cloneRules(s.Exclude), cloneRules(s.Include)
	return &c
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}

func cloneRules(rules []Rule) []Rule {
	if rules == nil {
		return nil
	}
	out := make([]Rule, len(rules))
	for i, r := range rules {
		out[i] = maps.Clone(r)
	}
	return out
}
