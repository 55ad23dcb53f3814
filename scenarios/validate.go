package scenarios

import (
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/capacity"
	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/loadgen"
)

// units writes a bound for people: 1000000 as 1,000,000.
func units(v float64) string {
	str := strconv.FormatFloat(v, 'f', -1, 64)
	for i := len(str) - 3; i > 0; i -= 3 {
		str = str[:i] + "," + str[i:]
	}
	return str
}

// Target kinds. builtin, nginx, haproxy, openssl and node are managed:
// mtlsbench starts them with a PKI it generates per case. external is a
// server someone else runs, with its own certificates.
const (
	KindBuiltin  = "builtin"
	KindNginx    = "nginx"
	KindHAProxy  = "haproxy"
	KindOpenSSL  = "openssl"
	KindExternal = "external"
	KindNode     = "node"
)

var kinds = []string{KindBuiltin, KindNginx, KindHAProxy, KindOpenSSL, KindNode, KindExternal}

// Target modes.
const (
	ModeHandshake = "handshake"
	ModeHTTP      = "http"
	// ModeHTTP2: HTTP/2 over mTLS, ALPN h2 negotiated and checked on every
	// connection; load.streams requests in flight on each.
	ModeHTTP2 = "http2"
)

// MaxRepeat bounds Spec.Repeat.
const MaxRepeat = 1000

// What a rotation replaces (target.rotate).
const (
	RotateCert = "cert"
	RotateCA   = "ca"
)

// MaxRotations bounds target.rotate_at: each rotation issues a server
// certificate before the load.
const MaxRotations = 100

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
	s.checkRotation(p)
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
		// http2 says what the client speaks, which is the client's to
		// choose; the others are what a managed server answers.
		notFor("mode", t.Mode != "" && t.Mode != ModeHTTP2, t.Mode, "what it answers is up to that server; set matrix.requests for the client to send requests (mode: http2 for HTTP/2)")
		notFor("handshake_delay", t.HandshakeDelay != 0, t.HandshakeDelay, "it slows the built-in target only")
		notFor("cpus", t.CPUs != "", t.CPUs, "pin that server yourself (its CPU is still read from pids)")
		notFor("workers", t.Workers != 0, t.Workers, "mtlsbench does not start that server")
		notFor("in_process", t.InProcess, t.InProcess, "it runs the built-in target inside the generator")
		notFor("revoked_clients", t.RevokedClients != 0, t.RevokedClients, "its CRL is its own; give pki: a directory whose crl.pem 'pki gen --revoked K' wrote, and its revoked identities count as revoked")
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
		notManaged("send_invalid_cert", t.SendInvalidCert, t.SendInvalidCert, "a "+kind+" target's client certificates are generated for each case, always current")
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
	if t.Mode != "" && t.Mode != ModeHandshake && t.Mode != ModeHTTP && t.Mode != ModeHTTP2 {
		p.add("target.mode", t.Mode, fmt.Sprintf("unknown mode %q", clip(t.Mode)), "handshake (close after the handshake), http (answer HTTP/1.1 requests), http2 (HTTP/2, ALPN h2)")
	}
	if strings.ContainsAny(t.ServerName, " \t\n/") {
		p.add("target.server_name", t.ServerName, fmt.Sprintf("server_name %q is not a host name", clip(t.ServerName)), "")
	}
	if t.HandshakeDelay < 0 || t.HandshakeDelay.D() > MaxHSDelay {
		p.add("target.handshake_delay", t.HandshakeDelay, fmt.Sprintf("handshake_delay %s is out of range: 0 to %s", t.HandshakeDelay, MaxHSDelay), "")
	}
	if t.RevokedClients < 0 || t.RevokedClients > MaxClientIdentities {
		p.add("target.revoked_clients", t.RevokedClients, fmt.Sprintf("revoked_clients %d is out of range: 0 to %d client identities", t.RevokedClients, MaxClientIdentities), "")
	}
	if t.Workers < 0 || t.Workers > MaxWorkers {
		p.add("target.workers", t.Workers, fmt.Sprintf("workers %d is out of range: 1 to %d (0 means one per CPU the server may use)", t.Workers, MaxWorkers), "")
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

// checkRotation checks target.rotate_at: offsets inside a window of
// known length, in order, on a target mtlsbench controls.
func (s *Spec) checkRotation(p *problems) {
	at := s.Target.RotateAt
	switch r := s.Target.Rotate; {
	case r != "" && r != RotateCert && r != RotateCA:
		p.add("target.rotate", r, fmt.Sprintf("unknown rotation %q", clip(r)), "cert (the server certificate and key, under the same CA), ca (a new CA too, trusted by the client alongside the old one)")
	case r != "" && len(at) == 0:
		p.add("target.rotate", r, "rotate says what a rotation replaces, but there is none: give target.rotate_at (--rotate-at) too", "")
	}
	if len(at) == 0 {
		return
	}
	l := &s.Load
	if len(at) > MaxRotations {
		p.add("target.rotate_at", nil, fmt.Sprintf("%d rotations are too many: at most %d", len(at), MaxRotations), "")
		return
	}
	if s.Target.Kind == KindExternal {
		p.add("target.rotate_at", nil, "rotate_at is not for an external target: mtlsbench does not control its certificate", "rotate against builtin, nginx or haproxy")
		return
	}
	if l.Count > 0 {
		p.add("target.rotate_at", nil, "rotate_at needs a window of known length: the offsets are into it, and a window that ends at a count has none", "set load.duration (--duration) instead of load.count")
		return
	}
	window := l.Duration.D()
	if len(l.Steps) > 0 {
		window = time.Duration(len(l.Steps)) * l.StepDuration.D()
	}
	if window == 0 {
		window = loadgen.DefaultDuration
	}
	for i, d := range at {
		switch {
		case d.D() <= 0 || d.D() >= window:
			p.add(index("target.rotate_at", i), d, fmt.Sprintf("rotation at %s is outside the measured window: each offset is above 0 and below the window's %s", d, window), "")
		case i > 0 && d <= at[i-1]:
			p.add(index("target.rotate_at", i), d, fmt.Sprintf("rotation at %s does not come after the one before it (%s): give the offsets in increasing order", d, at[i-1]), "")
		}
	}
}

func (s *Spec) checkLoad(p *problems) {
	l := &s.Load
	// inRange checks a figure whose zero means its default.
	inRange := func(field string, v, hi float64, cur any, what string) {
		switch {
		case v < 0 || math.IsNaN(v) || math.IsInf(v, 0):
			p.add("load."+field, cur, fmt.Sprintf("%s %v is negative: %s, above 0 and at most %s (in a file, 0 or leaving it out means its default)", field, cur, what, units(hi)), "")
		case v > hi:
			p.add("load."+field, cur, fmt.Sprintf("%s %v is out of range: %s, at most %s", field, cur, what, units(hi)), "")
		}
	}
	inRange("concurrency", float64(l.Concurrency), MaxConcurrency, l.Concurrency, "connections in flight (the whole run's; one process holds as many as its file-descriptor limit allows)")
	inRange("rate", l.Rate, MaxRate, l.Rate, "handshakes per second")
	inRange("max_in_flight", float64(l.MaxInFlight), MaxInFlight, l.MaxInFlight, "connections in flight")
	inRange("count", float64(l.Count), MaxCount, l.Count, "handshakes per case")
	for _, f := range []struct {
		name   string
		v      Duration
		lo, hi time.Duration
		what   string
	}{
		{"ramp_up", l.RampUp, 0, MaxRampUp, "the time the rate grows from 0"},
		{"step_duration", l.StepDuration, MinWindow, MaxWindow, "how long each step's rate is held"},
		{"duration", l.Duration, MinWindow, MaxWindow, "the measured window"},
		{"warmup", l.Warmup, 0, MaxWarmup, "load before the window"},
		{"interval", l.Interval, MinInterval, MaxInterval, "the time series' resolution"},
		{"hold", l.Hold, 0, MaxHold, "how long a connection is kept open"},
		{"timeout", l.Timeout, MinTimeout, MaxTimeout, "the bound on connect and on handshake"},
	} {
		d := f.v.D()
		switch {
		case d < 0:
			p.add("load."+f.name, f.v, fmt.Sprintf("%s %s is negative", f.name, f.v), "")
		case d != 0 && (d < f.lo || d > f.hi):
			p.add("load."+f.name, f.v, fmt.Sprintf("%s %s is out of range: %s, %s to %s (or 0 for its default)", f.name, f.v, f.what, f.lo, f.hi), "")
		}
	}
	if len(l.Steps) > MaxSteps {
		p.add("load.steps", len(l.Steps), fmt.Sprintf("%d steps: at most %d", len(l.Steps), MaxSteps), "")
	}
	for i, r := range l.Steps {
		if !(r > 0) || math.IsInf(r, 0) || r > MaxRate {
			p.add(index("load.steps", i), r, fmt.Sprintf("step %v is not a rate: each step is handshakes per second, above 0 and at most %s", r, units(MaxRate)), "")
		}
	}
	window := l.Duration.D()
	if len(l.Steps) > 0 {
		window = time.Duration(len(l.Steps)) * l.StepDuration.D()
		if l.StepDuration > 0 && window > MaxWindow {
			p.add("load.steps", len(l.Steps), fmt.Sprintf("%d steps of %s make a %s window, more than %s", len(l.Steps), l.StepDuration, window, MaxWindow), "")
		}
	}
	if iv := l.Interval.D(); iv >= MinInterval && window > 0 && window/iv > MaxIntervals {
		p.add("load.interval", l.Interval, fmt.Sprintf("interval %s cuts the %s window into %d intervals, more than %d (the time series is kept in memory): use a longer interval", l.Interval, window, window/iv, MaxIntervals), "")
	}
	if l.ErrorBudget != "" {
		if _, err := capacity.ParseShare(l.ErrorBudget); err != nil {
			p.add("load.error_budget", l.ErrorBudget, fmt.Sprintf("error_budget %v (e.g. 1%%, 0.1%%, 0, 100%%)", err), "")
		}
	}
	if l.SLO != "" {
		if _, err := capacity.ParseSLO(l.SLO); err != nil {
			msg := err.Error()
			if se, ok := errors.AsType[*capacity.SLOError](err); ok {
				msg = se.Msg
			}
			p.add("load.slo", l.SLO, msg, "")
		} else if l.Rate == 0 && len(l.Steps) == 0 && capacity.WritesAchieved(l.SLO) {
			p.add("load.slo", l.SLO, "achieved needs an open loop (rate or steps): a closed loop has no rate to achieve; leave the term out", "")
		}
	}
	if l.Streams < 0 || l.Streams > MaxStreams {
		p.add("load.streams", l.Streams, fmt.Sprintf("streams %d is out of range: HTTP/2 requests in flight on a connection, 1 to %d (0 means 1)", l.Streams, MaxStreams), "")
	} else if l.Streams > 1 && s.Target.Mode != ModeHTTP2 {
		p.add("load.streams", l.Streams, fmt.Sprintf("streams %d needs HTTP/2: only an HTTP/2 connection carries more than one request at a time; set target.mode: http2 (--mode http2)", l.Streams), "")
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
	switch loadgen.ClientSigner(l.ClientSigner) {
	case "", loadgen.SignerGo, loadgen.SignerOpenSSL:
	default:
		p.add("load.client_signer", l.ClientSigner, fmt.Sprintf("unknown client signer %q", clip(l.ClientSigner)), loadgen.ClientSignerNames)
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
	revoked := s.Target.RevokedClients
	check := func(ax int, v axisValue) {
		switch {
		case external && ax == axChain:
			p.add(v.path, nil, "chain is not for an external target: its chain is what it presents", "")
		case external && ax == axIdentities && v.canon != "1" && s.Target.PKI == "":
			p.add(v.path, nil, "an external target given target.cert has one client identity; client_identities must be 1 (or give target.pki, a directory of several)", "")
		case s.Target.Mode == ModeHandshake && ax == axRequests && v.canon != "0":
			p.add(v.path, nil, fmt.Sprintf("%s requests per connection, but target.mode is handshake (line %d), which answers no request: set mode: http or remove it", v.canon, s.line("target.mode")), "")
		case external && ax == axTrustStore && v.canon != "1":
			p.add(v.path, nil, "trust_store is not for an external target: the CAs it trusts are its own configuration", "")
		case external && ax == axCRLEntries && v.canon != "0":
			p.add(v.path, nil, "crl_entries is not for an external target: its CRL is its own configuration (make one with 'mtlsbench pki gen --revoked K --crl-entries N')", "")
		case revoked > 0 && (ax == axCRLEntries || ax == axIdentities):
			if n, _ := strconv.Atoi(v.canon); n < revoked {
				p.add(v.path, nil, fmt.Sprintf("%s %d is below target.revoked_clients %d: the revoked clients are %s", axes[ax].name, n, revoked,
					map[int]string{axCRLEntries: "entries of the CRL", axIdentities: "the last of the case's client identities"}[ax]), "")
			}
		}
	}
	if revoked > 0 && !external {
		if len(vals[axCRLEntries]) == 0 {
			p.add("target.revoked_clients", revoked, fmt.Sprintf("revoked_clients %d needs a CRL to be on: give crl_entries (--crl-entries) of at least %d", revoked, revoked), "")
		}
		if len(vals[axIdentities]) == 0 && revoked > 1 {
			p.add("target.revoked_clients", revoked, fmt.Sprintf("revoked_clients %d is more than the case's one client identity: give client_identities (--identities) of at least %d", revoked, revoked), "")
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
