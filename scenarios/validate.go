package scenarios

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/internal/cpuset"
)

// Target kinds. builtin, nginx, haproxy and openssl are managed: mtlsbench
// starts them with a PKI it generates per case. external is a server
// someone else runs, with its own certificates.
const (
	KindBuiltin  = "builtin"
	KindNginx    = "nginx"
	KindHAProxy  = "haproxy"
	KindOpenSSL  = "openssl"
	KindExternal = "external"
)

var kinds = []string{KindBuiltin, KindNginx, KindHAProxy, KindOpenSSL, KindExternal}

// Target modes.
const (
	ModeHandshake = "handshake"
	ModeHTTP      = "http"
)

// MaxRepeat bounds Spec.Repeat.
const MaxRepeat = 1000

// Validate checks the spec as Parse does: every value known, every
// combination of fields meaningful. Call it after changing fields in code
// (run's flags); Expand calls it too. Problems are located in the file when
// the value is still the one read from it.
func (s *Spec) Validate() error {
	p := &problems{spec: s}
	s.check(p)
	return asError(p.errs)
}

// check reports every problem with s to p.
func (s *Spec) check(p *problems) {
	if strings.ContainsAny(s.Name, "\n\r\t") || len(s.Name) > 200 {
		p.add("name", s.Name, "a name is one short line (it names the scenario in results)", "")
	}
	if s.Repeat < 0 || s.Repeat > MaxRepeat {
		p.add("repeat", s.Repeat, fmt.Sprintf("repeat %d is out of range: runs each case this many times, 1 to %d (0 means 1)", s.Repeat, MaxRepeat), "")
	}
	s.checkTarget(p)
	s.checkLoad(p)
	s.checkCapacity(p)
	vals := s.axisValues(p)
	s.checkTargetAxes(p, vals)
	for i, r := range s.Exclude {
		s.ruleCells(p, "exclude", i, r)
	}
	for i, r := range s.Include {
		s.ruleCells(p, "include", i, r)
	}
}

func (s *Spec) checkTarget(p *problems) {
	t := &s.Target
	kind := t.Kind
	if kind == "" {
		kind = KindBuiltin
	}
	if !slices.Contains(kinds, kind) {
		p.add("target.kind", t.Kind, fmt.Sprintf("unknown target kind %q", clip(t.Kind)), strings.Join(kinds, ", "))
		return
	}
	external := kind == KindExternal
	if external {
		if t.Addr == "" {
			p.addAt("target.addr", "target.kind", t.Kind, "an external target needs addr: the HOST:PORT to connect to", "")
		}
		switch {
		case t.PKI != "":
			for _, f := range []struct{ name, value string }{{"ca", t.CA}, {"cert", t.Cert}, {"key", t.Key}} {
				if f.value != "" {
					p.add("target."+f.name, f.value, f.name+" and pki both name client files: pki's ca.pem and client-N identities are used; give one or the other", "")
				}
			}
		case t.Cert == "" || t.Key == "":
			p.addAt("target.cert", "target.kind", t.Kind, "an external target needs cert and key: the PEM files of the client certificate to present, or pki: a directory from 'mtlsbench pki gen'", "")
		}
		if t.CA == "" && t.PKI == "" && !s.Load.InsecureSkipVerify {
			p.addAt("target.ca", "target.kind", t.Kind, "an external target needs ca: the PEM file of the CA that signed the server (or load.insecure_skip_verify: true, which makes every handshake cheaper than a real client's)", "")
		}
		notFor := func(field string, set bool, cur any, why string) {
			if set {
				p.add("target."+field, cur, field+" is not for an external target: "+why, "")
			}
		}
		notFor("mode", t.Mode != "", t.Mode, "what it answers is up to that server; set matrix.requests for the client to send requests")
		notFor("handshake_delay", t.HandshakeDelay != 0, t.HandshakeDelay, "it slows the built-in target only")
		notFor("cpus", t.CPUs != "", t.CPUs, "pin that server yourself (its CPU is still read from pids)")
		notFor("workers", t.Workers != 0, t.Workers, "mtlsbench does not start that server")
		notFor("in_process", t.InProcess, t.InProcess, "it runs the built-in target inside the generator")
	} else {
		notManaged := func(field string, set bool, cur any, why string) {
			if set {
				p.add("target."+field, cur, fmt.Sprintf("%s is only for kind external; %s", field, why), "")
			}
		}
		notManaged("addr", t.Addr != "", t.Addr, "a "+kind+" target listens on a free loopback port (for a server of your own, set kind: external)")
		for _, f := range []struct {
			name, value string
		}{{"ca", t.CA}, {"cert", t.Cert}, {"key", t.Key}, {"pki", t.PKI}} {
			notManaged(f.name, f.value != "", f.value, "a "+kind+" target gets certificates generated for each case (matrix.server_key, matrix.client_key, matrix.chain)")
		}
		notManaged("pids", len(t.PIDs) > 0, t.PIDs, "a "+kind+" target's CPU is measured from the process mtlsbench starts")
		if kind != KindBuiltin {
			if t.HandshakeDelay != 0 {
				p.add("target.handshake_delay", t.HandshakeDelay, "handshake_delay slows the built-in target only, not "+kind, "")
			}
			if t.InProcess {
				p.add("target.in_process", t.InProcess, "in_process runs the built-in target inside the generator; "+kind+" is a separate server", "")
			}
		}
	}
	if t.Addr != "" {
		host, port, err := net.SplitHostPort(t.Addr)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			p.add("target.addr", t.Addr, fmt.Sprintf("addr %q is not HOST:PORT (e.g. 10.0.0.5:8443, [::1]:443)", clip(t.Addr)), "")
		}
	}
	if t.Mode != "" && t.Mode != ModeHandshake && t.Mode != ModeHTTP {
		p.add("target.mode", t.Mode, fmt.Sprintf("unknown mode %q", clip(t.Mode)), "handshake (close after the handshake), http (answer HTTP/1.1 requests)")
	}
	if strings.ContainsAny(t.ServerName, " \t\n/") {
		p.add("target.server_name", t.ServerName, fmt.Sprintf("server_name %q is not a host name", clip(t.ServerName)), "")
	}
	if t.HandshakeDelay < 0 {
		p.add("target.handshake_delay", t.HandshakeDelay, "handshake_delay is negative", "")
	}
	if t.Workers < 0 {
		p.add("target.workers", t.Workers, "workers is negative (0 means one per CPU the server may use)", "")
	}
	for i, pid := range t.PIDs {
		if pid <= 0 {
			p.add(index("target.pids", i), pid, fmt.Sprintf("pid %d is not a process id", pid), "")
		}
	}
	for _, f := range []struct {
		name, value string
	}{{"cpus", t.CPUs}, {"client_cpus", t.ClientCPUs}} {
		if f.value == "" {
			continue
		}
		if len(f.value) > 1000 {
			p.add("target."+f.name, f.value, "not a CPU list (example: 0,2-3)", "")
		} else if _, err := cpuset.Parse(f.value); err != nil {
			p.add("target."+f.name, f.value, strings.TrimPrefix(err.Error(), "cpuset: "), "")
		}
	}
}

func (s *Spec) checkLoad(p *problems) {
	l := &s.Load
	nonNegative := func(field string, v float64, cur any) {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			p.add("load."+field, cur, field+" must be zero or more (zero means its default)", "")
		}
	}
	nonNegative("concurrency", float64(l.Concurrency), l.Concurrency)
	nonNegative("rate", l.Rate, l.Rate)
	nonNegative("max_in_flight", float64(l.MaxInFlight), l.MaxInFlight)
	nonNegative("count", float64(l.Count), l.Count)
	for _, f := range []struct {
		name string
		v    Duration
	}{{"ramp_up", l.RampUp}, {"step_duration", l.StepDuration}, {"duration", l.Duration}, {"warmup", l.Warmup}, {"interval", l.Interval}, {"hold", l.Hold}, {"timeout", l.Timeout}} {
		if f.v < 0 {
			p.add("load."+f.name, f.v, fmt.Sprintf("%s %s is negative", f.name, f.v), "")
		}
	}
	for i, r := range l.Steps {
		if !(r > 0) || math.IsInf(r, 0) {
			p.add(index("load.steps", i), r, fmt.Sprintf("step %v is not a rate: each step is handshakes per second, above 0", r), "")
		}
	}
	steps := len(l.Steps) > 0
	if l.Rate > 0 && steps {
		p.add("load.steps", l.Steps, fmt.Sprintf("rate and steps are both set (rate at line %d): steps are successive rates, so give one or the other", s.line("load.rate")), "")
	}
	if steps && l.StepDuration == 0 {
		p.add("load.steps", l.Steps, "steps need step_duration: how long each rate is held, e.g. step_duration: 10s", "")
	}
	if !steps && l.StepDuration != 0 {
		p.add("load.step_duration", l.StepDuration, "step_duration without steps: add steps (rates to hold in turn, e.g. steps: [1000, 2000, 4000]) or remove it", "")
	}
	if steps && l.Duration != 0 {
		p.add("load.duration", l.Duration, "duration with steps: the steps are the measured window (one step_duration each); remove duration", "")
	}
	if steps && l.Count != 0 {
		p.add("load.count", l.Count, "count with steps: the steps are the measured window (one step_duration each); remove count", "")
	}
	if l.Duration != 0 && l.Count != 0 {
		p.add("load.count", l.Count, fmt.Sprintf("duration and count are both set (duration at line %d): a run stops by time or by handshakes, give one", s.line("load.duration")), "")
	}
	open := l.Rate > 0 || steps
	if l.MaxInFlight != 0 && !open {
		p.add("load.max_in_flight", l.MaxInFlight, "max_in_flight caps an open loop (rate or steps); in a closed loop concurrency is the cap: set rate, or use concurrency", "")
	}
	if l.RampUp != 0 && l.Rate == 0 {
		p.add("load.ramp_up", l.RampUp, "ramp_up grows rate from 0: set rate (for steps, the first step is the ramp)", "")
	}
	switch l.Arrivals {
	case "", "uniform":
	case "poisson":
		if !open {
			p.add("load.arrivals", l.Arrivals, "arrivals space an open loop's starts: set rate or steps", "")
		}
	default:
		p.add("load.arrivals", l.Arrivals, fmt.Sprintf("unknown arrivals %q", clip(l.Arrivals)), "uniform, poisson")
	}
}

// axisValue is one value of an axis, normalised, and where it was written.
type axisValue struct {
	canon string
	path  string
}

// axisValues checks and normalises every axis, reporting unknown and
// repeated values to p. An empty axis yields no values (Expand applies the
// default).
func (s *Spec) axisValues(p *problems) [numAxes][]axisValue {
	var out [numAxes][]axisValue
	for i, ax := range axes {
		seen := map[string]string{}
		for j, raw := range s.Matrix.raw(i) {
			path := index("matrix."+ax.name, j)
			canon, msg, accepted := ax.parse(raw)
			if msg != "" {
				p.add(path, raw, msg, accepted)
				continue
			}
			if first, dup := seen[canon]; dup {
				p.add(path, raw, fmt.Sprintf("%s is listed twice (also %s, line %d); keep one", clip(raw), first, s.line(first)), "")
				continue
			}
			seen[canon] = path
			out[i] = append(out[i], axisValue{canon, path})
		}
	}
	return out
}

// checkTargetAxes refuses axis values, in the matrix or in include rules,
// that make no sense for the target.
func (s *Spec) checkTargetAxes(p *problems, vals [numAxes][]axisValue) {
	external := s.Target.Kind == KindExternal
	if external {
		for _, ax := range []int{axServerKey, axClientKey} {
			if len(vals[ax]) > 1 {
				p.add("matrix."+axes[ax].name, nil, fmt.Sprintf("an external target has one %s certificate: give at most one key type, the one it is expected to have", strings.TrimSuffix(axes[ax].name, "_key")), "")
			}
		}
	}
	check := func(ax int, v axisValue) {
		switch {
		case external && ax == axChain:
			p.add(v.path, nil, "chain is not for an external target: its chain is what it presents", "")
		case external && ax == axIdentities && v.canon != "1" && s.Target.PKI == "":
			p.add(v.path, nil, "an external target given target.cert has one client identity; client_identities must be 1 (or give target.pki, a directory of several)", "")
		case s.Target.Mode == ModeHandshake && ax == axRequests && v.canon != "0":
			p.add(v.path, nil, fmt.Sprintf("%s requests per connection, but target.mode is handshake (line %d), which answers no request: set mode: http or remove it", v.canon, s.line("target.mode")), "")
		}
	}
	for ax, vs := range vals {
		for _, v := range vs {
			check(ax, v)
		}
	}
	for i, r := range s.Include {
		cell, src, _ := s.ruleCells(&problems{}, "include", i, r)
		for ax := range numAxes {
			if cell[ax] != "" {
				check(ax, axisValue{cell[ax], src[ax]})
			}
		}
	}
}

// ruleCells checks one exclude or include rule and returns its values by
// axis ("" where the rule does not constrain it).
func (s *Spec) ruleCells(p *problems, list string, i int, r Rule) (cell [numAxes]string, src [numAxes]string, ok bool) {
	path := index(list, i)
	if len(r) == 0 {
		p.add(path, nil, fmt.Sprintf("an empty %s rule would match every case; give axis: value pairs", list), "")
		return cell, src, false
	}
	ok = true
	names := make([]string, 0, len(r))
	for name := range r {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		raw := r[name]
		field := join(path, name)
		ax, known := axisByName(name)
		if !known {
			msg := fmt.Sprintf("unknown axis %q", clip(name))
			if near := nearest(name, AxisNames()); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			p.addAt(field, field+keySuffix, nil, msg, strings.Join(AxisNames(), ", "))
			ok = false
			continue
		}
		canon, msg, accepted := axes[ax].parse(raw)
		if msg != "" {
			p.add(field, raw, msg, accepted)
			ok = false
			continue
		}
		cell[ax], src[ax] = canon, field
	}
	return cell, src, ok
}
