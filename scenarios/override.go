package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/capacity"
	"github.com/mtlsbench/mtlsbench/loadgen"
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
	case axAuth:
		m.Auth = canon
	case axTrustStore:
		m.TrustStore = atois(canon)
	case axCRLEntries:
		m.CRLEntries = atois(canon)
	case axClient:
		m.Client = canon
	case axEarlyData:
		m.EarlyData = canon
	case axPSKMode:
		m.PSKMode = canon
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
	c.Target.RotateAt = cloneSlice(s.Target.RotateAt)
	c.Load.Steps = cloneSlice(s.Load.Steps)
	c.Capacity.Project = cloneSlice(s.Capacity.Project)
	m := &c.Matrix
	m.TLS, m.Cipher, m.Group, m.KeyShare = cloneSlice(m.TLS), cloneSlice(m.Cipher), cloneSlice(m.Group), cloneSlice(m.KeyShare)
	m.ServerKey, m.ClientKey, m.Chain, m.Resume = cloneSlice(m.ServerKey), cloneSlice(m.ClientKey), cloneSlice(m.Chain), cloneSlice(m.Resume)
	m.ClientIdentities, m.Requests = cloneSlice(m.ClientIdentities), cloneSlice(m.Requests)
	m.Auth = cloneSlice(m.Auth)
	m.TrustStore, m.CRLEntries = cloneSlice(m.TrustStore), cloneSlice(m.CRLEntries)
	m.Client, m.EarlyData, m.PSKMode = cloneSlice(m.Client), cloneSlice(m.EarlyData), cloneSlice(m.PSKMode)
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

// Overrides change a scenario from outside its file: what run's and
// capacity's flags say. A nil field (or a nil Axes) leaves the scenario's
// value as it is; a set one replaces it. Overrides is how a command line
// becomes a scenario, kept here (not in the CLI) so that a library caller
// gets the same rules: a rate replaces steps, steps replace the file's
// window, an external target drops the key-type axes it did not name.
type Overrides struct {
	// Axes replace matrix axes, each as SetAxis does.
	Axes []AxisOverride

	// Target is builtin, nginx, haproxy, openssl, node, or HOST:PORT of an
	// external server (whose key-type, chain and identity axes then fall
	// back to "whatever it presents" unless Axes names them).
	Target *string
	// The rest of TargetSpec, field by field.
	CA, Cert, Key, PKI, ServerName, TargetCPUs, ClientCPUs, Mode *string
	PIDs                                                         *[]int
	HandshakeDelay                                               *time.Duration
	InProcess, SendInvalidCert                                   *bool
	// RevokedClients is TargetSpec.RevokedClients.
	RevokedClients *int
	// RotateAt and Rotate are TargetSpec.RotateAt and Rotate.
	RotateAt *[]time.Duration
	Rotate   *string

	Load     LoadOverrides
	Capacity CapacityOverrides
	// Repeat runs every case this many times; at least 1.
	Repeat *int

	// Names says how the user wrote each override, for errors: a field's
	// path ("matrix.tls", "target", "load.steps", "capacity.slo") → its
	// name on the command line ("--tls"). A path not in Names is named by
	// the path itself.
	Names map[string]string
}

// AxisOverride replaces one matrix axis (a name from AxisNames; "-" may
// stand for "_").
type AxisOverride struct {
	Axis   string
	Values []string
}

// LoadOverrides replace LoadSpec's fields. Rate and Steps replace each
// other; Steps also replace a Duration or Count from the file (both given
// here is a contradiction, refused by Validate); Count and Duration
// replace each other.
type LoadOverrides struct {
	Concurrency                                                     *int
	Rate                                                            *float64
	MaxInFlight                                                     *int
	Steps                                                           *[]float64
	Count                                                           *int64
	RampUp, StepDuration, Duration, Warmup, Interval, Hold, Timeout *time.Duration
	Linger0, InsecureSkipVerify                                     *bool
	Arrivals                                                        *string
	// Streams is LoadSpec.Streams.
	Streams *int
	// ErrorBudget is LoadSpec.ErrorBudget.
	ErrorBudget *string
	// SLO is LoadSpec.SLO.
	SLO *string
	// ClientSigner is LoadSpec.ClientSigner.
	ClientSigner *string
}

// CapacityOverrides replace CapacitySpec's fields. Start, Max and Project
// are rates as capacity.ParseRate reads them ("500/s", "2k").
type CapacityOverrides struct {
	SLO                      *string
	Start, Max               *string
	StepDuration, StepWarmup *time.Duration
	Resolution               *float64
	MaxSteps                 *int
	Project                  *[]string
}

// Apply changes s by o and validates the result. Every problem names the
// value as the user wrote it (o.Names); on error s may be partly changed.
func (s *Spec) Apply(o Overrides) error {
	name := func(path string) string {
		if n, ok := o.Names[path]; ok {
			return n
		}
		return path
	}
	// bad names the value as the user wrote it: "--max-steps 1: must be
	// at least 2".
	bad := func(path, value, msg, accepted string) error {
		return &Error{Source: strings.TrimSpace(name(path) + " " + value), Message: msg, Accepted: accepted}
	}
	named := map[string]bool{}
	for _, a := range o.Axes {
		axis := strings.ReplaceAll(a.Axis, "-", "_")
		if err := s.SetAxis(axis, a.Values); err != nil {
			return forSource(err, name("matrix."+axis))
		}
		named[axis] = true
	}
	t := &s.Target
	if o.Target != nil {
		switch v := *o.Target; v {
		case KindBuiltin, KindNginx, KindHAProxy, KindOpenSSL, KindNode:
			t.Kind, t.Addr = v, ""
		default:
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return bad("target", strconv.Quote(clip(v)), "neither a target kind nor HOST:PORT",
					"builtin, nginx, haproxy, openssl, node, or HOST:PORT of an external server")
			}
			t.Kind, t.Addr = KindExternal, v
			// A server mtlsbench did not start has its own certificates:
			// unless told what to expect, expect whatever it presents
			// (each handshake still records it), and use the one client
			// identity given with the target's cert and key.
			m := &s.Matrix
			for axis, values := range map[string]*[]string{"server_key": &m.ServerKey, "client_key": &m.ClientKey, "chain": &m.Chain} {
				if !named[axis] {
					*values = nil
				}
			}
			if !named["client_identities"] {
				m.ClientIdentities = nil
			}
		}
	}
	if o.PKI != nil {
		// A PKI directory replaces the file's client files.
		t.CA, t.Cert, t.Key = "", "", ""
	} else if o.CA != nil || o.Cert != nil || o.Key != nil {
		t.PKI = ""
	}
	set(&t.CA, o.CA)
	set(&t.Cert, o.Cert)
	set(&t.Key, o.Key)
	set(&t.PKI, o.PKI)
	set(&t.ServerName, o.ServerName)
	set(&t.CPUs, o.TargetCPUs)
	set(&t.ClientCPUs, o.ClientCPUs)
	set(&t.Mode, o.Mode)
	set(&t.PIDs, o.PIDs)
	setDuration(&t.HandshakeDelay, o.HandshakeDelay)
	set(&t.InProcess, o.InProcess)

	l, lo := &s.Load, &o.Load
	set(&l.Concurrency, lo.Concurrency)
	if lo.Rate != nil {
		l.Rate, l.Steps, l.StepDuration = *lo.Rate, nil, 0
	}
	if lo.Steps != nil {
		l.Steps, l.Rate = *lo.Steps, 0
		// The steps are the window: a duration or count from the file
		// gives way to them. Both given here is the caller's
		// contradiction, which Validate refuses.
		if lo.Duration == nil && lo.Count == nil {
			l.Duration, l.Count = 0, 0
		}
	}
	set(&l.MaxInFlight, lo.MaxInFlight)
	if lo.Count != nil {
		l.Count, l.Duration = *lo.Count, 0
	}
	if lo.Duration != nil {
		l.Duration, l.Count = Duration(*lo.Duration), 0
	}
	setDuration(&l.RampUp, lo.RampUp)
	setDuration(&l.StepDuration, lo.StepDuration)
	setDuration(&l.Warmup, lo.Warmup)
	setDuration(&l.Interval, lo.Interval)
	setDuration(&l.Hold, lo.Hold)
	setDuration(&l.Timeout, lo.Timeout)
	set(&l.Linger0, lo.Linger0)
	set(&l.InsecureSkipVerify, lo.InsecureSkipVerify)
	set(&l.Arrivals, lo.Arrivals)
	set(&l.ErrorBudget, lo.ErrorBudget)
	set(&l.SLO, lo.SLO)
	set(&l.Streams, lo.Streams)
	set(&l.ClientSigner, lo.ClientSigner)
	set(&t.SendInvalidCert, o.SendInvalidCert)
	set(&t.RevokedClients, o.RevokedClients)
	set(&t.Rotate, o.Rotate)
	if o.RotateAt != nil {
		t.RotateAt = make([]Duration, len(*o.RotateAt))
		for i, d := range *o.RotateAt {
			t.RotateAt[i] = Duration(d)
		}
	}

	// A flag set to zero asked for something: zero means "the default"
	// only where a file leaves a field out.
	for _, z := range []struct {
		path, value, want string
		zero              bool
	}{
		{"load.concurrency", "0", "at least 1 (leave it out for the default, 2 per core)", lo.Concurrency != nil && *lo.Concurrency == 0},
		{"load.rate", "0", "above 0 (leave it out for a closed loop)", lo.Rate != nil && *lo.Rate == 0},
		{"load.max_in_flight", "0", "at least 1 (leave it out for the default, " + units(float64(loadgen.DefaultMaxInFlight)) + ")", lo.MaxInFlight != nil && *lo.MaxInFlight == 0},
		{"load.count", "0", "at least 1 (leave it out to stop by time)", lo.Count != nil && *lo.Count == 0},
		{"load.duration", "0s", "at least " + MinWindow.String() + " (leave it out for the default, " + loadgen.DefaultDuration.String() + ")", lo.Duration != nil && *lo.Duration == 0},
		{"load.step_duration", "0s", "at least " + MinWindow.String(), lo.StepDuration != nil && *lo.StepDuration == 0},
		{"load.interval", "0s", "at least " + MinInterval.String() + " (leave it out for the default, " + loadgen.DefaultInterval.String() + ")", lo.Interval != nil && *lo.Interval == 0},
		{"load.timeout", "0s", "at least " + MinTimeout.String() + " (leave it out for the default, " + loadgen.DefaultTimeout.String() + ")", lo.Timeout != nil && *lo.Timeout == 0},
		{"load.streams", "0", "at least 1 (leave it out for the default, 1)", lo.Streams != nil && *lo.Streams == 0},
	} {
		if z.zero {
			return bad(z.path, z.value, "must be "+z.want, "")
		}
	}
	// Problems with a value a flag set name the flag.
	s.flags = map[string]string{}
	for path, given := range map[string]bool{
		"load.concurrency": lo.Concurrency != nil, "load.rate": lo.Rate != nil, "load.max_in_flight": lo.MaxInFlight != nil,
		"load.steps": lo.Steps != nil, "load.count": lo.Count != nil, "load.ramp_up": lo.RampUp != nil,
		"load.step_duration": lo.StepDuration != nil, "load.duration": lo.Duration != nil, "load.warmup": lo.Warmup != nil,
		"load.interval": lo.Interval != nil, "load.hold": lo.Hold != nil, "load.timeout": lo.Timeout != nil,
		"load.arrivals": lo.Arrivals != nil, "load.error_budget": lo.ErrorBudget != nil, "load.slo": lo.SLO != nil, "load.streams": lo.Streams != nil,
		"load.client_signer":     lo.ClientSigner != nil,
		"target.handshake_delay": o.HandshakeDelay != nil, "target.mode": o.Mode != nil,
		"target.rotate_at": o.RotateAt != nil, "target.rotate": o.Rotate != nil,
		"target.server_name": o.ServerName != nil, "target.cpus": o.TargetCPUs != nil, "target.client_cpus": o.ClientCPUs != nil,
		"capacity.max_steps": o.Capacity.MaxSteps != nil, "capacity.step_duration": o.Capacity.StepDuration != nil,
		"capacity.step_warmup": o.Capacity.StepWarmup != nil, "capacity.start": o.Capacity.Start != nil, "capacity.max": o.Capacity.Max != nil,
	} {
		if n, ok := o.Names[path]; ok && given {
			s.flags[path] = n
		}
	}

	if o.Repeat != nil {
		if *o.Repeat < 1 {
			return bad("repeat", strconv.Itoa(*o.Repeat), "must be at least 1", "")
		}
		s.Repeat = *o.Repeat
	}
	if err := s.applyCapacity(&o.Capacity, bad); err != nil {
		return err
	}
	return s.Validate()
}

// applyCapacity applies the capacity overrides, each checked here so that
// a mistake names its flag.
func (s *Spec) applyCapacity(o *CapacityOverrides, bad func(path, value, msg, accepted string) error) error {
	c := &s.Capacity
	if o.SLO != nil {
		if _, err := capacity.ParseSLO(*o.SLO); err != nil {
			return bad("capacity.slo", "", err.Error(), "")
		}
		c.SLO = *o.SLO
	}
	rate := func(path string, value *string, dst *float64) error {
		if value == nil {
			return nil
		}
		r, err := capacity.ParseRate(*value)
		if err != nil {
			return bad(path, "", err.Error(), "")
		}
		*dst = r
		return nil
	}
	if err := rate("capacity.start", o.Start, &c.Start); err != nil {
		return err
	}
	if err := rate("capacity.max", o.Max, &c.Max); err != nil {
		return err
	}
	if d := o.StepDuration; d != nil {
		if *d <= 0 {
			return bad("capacity.step_duration", d.String(), "must be positive", "")
		}
		c.StepDuration = Duration(*d)
	}
	if d := o.StepWarmup; d != nil {
		if *d <= 0 {
			return bad("capacity.step_warmup", d.String(), "must be positive (each step needs a warm-up to start its window in a steady state)", "")
		}
		c.StepWarmup = Duration(*d)
	}
	if r := o.Resolution; r != nil {
		if !(*r > 0 && *r < 1) {
			return bad("capacity.resolution", strconv.FormatFloat(*r, 'g', -1, 64), "a fraction between 0 and 1, e.g. 0.05 to stop within 5%", "")
		}
		c.Resolution = *r
	}
	if n := o.MaxSteps; n != nil {
		if *n < 2 {
			return bad("capacity.max_steps", strconv.Itoa(*n), "must be at least 2", "")
		}
		c.MaxSteps = *n
	}
	if o.Project != nil {
		c.Project = nil
		for _, v := range *o.Project {
			r, err := capacity.ParseRate(v)
			if err != nil {
				return bad("capacity.project", "", err.Error(), "")
			}
			c.Project = append(c.Project, r)
		}
	}
	return nil
}

// forSource presents err's *Error values as problems with the value
// named source (a flag) rather than with a place in the file.
func forSource(err error, source string) error {
	var list Errors
	if errors.As(err, &list) {
		out := make(Errors, len(list))
		for i, e := range list {
			out[i] = e.ForFlag(source)
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		return e.ForFlag(source)
	}
	return err
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func setDuration(dst *Duration, v *time.Duration) {
	if v != nil {
		*dst = Duration(*v)
	}
}
