package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/tlsparams"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/targets/builtin"
)

// params are a case's names turned into crypto/tls values, once.
type params struct {
	version  uint16
	suite    tlsparams.Suite // zero: any
	group    tlsparams.Group
	keyShare tlsparams.Group
}

func parseParams(c *scenarios.Case) (params, error) {
	var p params
	var err error
	if p.version, err = tlsparams.ParseVersion(c.TLS); err != nil {
		return p, err
	}
	if c.Cipher != "" {
		if p.suite, err = tlsparams.ParseSuite(c.Cipher); err != nil {
			return p, err
		}
	}
	if p.group, err = tlsparams.ParseGroup(c.Group); err != nil {
		return p, err
	}
	p.keyShare = p.group
	if c.KeyShare != "" {
		if p.keyShare, err = tlsparams.ParseGroup(c.KeyShare); err != nil {
			return p, err
		}
	}
	return p, nil
}

func isExternal(c *scenarios.Case) bool {
	return c.Target.Kind == "external"
}

// preflight refuses, before any load, what the stack or the target cannot
// do as asked, and loads an external target's PEM files.
func (r *runner) preflight(c *scenarios.Case) error {
	p, err := parseParams(c)
	if err != nil {
		return err
	}
	kind := c.Target.Kind
	if p.suite.TLS13 && (kind == "" || kind == string(targets.KindBuiltin) || kind == "external") {
		return fmt.Errorf("cipher %s cannot be measured against the %s target: Go's crypto/tls offers all TLS 1.3 suites and cannot pin one, on either side; "+
			"run it against an OpenSSL-based target (--target nginx, haproxy or openssl), which is configured to accept only that suite, or drop the TLS 1.3 cipher axis",
			p.suite.Name, targetLabel(c))
	}
	if err := checkCapabilities(c, p); err != nil {
		return err
	}
	if isExternal(c) {
		if _, err := r.external(c); err != nil {
			return err
		}
	}
	return nil
}

func targetLabel(c *scenarios.Case) string {
	if isExternal(c) {
		return "external " + c.Target.Addr
	}
	if c.Target.Kind == "" {
		return "builtin"
	}
	return c.Target.Kind
}

// material is the PKI a case uses.
type material struct {
	roots      *x509.CertPool
	identities []tls.Certificate
	server     pki.Identity
	clientCAs  []*x509.Certificate
}

func (r *runner) material(c *scenarios.Case) (*material, error) {
	if isExternal(c) {
		return r.external(c)
	}
	b, err := r.pki.get(r, c)
	if err != nil {
		return nil, err
	}
	return &material{roots: b.RootPool(), identities: b.ClientCertificates(), server: b.Server, clientCAs: []*x509.Certificate{b.Root.Cert}}, nil
}

// external loads the PEM files an external target's case names.
func (r *runner) external(c *scenarios.Case) (*material, error) {
	t := &c.Target
	m := &material{}
	if t.CA != "" {
		pool, err := pki.LoadCertPool(t.CA)
		if err != nil {
			return nil, err
		}
		m.roots = pool
	}
	pair, err := pki.LoadKeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, err
	}
	m.identities = []tls.Certificate{pair}
	return m, nil
}

// targetConfig is the server side of a case.
func targetConfig(c *scenarios.Case, p params, m *material) targets.Config {
	cfg := targets.Config{
		Kind:           targets.Kind(c.Target.Kind),
		Addr:           c.Target.Addr,
		ServerName:     c.Target.ServerName,
		PIDs:           c.Target.PIDs,
		InProcess:      c.Target.InProcess,
		Identity:       m.server,
		ClientCAs:      m.clientCAs,
		MinVersion:     p.version,
		MaxVersion:     p.version,
		Groups:         []tls.CurveID{p.group.ID},
		Mode:           targets.Mode(c.Target.Mode),
		HandshakeDelay: c.Target.HandshakeDelay.D(),
		CPUs:           c.Target.CPUs,
		Workers:        c.Target.Workers,
	}
	if p.suite.ID != 0 {
		if p.suite.TLS13 {
			cfg.CipherSuitesTLS13 = []uint16{p.suite.ID}
		} else {
			cfg.CipherSuites = []uint16{p.suite.ID}
		}
	}
	return cfg
}

// loadConfig is the client side of a case.
func loadConfig(c *scenarios.Case, p params, m *material, tgt targets.Target) loadgen.Config {
	l := &c.Load
	tlsCfg := &tls.Config{
		RootCAs:    m.roots,
		ServerName: tgt.ServerName(),
		MinVersion: p.version,
		MaxVersion: p.version,
		// Offering exactly the case's groups: a post-quantum share is sent
		// only when the case asks for it (it costs the client ~40-125 µs).
		CurvePreferences: []tls.CurveID{p.group.ID},
	}
	if p.keyShare.ID != p.group.ID {
		tlsCfg.CurvePreferences = []tls.CurveID{p.keyShare.ID, p.group.ID}
	}
	// In TLS 1.2 an OpenSSL server accepts an ECDSA certificate only on a
	// curve the client lists in supported_groups, as every real client
	// does; list it after the case's group. (TLS 1.2 has no key shares, the
	// server picks the case's group first, and the check still demands it.)
	// An external server's key is unknown unless the case names it: offer
	// the two common ECDSA curves, as browsers do.
	if p.version == tls.VersionTLS12 {
		curves := []tls.CurveID{tls.CurveP256, tls.CurveP384}
		if curve, ok := ecdsaCurve(c.ServerKey); ok {
			curves = []tls.CurveID{curve}
		} else if c.ServerKey != "" {
			curves = nil
		}
		for _, curve := range curves {
			if !slices.Contains(tlsCfg.CurvePreferences, curve) {
				tlsCfg.CurvePreferences = append(tlsCfg.CurvePreferences, curve)
			}
		}
	}
	if p.suite.ID != 0 && !p.suite.TLS13 {
		tlsCfg.CipherSuites = []uint16{p.suite.ID}
	}
	ids := m.identities
	if c.ClientIdentities > 0 && c.ClientIdentities < len(ids) {
		ids = ids[:c.ClientIdentities]
	}
	cfg := loadgen.Config{
		Addr:               tgt.Addr(),
		TLS:                tlsCfg,
		Identities:         ids,
		InsecureSkipVerify: l.InsecureSkipVerify,
		Expect:             loadgen.Expect{Version: p.version, Group: p.group.ID},
		Resume:             loadgen.Resume{Ratio: c.ResumeRatio},
		Concurrency:        l.Concurrency,
		MaxInFlight:        l.MaxInFlight,
		Warmup:             l.Warmup.D(),
		Duration:           l.Duration.D(),
		Count:              l.Count,
		Interval:           l.Interval.D(),
		Requests:           c.Requests,
		Hold:               l.Hold.D(),
		Timeout:            l.Timeout.D(),
		Linger0:            l.Linger0,
	}
	if p.suite.ID != 0 {
		cfg.Expect.CipherSuites = []uint16{p.suite.ID}
	}
	if !isExternal(c) {
		cfg.Expect.ServerKeyType = c.ServerKey
		cfg.Expect.HelloRetry = loadgen.HRRNever
		if p.keyShare.ID != p.group.ID {
			cfg.Expect.HelloRetry = loadgen.HRRAlways
		}
	} else if c.ServerKey != "" {
		cfg.Expect.ServerKeyType = c.ServerKey
	}
	switch {
	case len(l.Steps) > 0:
		cfg.Schedule = loadgen.Steps{Rates: l.Steps, StepLength: l.StepDuration.D()}
	case l.Rate > 0 && l.RampUp > 0:
		cfg.Schedule = loadgen.Ramp{Rate: l.Rate, Up: l.RampUp.D(), Length: l.Duration.D()}
	case l.Rate > 0:
		cfg.Schedule = loadgen.Constant{Rate: l.Rate, Length: l.Duration.D()}
	}
	return cfg
}

// ecdsaCurve is the group of an ECDSA key type's curve.
func ecdsaCurve(k pki.KeyType) (tls.CurveID, bool) {
	switch k {
	case pki.ECDSAP256:
		return tls.CurveP256, true
	case pki.ECDSAP384:
		return tls.CurveP384, true
	case pki.ECDSAP521:
		return tls.CurveP521, true
	}
	return 0, false
}

// setUp prepares a case: its parameters, its PKI material and a started
// target, which the caller closes.
func (r *runner) setUp(ctx context.Context, c *scenarios.Case) (params, *material, targets.Target, error) {
	p, err := parseParams(c)
	if err != nil {
		return params{}, nil, nil, &InputError{Err: err}
	}
	m, err := r.material(c)
	if err != nil {
		return params{}, nil, nil, err
	}
	tgt, err := r.startTarget(ctx, c, p, m)
	if err != nil {
		var ce *builtin.ConfigError
		if errors.As(err, &ce) {
			return params{}, nil, nil, &InputError{Err: err}
		}
		return params{}, nil, nil, err
	}
	return p, m, tgt, nil
}

// runCase runs one case (one repeat) end to end.
func (r *runner) runCase(ctx context.Context, c *scenarios.Case, rep, n, total int) (*results.Case, error) {
	p, m, tgt, err := r.setUp(ctx, c)
	if err != nil {
		return nil, err
	}
	defer tgt.Close()

	cfg := loadConfig(c, p, m, tgt)
	obs := newObserver(ctx, tgt, r.opts, c, n, total, pidsOf(c, tgt))
	cfg.Observer = obs
	res, err := loadgen.Run(ctx, cfg)
	obs.finish()
	if err != nil {
		if loadgen.IsConfigError(err) {
			return nil, &InputError{Err: err}
		}
		return nil, err
	}
	out := caseResult(c, rep, res)
	if note := clientVerifyNote(c); note != "" {
		out.Warnings = append(out.Warnings, note)
	}
	obs.apply(out, res, c)
	judge(out, res, c)
	for _, w := range out.Warnings {
		if !r.warned[w] {
			r.warned[w] = true
			r.logf("mtlsbench: %s: %s", out.Name, w)
		}
	}
	return out, nil
}

// caseResult converts the engine's figures into the result model.
func caseResult(c *scenarios.Case, rep int, res *loadgen.Result) *results.Case {
	out := &results.Case{
		Name:   c.Name,
		Key:    c.Key,
		Repeat: rep,
		Params: results.Params{
			TLSVersion:       c.TLS,
			CipherSuite:      c.Cipher,
			Group:            c.Group,
			KeyType:          string(c.ServerKey),
			ClientKeyType:    string(c.ClientKey),
			Chain:            c.Chain,
			ClientIdentities: c.ClientIdentities,
			Resume:           c.Resume,
			Concurrency:      c.Load.Concurrency,
			Rate:             c.Load.Rate,
			Requests:         c.Requests,
			HoldS:            c.Load.Hold.D().Seconds(),
			Target:           targetParam(c),
			TargetMode:       c.Target.Mode,
			HandshakeDelayMS: float64(c.Target.HandshakeDelay.D()) / float64(time.Millisecond),
		},
		Status:         results.StatusOK,
		Acceptance:     res.Acceptance,
		ServerVerified: res.ServerVerified,
		Start:          res.Start,
		DurationS:      res.Duration.Seconds(),
		WarmupS:        res.Warmup.Seconds(),
		Counts: results.Counts{
			Attempted: res.Attempted, OK: res.OK, Resumed: res.Resumed, Errors: res.Errors,
			HRR: res.HRR, Requests: res.Requests, Primed: res.Primed,
		},
		Errors:         res.ErrorsByClass,
		ErrorExamples:  res.Examples,
		Negotiated:     res.Negotiated,
		HandshakesPerS: res.HandshakesPerS(),
		Bytes: results.Bytes{
			HandshakeSentMean: res.HandshakeSentMean, HandshakeReceivedMean: res.HandshakeReceivedMean,
			TotalSent: res.TotalSent, TotalReceived: res.TotalReceived,
		},
		Intervals:      res.Intervals,
		Segments:       res.Segments,
		GeneratorBound: res.GeneratorBound,
		Warnings:       append([]string(nil), res.Warnings...),
	}
	if c.Load.Rate == 0 && len(c.Load.Steps) == 0 {
		out.Params.Rate = 0
	} else {
		out.Params.Concurrency = 0
	}
	load := res.Load
	out.Load = &load
	summary := func(name string) *results.Summary {
		h, ok := res.Latency[name]
		if !ok {
			return nil
		}
		s := results.Summarize(h)
		return &s
	}
	out.Latency = results.Latency{
		Connect: summary("connect"), Handshake: summary("handshake"), FirstByte: summary("first_byte"),
		Verify: summary("verify"), Sign: summary("sign"), Requests: summary("requests"),
		Total: summary("total"), TotalUncorrected: summary("total_uncorrected"), ScheduleLag: summary("schedule_lag"),
	}
	out.CPU = results.CPU{ClientCores: res.ClientCores, ClientUtilization: res.ClientUtilization}
	if res.OK > 0 {
		out.CPU.ClientUsPerHandshake = float64(res.ClientCPU.Microseconds()) / float64(res.OK)
	}
	if res.Interrupted {
		out.Status = results.StatusInterrupted
	}
	return out
}

func targetParam(c *scenarios.Case) string {
	if isExternal(c) {
		return c.Target.Addr
	}
	if c.Target.Kind == "" {
		return string(targets.KindBuiltin)
	}
	return c.Target.Kind
}

// judge decides the case's status: a case measures what it says or fails.
func judge(out *results.Case, res *loadgen.Result, c *scenarios.Case) {
	if out.Status == results.StatusInterrupted {
		return
	}
	fail := func(msg string) {
		out.Status = results.StatusFailed
		if out.Failure == "" {
			out.Failure = msg
		}
	}
	if res.OK == 0 {
		if res.Attempted == 0 {
			fail(fmt.Sprintf("no connection completed in the %.1f s window (the target answered nothing within the %s timeout?)", res.Duration.Seconds(), c.Load.Timeout.D()))
		} else {
			cls, ex := topError(res)
			fail(fmt.Sprintf("every handshake failed (%d); most were %s: %s", res.Attempted, cls, ex))
		}
		return
	}
	for _, cls := range []string{"param_mismatch", "resume_miss"} {
		if n := res.ErrorsByClass[cls]; n > 0 {
			fail(fmt.Sprintf("%d handshakes did not negotiate what the case asks (%s): %s", n, cls, res.Examples[cls]))
		}
	}
}

// topError returns the most frequent error class and its example.
func topError(res *loadgen.Result) (string, string) {
	type kv struct {
		k string
		v int64
	}
	var list []kv
	for k, v := range res.ErrorsByClass {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].v != list[j].v {
			return list[i].v > list[j].v
		}
		return list[i].k < list[j].k
	})
	if len(list) == 0 {
		return "", ""
	}
	return list[0].k, res.Examples[list[0].k]
}

// failedCase records a case that could not run at all (its target did not
// start, its PKI could not be made).
func failedCase(c *scenarios.Case, rep int, err error) *results.Case {
	msg := err.Error()
	status := results.StatusFailed
	if errors.Is(err, context.Canceled) {
		status = results.StatusInterrupted
	}
	return &results.Case{
		Name: c.Name, Key: c.Key, Repeat: rep, Status: status, Failure: strings.TrimSpace(msg),
		Params: results.Params{TLSVersion: c.TLS, CipherSuite: c.Cipher, Group: c.Group, KeyType: string(c.ServerKey),
			ClientKeyType: string(c.ClientKey), Chain: c.Chain, ClientIdentities: c.ClientIdentities, Resume: c.Resume,
			Concurrency: c.Load.Concurrency, Rate: c.Load.Rate, Requests: c.Requests, Target: targetParam(c), TargetMode: c.Target.Mode},
		Errors: map[string]int64{}, Negotiated: []results.Negotiated{},
	}
}

// crosscheck compares the target's own record with the client's counts.
// Handshakes the server completed include those the client then refused
// (parameters, resumption) and the priming ones. Handshakes at the window's
// edges may fall on either side — those in flight, and those completing
// while the target's snapshot is taken — so the tolerance is 1% plus
// edgeSlack, the number that can.
func crosscheck(out *results.Case, tc *results.TargetCounts, edgeSlack int64) {
	clientTLS := out.Counts.OK + out.Errors["param_mismatch"] + out.Errors["resume_miss"] + out.Errors["http_status"] + out.Counts.Primed
	slack := func(n int64) float64 { return 0.01*float64(n) + float64(edgeSlack) }
	var problems []string
	if d := math.Abs(float64(tc.Handshakes - clientTLS)); d > slack(clientTLS) {
		problems = append(problems, fmt.Sprintf("the target counted %d handshakes, the client %d", tc.Handshakes, clientTLS))
	}
	if d := math.Abs(float64(tc.Resumed - out.Counts.Resumed)); d > slack(out.Counts.Resumed) {
		problems = append(problems, fmt.Sprintf("the target counted %d resumptions, the client %d", tc.Resumed, out.Counts.Resumed))
	}
	clientVerify := out.Errors["unknown_ca"] + out.Errors["bad_certificate"] + out.Errors["certificate_expired"] + out.Errors["certificate_required"]
	if float64(tc.VerifyFailures) > float64(clientVerify)+slack(clientVerify) {
		problems = append(problems, fmt.Sprintf("the target rejected %d client certificates the client did not count as rejected (%d)", tc.VerifyFailures, clientVerify))
	}
	if len(problems) > 0 && out.Status == results.StatusOK {
		out.Status = results.StatusCrosscheckFailed
		out.Failure = "cross-check with " + tc.Source + ": " + strings.Join(problems, "; ")
	}
}
