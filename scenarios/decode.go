package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Parse reads one scenario from YAML and validates it. source names the
// data in errors (a file name); a Spec without a name takes source's base
// name without extension. Decoding is strict and goes through yaml.Node so
// every value keeps its position: an unknown field, a value of the wrong
// type or an unknown value is an *Error naming source:line:column, the
// field and the accepted values. Every problem found is reported (as
// Errors), not just the first.
//
// Parse checks everything that can be checked on the file alone; a
// combination of values that only fails once the matrix is expanded (a key
// share that cannot cause a HelloRetryRequest, a TLS 1.3 suite on a target
// that cannot pin it) is reported by Expand.
func Parse(data []byte, source string) (*Spec, error) {
	root, err := parseYAML(data, source)
	if err != nil {
		return nil, err
	}
	d := &decoder{source: source, pos: positions{}, failed: map[string]bool{}}
	spec := &Spec{source: source, pos: d.pos}
	d.value(root, nil, reflect.ValueOf(spec).Elem(), "")
	if spec.Name == "" && source != "" {
		base := filepath.Base(source)
		spec.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	p := &problems{spec: spec, quiet: d.failed, errs: d.errs}
	spec.check(p)
	if err := asError(p.errs); err != nil {
		return nil, err
	}
	return spec, nil
}

// LoadFile reads and parses the scenario file at path.
func LoadFile(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Source: path, Message: "cannot read the scenario file: " + errText(err), Err: err}
	}
	return Parse(data, path)
}

// errText is err's message without the path an fs.PathError repeats.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// maxScenarioBytes bounds a scenario file: real ones are a few KB.
const maxScenarioBytes = 1 << 20

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// parseYAML parses data into the root node of its one document.
func parseYAML(data []byte, source string) (root *yaml.Node, err error) {
	if len(data) > maxScenarioBytes {
		return nil, &Error{Source: source, Message: fmt.Sprintf("the file is %d bytes; a scenario is at most %d", len(data), maxScenarioBytes)}
	}
	syntax := func(err error) error {
		e := &Error{Source: source, Message: "YAML syntax: " + err.Error(), Err: err}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Message = "YAML syntax: " + m[2]
		}
		return e
	}
	// The YAML library is not ours; if some input makes it panic, that is
	// a bad file, not a crash of the program validating it.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Source: source, Message: fmt.Sprintf("YAML syntax: the parser failed on this input (%v)", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Source: source, Message: "the file is empty; a scenario needs at least a matrix or a load (see 'mtlsbench scenarios show quick')"}
		}
		return nil, syntax(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &Error{Source: source, Line: next.Line, Column: next.Column, Message: "a second YAML document starts here; a file holds one scenario (remove the '---' or split the file)"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntax(err)
	}
	root = &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, &Error{Source: source, Message: "the file has no scenario in it"}
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, &Error{Source: source, Line: root.Line, Column: root.Column, Message: "the file has no scenario in it, only comments"}
	}
	return root, nil
}

// maxNodes bounds the nodes visited, aliases expanded: a few aliases can
// otherwise stand for an exponential number of nodes.
const maxNodes = 100000

// maxMergeDepth bounds nested "<<" merge keys.
const maxMergeDepth = 10

// decoder walks a yaml.Node tree into a Go value by the yaml struct tags,
// recording each value's position and every problem.
type decoder struct {
	source string
	pos    positions
	errs   []*Error
	// failed holds paths that had an error, so checks after decoding say
	// nothing more about them.
	failed map[string]bool
	nodes  int
	merges int
	// exhausted is set once maxNodes is reached; decoding then stops.
	exhausted bool
}

func (d *decoder) fail(n *yaml.Node, path, msg, accepted string) {
	d.failed[path] = true
	if len(d.errs) >= maxErrors {
		return
	}
	e := &Error{Source: d.source, Field: path, Message: msg, Accepted: accepted}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// resolve follows aliases and counts the node against the budget; nil
// means stop.
func (d *decoder) resolve(n *yaml.Node, path string) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 100 {
			d.fail(n, path, "an alias that leads nowhere", "")
			return nil
		}
		n = n.Alias
	}
	if n == nil || d.exhausted {
		return nil
	}
	d.nodes++
	if d.nodes > maxNodes {
		d.exhausted = true
		d.fail(n, path, fmt.Sprintf("the document expands to more than %d values (through aliases?); a scenario is far smaller", maxNodes), "")
		return nil
	}
	return n
}

var durationType = reflect.TypeFor[Duration]()

// value decodes n into v (settable) at path. key is the mapping key n was
// found under, if any: a problem with a whole list or mapping is reported
// there.
func (d *decoder) value(n, key *yaml.Node, v reflect.Value, path string) {
	if n = d.resolve(n, path); n == nil {
		return
	}
	if isNull(n) {
		return // an empty value: the field keeps its zero value (its default)
	}
	at := n
	if key != nil && n.Kind != yaml.ScalarNode {
		at = key
	}
	if v.Type() == durationType {
		d.duration(n, v, path)
	} else {
		switch v.Kind() {
		case reflect.Struct:
			if n.Kind != yaml.MappingNode {
				d.fail(n, path, fmt.Sprintf("want a mapping of %s fields, got %s", fieldKind(path), describe(n)), fieldNames(v.Type()))
				return
			}
			d.mapping(n, v, path)
		case reflect.Slice:
			d.list(n, v, path)
		case reflect.Map:
			d.rule(n, v, path)
		case reflect.String:
			if n.Kind != yaml.ScalarNode {
				d.fail(at, path, "want a single value, got "+describe(n), "")
				return
			}
			v.SetString(n.Value)
		case reflect.Bool:
			var b bool
			if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
				d.fail(at, path, "want true or false, got "+describe(n), "")
				return
			}
			v.SetBool(b)
		case reflect.Int, reflect.Int64:
			var i int64
			if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
				d.fail(at, path, "want a whole number, got "+describe(n), "")
				return
			}
			v.SetInt(i)
		case reflect.Float64:
			var f float64
			if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				d.fail(at, path, "want a number, got "+describe(n), "")
				return
			}
			v.SetFloat(f)
		default:
			panic("scenarios: cannot decode into " + v.Type().String())
		}
	}
	if !d.failed[path] {
		var val any // the value, to tell later whether it is still the one written here
		if v.Kind() != reflect.Struct {
			val = v.Interface()
		}
		d.pos[path] = position{at.Line, at.Column, val}
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what a node holds, for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!null":
			return "nothing"
		}
		return strconv.Quote(clip(n.Value))
	}
	return "an unexpected YAML node"
}

// fieldKind names the struct a path holds, for messages.
func fieldKind(path string) string {
	if path == "" {
		return "scenario"
	}
	return path
}

// fieldNames lists a struct's yaml field names in declaration order.
func fieldNames(t reflect.Type) string {
	var names []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// mapping decodes a mapping node into struct v, refusing unknown and
// repeated fields. "<<" merge keys are honoured: fields written in the
// mapping itself win over merged ones, and earlier merged mappings over
// later ones, as YAML specifies.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	d.mappingInto(n, v, path, map[string]*yaml.Node{}, false)
}

// mappingInto decodes n's fields that are not in seen; merging is true for
// the mappings a merge key brings in.
func (d *decoder) mappingInto(n *yaml.Node, v reflect.Value, path string, seen map[string]*yaml.Node, merging bool) {
	var merges []*yaml.Node
	d.fields(n, v, v.Type(), path, seen, &merges, merging)
	if len(merges) == 0 {
		return
	}
	d.merges++
	defer func() { d.merges-- }()
	if d.merges > maxMergeDepth {
		d.fail(merges[0], path, fmt.Sprintf("merge keys (<<) nested more than %d deep", maxMergeDepth), "")
		return
	}
	for _, m := range merges {
		if m = d.resolve(m, path); m == nil {
			return
		}
		sources := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			sources = m.Content
		}
		for _, src := range sources {
			if src = d.resolve(src, path); src == nil {
				return
			}
			if src.Kind != yaml.MappingNode {
				d.fail(src, path, "a merge key (<<) takes a mapping or a list of mappings, got "+describe(src), "")
				continue
			}
			d.mappingInto(src, v, path, seen, true)
		}
	}
}

// fields decodes the key/value pairs of n into v. Fields already in seen
// are skipped when merging (the mapping's own value wins) and refused
// otherwise (a field given twice).
func (d *decoder) fields(n *yaml.Node, v reflect.Value, t reflect.Type, path string, seen map[string]*yaml.Node, merges *[]*yaml.Node, merging bool) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k = d.resolve(k, path); k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "a field name must be a plain word, got "+describe(k), fieldNames(t))
			continue
		}
		if k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "") {
			*merges = append(*merges, val)
			continue
		}
		field := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			if !merging {
				d.fail(k, field, fmt.Sprintf("given twice (first at line %d); keep one", first.Line), "")
			}
			continue
		}
		seen[k.Value] = k
		idx := -1
		for j := range t.NumField() {
			if name := yamlName(t.Field(j)); name != "" && name == k.Value {
				idx = j
				break
			}
		}
		if idx < 0 {
			msg := fmt.Sprintf("unknown field %q", clip(k.Value))
			if near := nearest(k.Value, strings.Split(fieldNames(t), ", ")); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			} else if hint := misplaced(k.Value, path); hint != "" {
				msg += hint
			}
			d.fail(k, field, msg, fieldNames(t))
			continue
		}
		d.pos[field+keySuffix] = position{k.Line, k.Column, nil}
		d.value(val, k, v.Field(idx), field)
	}
}

// misplaced says where a field that belongs elsewhere goes ("duration" at
// the top level belongs under load).
func misplaced(name, path string) string {
	homes := []struct {
		where string
		t     reflect.Type
	}{
		{"load", reflect.TypeFor[LoadSpec]()},
		{"target", reflect.TypeFor[TargetSpec]()},
		{"matrix", reflect.TypeFor[Matrix]()},
		{"capacity", reflect.TypeFor[CapacitySpec]()},
	}
	var found []string
	for _, h := range homes {
		if h.where == path {
			continue
		}
		for f := range strings.SplitSeq(fieldNames(h.t), ", ") {
			if f == name {
				found = append(found, h.where)
			}
		}
	}
	switch len(found) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (%s is a field of %s: move it there)", name, found[0])
	}
	// slo: load's is a run's pass/fail, capacity's what a rate must meet.
	return fmt.Sprintf(" (%s is a field of %s: move it to the one you mean)", name, strings.Join(found, " and of "))
}

// nearest returns the candidate within edit distance 2 of s, if exactly one
// is closest.
func nearest(s string, candidates []string) string {
	best, bestDist, tie := "", 3, false
	for _, c := range candidates {
		dist := editDistance(strings.ToLower(s), c)
		switch {
		case dist < bestDist:
			best, bestDist, tie = c, dist, false
		case dist == bestDist:
			tie = true
		}
	}
	if tie || len(s) < 3 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// list decodes a sequence into slice v. A single value stands for a list
// of one (tls: 1.3 is tls: [1.3]).
func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	items := []*yaml.Node{n}
	switch n.Kind {
	case yaml.SequenceNode:
		items = n.Content
	case yaml.MappingNode:
		d.fail(n, path, "want a list, got a mapping", "")
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(items))
	for i, item := range items {
		p := index(path, i)
		if item = d.resolve(item, p); item == nil {
			return
		}
		if isNull(item) {
			d.fail(item, p, "an empty list item; remove it or give a value", "")
			continue
		}
		if item.Kind == yaml.SequenceNode && v.Type().Elem().Kind() != reflect.Slice {
			d.fail(item, p, "want a single value, got a list (a list inside a list?)", "")
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(item, nil, elem, p)
		if !d.failed[p] {
			out = reflect.Append(out, elem)
		}
	}
	v.Set(out)
}

// rule decodes a mapping of axis names to values (a Rule). Names and values
// are checked with the rest of the spec.
func (d *decoder) rule(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping of axis: value, got "+describe(n), strings.Join(AxisNames(), ", "))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i], path)
		val := d.resolve(n.Content[i+1], path)
		if k == nil || val == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "an axis name must be a plain word, got "+describe(k), strings.Join(AxisNames(), ", "))
			continue
		}
		field := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.fail(k, field, fmt.Sprintf("given twice (first at line %d); keep one", first), "")
			continue
		}
		seen[k.Value] = k.Line
		if val.Kind != yaml.ScalarNode || isNull(val) {
			d.fail(val, field, "want one value, got "+describe(val)+" (a rule matches one value per axis; write one rule per value)", "")
			continue
		}
		m.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(val.Value))
		d.pos[field+keySuffix] = position{k.Line, k.Column, nil}
		d.pos[field] = position{val.Line, val.Column, val.Value}
	}
	v.Set(m)
}

// duration decodes "2s", "500ms", "1m30s" or 0.
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a duration such as 2s or 500ms, got "+describe(n), "")
		return
	}
	dur, err := parseDuration(n.Value)
	if err != nil {
		d.fail(n, path, err.Error(), "")
		return
	}
	v.SetInt(int64(dur))
}

// parseDuration reads a non-negative duration with a unit ("2s"); "0"
// alone needs none.
func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return 0, fmt.Errorf("duration %q needs a unit: write %ss for seconds or %sms for milliseconds", s, t, t)
	}
	dur, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: write it as 2s, 500ms or 1m30s (units ns, us, ms, s, m, h)", s)
	}
	if dur < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return dur, nil
}
