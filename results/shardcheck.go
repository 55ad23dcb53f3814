package results

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The checks MergeShards makes before it adds anything up. Each refusal
// names the inputs involved and what differs, because the person reading
// it has N files and must find the wrong one.

// shardInput is one input that passed checkShards: a shard result, its
// name, and its clock's offset to shard 0's.
type shardInput struct {
	name string
	run  *Run
	// offset is added to the shard's own times to put them on shard 0's
	// clock: Clock.OffsetUs, or zero when the shard recorded no clock.
	offset time.Duration
}

// global is t, a time of this shard's clock, on shard 0's clock.
func (s *shardInput) global(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(s.offset)
}

// casePart is one shard's part of a case.
type casePart struct {
	shard *shardInput
	c     *Case
	// start is c.Start on shard 0's clock.
	start time.Time
}

// end is the part's window end on shard 0's clock.
func (p casePart) end() time.Time { return p.start.Add(seconds(p.c.DurationS)) }

// checkShards checks that in is exactly the shards of one sharded run and
// returns them in index order.
func checkShards(in []MergeInput) ([]*shardInput, error) {
	if len(in) == 0 {
		return nil, &MergeError{Reason: "no results to merge"}
	}
	for i, input := range in {
		r, name := input.Run, input.Name
		if r == nil {
			return nil, mergeErrorf([]string{name}, "%s is missing", name)
		}
		if r.Schema != Schema {
			return nil, mergeErrorf([]string{name}, "%s has schema %q; merge reads %q", name, r.Schema, Schema)
		}
		if r.HasCapacity() {
			return nil, mergeErrorf([]string{name}, "%s is a capacity search: each search chose its own rates, so shards of it cannot be combined (run 'mtlsbench capacity' from one generator, or read the answers side by side)", name)
		}
		if first := in[0]; r.Scenario.Name != first.Run.Scenario.Name {
			return nil, mergeErrorf([]string{first.Name, name}, "%s ran scenario %q but %s ran %q: merge combines shards of one scenario", name, r.Scenario.Name, first.Name, first.Run.Scenario.Name)
		}
		for _, earlier := range in[:i] {
			if sameRun(earlier.Run, r) {
				return nil, mergeErrorf([]string{earlier.Name, name}, "%s and %s are the same run (host %q, start %s): give each shard once", earlier.Name, name, r.Environment.Hostname, r.Start.UTC().Format(time.RFC3339Nano))
			}
		}
		if len(r.Shards) > 0 {
			return nil, mergeErrorf([]string{name}, "%s is already a merge of %d shards: merge the shards' own results, all of them at once", name, len(r.Shards))
		}
		if r.Shard == nil || r.RunID == "" {
			return nil, mergeErrorf([]string{name}, "%s ran without --shard/--shards: merge combines the shards of one sharded run", name)
		}
		if s := r.Shard; s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
			return nil, mergeErrorf([]string{name}, "%s says it is shard %d of %d: the index must be from 0 to the count minus one", name, s.Index, s.Count)
		}
	}

	first := in[0]
	count := first.Run.Shard.Count
	byIndex := make([]*shardInput, count)
	for _, input := range in {
		r, name := input.Run, input.Name
		if r.RunID != first.Run.RunID {
			return nil, mergeErrorf([]string{first.Name, name}, "%s is a shard of run %q but %s of run %q: merge combines the shards of one run", first.Name, first.Run.RunID, name, r.RunID)
		}
		if r.Shard.Count != count {
			return nil, mergeErrorf([]string{first.Name, name}, "%s is shard %d of %d but %s is shard %d of %d: the shards of one run agree on their count", first.Name, first.Run.Shard.Index, count, name, r.Shard.Index, r.Shard.Count)
		}
		if dup := byIndex[r.Shard.Index]; dup != nil {
			return nil, mergeErrorf([]string{dup.name, name}, "%s and %s are both shard %d of run %q: give each shard once", dup.name, name, r.Shard.Index, r.RunID)
		}
		sh := &shardInput{name: name, run: r}
		if r.Shard.Clock != nil {
			sh.offset = time.Duration(r.Shard.Clock.OffsetUs * float64(time.Microsecond))
		}
		byIndex[r.Shard.Index] = sh
	}
	var missing []string
	for i, sh := range byIndex {
		if sh == nil {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		var given, names []string
		for _, sh := range byIndex {
			if sh != nil {
				given = append(given, fmt.Sprintf("%s is shard %d", sh.name, sh.run.Shard.Index))
				names = append(names, sh.name)
			}
		}
		noun := "shard " + missing[0] + " is"
		if len(missing) > 1 {
			noun = "shards " + strings.Join(missing, ", ") + " are"
		}
		return nil, mergeErrorf(names, "run %q has %d shards and %s missing (%s): merge needs every shard of the run", first.Run.RunID, count, noun, strings.Join(given, ", "))
	}
	return byIndex, nil
}

// sameRun reports whether a and b are one result given twice.
func sameRun(a, b *Run) bool {
	if a.Shard != nil && b.Shard != nil && a.Shard.Index != b.Shard.Index {
		return false
	}
	return a.Start.Equal(b.Start) && a.End.Equal(b.End) && a.Environment.Hostname == b.Environment.Hostname && len(a.Cases) == len(b.Cases) && len(a.Shards) == 0 && len(b.Shards) == 0
}

// checkCases matches the shards' cases by key and repeat, in shard 0's
// order, and checks that every shard ran every case, with the same
// parameters, at the same time.
func checkCases(shards []*shardInput) ([][]casePart, error) {
	type caseID struct {
		key    string
		repeat int
	}
	var order []caseID
	groups := map[caseID][]casePart{}
	for _, sh := range shards {
		for i := range sh.run.Cases {
			c := &sh.run.Cases[i]
			id := caseID{c.MatchKey(), c.Repeat}
			parts, seen := groups[id]
			if !seen {
				order = append(order, id)
			}
			if len(parts) > 0 && parts[len(parts)-1].shard == sh {
				return nil, mergeErrorf([]string{sh.name}, "%s holds case %s repeat %d twice", sh.name, c.Name, c.Repeat)
			}
			groups[id] = append(parts, casePart{shard: sh, c: c, start: sh.global(c.Start)})
		}
	}
	out := make([][]casePart, 0, len(order))
	for _, id := range order {
		parts := groups[id]
		if len(parts) < len(shards) {
			return nil, missingCase(shards, parts)
		}
		if err := checkParams(parts); err != nil {
			return nil, err
		}
		if err := checkWindows(parts); err != nil {
			return nil, err
		}
		out = append(out, parts)
	}
	return out, nil
}

// missingCase explains a case that some shards ran and others did not.
func missingCase(shards []*shardInput, parts []casePart) *MergeError {
	has := map[*shardInput]bool{}
	var with, without, names []string
	for _, p := range parts {
		has[p.shard] = true
		with = append(with, p.shard.name)
	}
	for _, sh := range shards {
		if has[sh] {
			continue
		}
		note := sh.name
		if sh.run.Interrupted {
			note += " (interrupted)"
		}
		without = append(without, note)
		names = append(names, sh.name)
	}
	c := parts[0].c
	return mergeErrorf(append(slices.Clone(with), names...), "case %s repeat %d is in %s but not in %s: the shards of one run run the same cases", c.Name, c.Repeat, strings.Join(with, ", "), strings.Join(without, ", "))
}

// checkParams refuses a case whose parameters differ between shards. Every
// shard of a sharded run records the whole run's parameters, so they are
// equal unless the shards ran different things.
func checkParams(parts []casePart) error {
	first := parts[0]
	a := reflect.ValueOf(first.c.Params)
	for _, p := range parts[1:] {
		b := reflect.ValueOf(p.c.Params)
		for _, f := range paramFields {
			av, bv := a.Field(f.index).Interface(), b.Field(f.index).Interface()
			if av != bv {
				return mergeErrorf([]string{first.shard.name, p.shard.name},
					"case %s repeat %d: params.%s is %s in %s but %s in %s: the shards of one run run the same parameters (each records the whole run's)",
					first.c.Name, first.c.Repeat, f.name, paramText(av), first.shard.name, paramText(bv), p.shard.name)
			}
		}
	}
	return nil
}

func paramText(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// checkWindows refuses a case whose shards' windows do not overlap, on
// shard 0's clock: the latest start after the earliest end means the
// shards ran the case one after the other, not together.
func checkWindows(parts []casePart) error {
	var latest, earliest *casePart
	for i := range parts {
		p := &parts[i]
		if p.start.IsZero() {
			continue
		}
		if latest == nil || p.start.After(latest.start) {
			latest = p
		}
		if earliest == nil || p.end().Before(earliest.end()) {
			earliest = p
		}
	}
	if latest == nil || !latest.start.After(earliest.end()) {
		return nil
	}
	c := latest.c
	return mergeErrorf([]string{earliest.shard.name, latest.shard.name},
		"case %s repeat %d: %s began its window %s after %s had ended its own (times on shard 0's clock): the shards did not run it together",
		c.Name, c.Repeat, latest.shard.name, latest.start.Sub(earliest.end()).Round(time.Millisecond), earliest.shard.name)
}
