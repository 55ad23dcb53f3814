package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/capacity"
	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/targets/builtin"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

func isExternal(c *scenarios.Case) bool {
	return c.Target.Kind == string(targets.KindExternal)
}

// preflight refuses, before any load, what the client stack or the target
// cannot do as asked — in TLS, their capabilities compared by
// tlsparams.Check; apart from it, the target's Check (a mode, workers,
// requests per connection) — finds a missing server binary, and loads an
// external target's PEM files.
func (r *runner) preflight(ctx context.Context, c *scenarios.Case) error {
	capability, err := targets.Capabilities(targets.Kind(c.Target.Kind))
	if err != nil {
		return err
	}
	server := capability.TLS
	if isExternal(c) {
		server.Name += " " + c.Target.Addr
	}
	if err := clientAvailable(c); err != nil {
		return err
	}
	if err := tlsparams.Check(c.Params, clientCapabilities(c), server); err != nil {
		return err
	}
	if err := engineProblem(c); err != nil {
		return err
	}
	if goSigns(c) {
		if err := loadgen.CheckClientSigner(loadgen.ClientSigner(c.Load.ClientSigner)); err != nil {
			return err
		}
	}
	if err := capability.Check(targetConfig(c, &material{}), c.Requests); err != nil {
		return err
	}
	if c.Target.RevokedClients > 0 && c.Target.Mode == string(targets.ModeHandshake) && !capability.ClientVerifyInHandshake {
		return &targets.UnsupportedError{Kind: capability.Kind, What: "revoked clients in handshake mode",
			Reason: "it refuses a client certificate after the TLS handshake, where a client that sends nothing cannot see it; add --requests 1 (it then answers HTTP 400, counted as certificate_revoked)"}
	}
	if err := capability.CheckRequests(targets.Mode(c.Target.Mode), c.Requests); err != nil {
		return err
	}
	if err := capability.CheckRotate(len(c.Target.RotateAt)); err != nil {
		return err
	}
	if len(c.Target.RotateAt) > 0 && !c.Auth.TLS() {
		return &targets.UnsupportedError{Kind: capability.Kind, What: "a certificate rotation (--rotate-at) with auth none", Reason: "plain TCP has no certificate to rotate; rotate in cases with auth mutual or server"}
	}
	if isExternal(c) {
		m, err := r.external(c)
		if err != nil {
			return err
		}
		if err := checkValidity(c, m, time.Now()); err != nil {
			return err
		}
		return r.probe(ctx, c, m)
	}
	return nil
}

// checkValidity refuses client certificates outside their validity window
// (unless the case sends them on purpose): every handshake would fail,
// measuring the server's rejection instead of what the case says.
func checkValidity(c *scenarios.Case, m *material, now time.Time) error {
	if c.Target.SendInvalidCert {
		return nil
	}
	for i, id := range caseIdentities(c, m) {
		leaf := id.Leaf
		if leaf == nil && len(id.Certificate) > 0 {
			leaf, _ = x509.ParseCertificate(id.Certificate[0])
		}
		if leaf == nil {
			continue
		}
		var what string
		switch {
		case now.After(leaf.NotAfter):
			what = "expired on " + leaf.NotAfter.UTC().Format(time.RFC3339)
		case now.Before(leaf.NotBefore):
			what = "is not valid before " + leaf.NotBefore.UTC().Format(time.RFC3339)
		default:
			continue
		}
		return fmt.Errorf("client certificate %q (identity %d of %s) %s (valid %s to %s): every handshake would be refused; "+
			"issue a current one ('mtlsbench pki gen'), or pass --send-invalid-cert (send_invalid_cert: true) to send it on purpose and measure the server's rejection",
			leaf.Subject.CommonName, i+1, identitySource(c), what,
			leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	return nil
}

func identitySource(c *scenarios.Case) string {
	if c.Target.PKI != "" {
		return c.Target.PKI
	}
	return c.Target.Cert
}

// caseIdentities are the client identities a case presents.
func caseIdentities(c *scenarios.Case, m *material) []tls.Certificate {
	ids := m.identities
	if c.ClientIdentities > 0 && c.ClientIdentities < len(ids) {
		ids = ids[:c.ClientIdentities]
	}
	return ids
}

// caseRevoked marks which of caseIdentities are revoked; nil when none
// is.
func caseRevoked(c *scenarios.Case, m *material) []bool {
	r := m.revoked
	if r == nil {
		return nil
	}
	if c.ClientIdentities > 0 && c.ClientIdentities < len(r) {
		r = r[:c.ClientIdentities]
	}
	if !slices.Contains(r, true) {
		return nil
	}
	return r
}

// probe makes one real connection to an external target before any load:
// a mistyped port would otherwise run hundreds of thousands of refused
// connects before the run failed. A target that cannot be reached, or
// does not answer TLS, refuses the run; one that answers with a verdict on
// the certificates (unknown_ca, certificate_required, a version it does
// not speak, ...) is warned about and measured: rejections may be what a
// case is there to measure, and it counts them by class.
func (r *runner) probe(ctx context.Context, c *scenarios.Case, m *material) error {
	cfg := loadModel(c)
	cfg.Addr, cfg.ServerName = c.Target.Addr, c.Target.ServerName
	cfg.Roots, cfg.RootCerts, cfg.Identities = m.roots, m.rootCerts, caseIdentities(c, m)
	cfg.Revoked = caseRevoked(c, m)
	err := loadgen.Probe(ctx, cfg, c.Target.SendInvalidCert)
	var le *loadgen.Error
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &le):
		return err
	case le.Phase == "connect":
		return fmt.Errorf("target %s is not reachable (%s): %w (one connection was tried before any load: is the address right, and the server up?)", c.Target.Addr, le.Class, err)
	case verdicts[le.Class]:
		r.logf("mtlsbench: %s: the one handshake tried before any load was refused (%s): %v; the case goes on and counts such failures (check the CA, client certificate and server name if this is not what it measures)", c.Name, le.Class, err)
		return nil
	}
	return fmt.Errorf("target %s did not complete a TLS handshake (%s): %w (one connection was tried before any load: is it a TLS server, on this port?)", c.Target.Addr, le.Class, err)
}

// verdicts are the failures in which a TLS server answered: it is there
// and speaks TLS, but refused what was offered.
var verdicts = map[loadgen.Class]bool{
	loadgen.ClassUnknownCA: true, loadgen.ClassBadCertificate: true, loadgen.ClassCertificateRequired: true,
	loadgen.ClassCertificateExpired: true, loadgen.ClassCertificateRevoked: true, loadgen.ClassProtocolVersion: true, loadgen.ClassHandshakeFailure: true,
	loadgen.ClassServerCertInvalid: true,
}

// material is the PKI a case uses.
type material struct {
	roots *x509.CertPool
	// rootCerts are the certificates in roots (for the openssl client).
	rootCerts  []*x509.Certificate
	identities []tls.Certificate
	// revoked marks the identities on the CRL (nil: none are).
	revoked   []bool
	server    pki.Identity
	clientCAs []*x509.Certificate
	crls      []*x509.RevocationList
	// bundle is the case's generated PKI (nil for an external target),
	// which issues a rotation's new certificate.
	bundle *pki.Bundle
}

func (r *runner) material(ctx context.Context, c *scenarios.Case) (*material, error) {
	if isExternal(c) {
		return r.external(c)
	}
	b, err := r.pki.get(ctx, r, c)
	if err != nil {
		return nil, err
	}
	m := &material{roots: b.RootPool(), rootCerts: []*x509.Certificate{b.Root.Cert}, identities: b.ClientCertificates(), server: b.Server, clientCAs: []*x509.Certificate{b.Root.Cert}, bundle: b}
	if c.TrustStore > 1 {
		// The case's root first, then the decoys: the same ones for
		// every case of the run (pki.Decoys).
		decoys, err := pki.Decoys(c.TrustStore - 1)
		if err != nil {
			return nil, err
		}
		m.clientCAs = append(m.clientCAs, decoys...)
	}
	if m.crls, err = r.pki.crlsFor(r, c, b); err != nil {
		return nil, err
	}
	if k := c.Target.RevokedClients; k > 0 {
		m.revoked = make([]bool, len(m.identities))
		for i := len(m.identities) - k; i < len(m.identities); i++ {
			m.revoked[i] = true
		}
	}
	return m, nil
}

// external loads the PEM files an external target's case names.
func (r *runner) external(c *scenarios.Case) (*material, error) {
	t := &c.Target
	m := &material{}
	if t.PKI != "" {
		b, err := pki.LoadClientDir(t.PKI)
		if err != nil {
			return nil, err
		}
		m.roots, m.rootCerts, m.identities = b.RootPool(), []*x509.Certificate{b.Root.Cert}, b.ClientCertificates()
		// A crl.pem beside them ('pki gen --revoked', 'pki revoke')
		// says which of them the server should refuse.
		for i := range b.Clients {
			if b.RevokedClient(i) {
				if m.revoked == nil {
					m.revoked = make([]bool, len(b.Clients))
				}
				m.revoked[i] = true
			}
		}
		if c.ClientIdentities > len(m.identities) {
			return nil, fmt.Errorf("bench: case %s: %d client identities asked for, but %s holds %d (make more with 'mtlsbench pki gen --clients %d')", c.Name, c.ClientIdentities, t.PKI, len(m.identities), c.ClientIdentities)
		}
		return m, nil
	}
	if t.CA != "" {
		data, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("bench: read CA file: %w", err)
		}
		certs, err := pki.ParseCertsPEM(data, t.CA)
		if err != nil {
			return nil, err
		}
		m.roots, m.rootCerts = x509.NewCertPool(), certs
		for _, c := range certs {
			m.roots.AddCert(c)
		}
	}
	pair, err := pki.LoadKeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, err
	}
	m.identities = []tls.Certificate{pair}
	return m, nil
}

// targetConfig is the server side of a case: it accepts exactly the
// case's version, group and (when pinned) suite.
func targetConfig(c *scenarios.Case, m *material) targets.Config {
	cfg := targets.Config{
		Kind:           targets.Kind(c.Target.Kind),
		Addr:           c.Target.Addr,
		ServerName:     c.Target.ServerName,
		PIDs:           c.Target.PIDs,
		InProcess:      c.Target.InProcess,
		Identity:       m.server,
		ClientCAs:      m.clientCAs,
		CRLs:           m.crls,
		MinVersion:     uint16(c.Version),
		MaxVersion:     uint16(c.Version),
		Groups:         []tls.CurveID{c.Group.ID},
		Mode:           targets.Mode(c.Target.Mode),
		HandshakeDelay: c.Target.HandshakeDelay.D(),
		CPUs:           c.Target.CPUs,
		Workers:        c.Target.Workers,
		Auth:           c.Auth,
		SessionIDs:     c.ResumeBy.SessionID(),
		EarlyData:      c.EarlyData,
		PSKKE:          c.Params.PSKMode.KE(),
	}
	if su := c.Suite; !su.IsZero() {
		if su.TLS13 {
			// A target that cannot pin one (Go's crypto/tls) accepts
			// all three, and the client offers only this one
			// (tlsparams.Check made sure one side can).
			if targetPinsTLS13(cfg.Kind) {
				cfg.CipherSuitesTLS13 = []uint16{su.ID}
			}
		} else {
			cfg.CipherSuites = []uint16{su.ID}
		}
	}
	return cfg
}

// loadConfig is the client side of a case: its TLS parameters as they
// are (the client stack turns them into its own configuration), the PKI
// and the load.
func loadConfig(c *scenarios.Case, m *material, tgt targets.Target) loadgen.Config {
	ids := caseIdentities(c, m)
	cfg := loadModel(c)
	cfg.Addr, cfg.ServerName = tgt.Addr(), tgt.ServerName()
	cfg.Roots, cfg.RootCerts, cfg.Identities = m.roots, m.rootCerts, ids
	cfg.Revoked = caseRevoked(c, m)
	if !isExternal(c) {
		cfg.CANames = c.TrustStore
	}
	return cfg
}

// loadModel is a case's load, the part of its engine configuration known
// before its target and PKI exist: its TLS parameters, the load model and
// its timing.
func loadModel(c *scenarios.Case) loadgen.Config {
	l := &c.Load
	cfg := loadgen.Config{
		TLS:                c.Params,
		InsecureSkipVerify: l.InsecureSkipVerify,
		Concurrency:        l.Concurrency,
		MaxInFlight:        l.MaxInFlight,
		Warmup:             l.Warmup.D(),
		Duration:           l.Duration.D(),
		Count:              l.Count,
		Interval:           l.Interval.D(),
		Requests:           c.Requests,
		HTTP2:              c.Target.Mode == scenarios.ModeHTTP2,
		Streams:            l.Streams,
		Hold:               l.Hold.D(),
		Timeout:            l.Timeout.D(),
		Linger0:            l.Linger0,
		Signer:             loadgen.ClientSigner(l.ClientSigner),
	}
	if l.Arrivals == "poisson" {
		cfg.Arrivals = loadgen.ArrivalsPoisson
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

// checkFDLimit refuses, before any load, a case whose closed loop cannot
// have all its connections open within this process's file-descriptor
// limit (unless Options.OverFDLimit), and logs at once the warning of one
// that may not fit (an open loop's estimate, or one asked for).
func (r *runner) checkFDLimit(c *scenarios.Case) error {
	cfg := loadModel(c)
	cfg.Shard, cfg.OverFDLimit = r.opts.Sharding.Shard, r.opts.OverFDLimit
	warning, err := loadgen.CheckFDLimit(cfg)
	if err != nil {
		return &InputError{Err: fmt.Errorf("bench: case %s: %w", c.Name, err)}
	}
	if warning != "" {
		r.warn(c.Name, warning)
	}
	return nil
}

// setUp prepares a case: its parameters, its PKI material and a started
// target, which the caller closes.
func (r *runner) setUp(ctx context.Context, c *scenarios.Case) (*material, targets.Target, error) {
	m, err := r.material(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	tgt, err := r.startTarget(ctx, c, m)
	if err != nil {
		var (
			be *builtin.ConfigError
			te *targets.ConfigError
		)
		if errors.As(err, &be) || errors.As(err, &te) {
			return nil, nil, &InputError{Err: err}
		}
		return nil, nil, err
	}
	return m, tgt, nil
}

// runCase runs one case (one repeat) end to end.
func (r *runner) runCase(ctx context.Context, c *scenarios.Case, rep, n, total int) (*results.Case, error) {
	m, tgt, err := r.setUp(ctx, c)
	if err != nil {
		return nil, err
	}
	defer tgt.Close()

	cfg := loadConfig(c, m, tgt)
	sh := r.opts.Sharding
	cfg.Shard, cfg.Seed = sh.Shard, r.seed(n)
	cfg.OverFDLimit = r.opts.OverFDLimit
	local, reference, err := r.startOf(ctx, n-1)
	if err != nil {
		return nil, err
	}
	cfg.StartAt = local
	rot, err := r.newRotator(ctx, c, m, tgt)
	if err != nil {
		return nil, err
	}
	obs := newObserver(ctx, tgt, r.opts, c, n, total, pidsOf(c, tgt))
	if rot != nil {
		cfg.ServerLeaf, obs.rotator = rot.leaf, rot
		// A CA rotation added its new root to the material: the pool the
		// go client verifies with is shared, the openssl client's list
		// is copied.
		cfg.RootCerts = m.rootCerts
	}
	cfg.Observer = obs
	res, err := loadgen.Run(ctx, cfg)
	rot.stop()
	obs.finish()
	if err != nil {
		if loadgen.IsConfigError(err) {
			return nil, &InputError{Err: err}
		}
		return nil, err
	}
	out := caseResult(c, rep, res)
	shardCase(out, res, reference, sh.Shard.Sharded())
	if note := clientVerifyNote(c); note != "" {
		out.Warnings = append(out.Warnings, note)
	}
	obs.apply(out, res, c)
	judge(out, res, c, true)
	rot.apply(out, res)
	if c.Load.SLO != "" && out.Status != results.StatusInterrupted {
		// Validate parsed the objective before any load.
		if err := out.JudgeSLO(c.Load.SLO); err != nil {
			return nil, &InputError{Err: err}
		}
	}
	for _, w := range out.Warnings {
		r.warn(out.Name, w)
	}
	return out, nil
}

// caseResult converts the engine's figures into the result model.
func caseResult(c *scenarios.Case, rep int, res *loadgen.Result) *results.Case {
	out := &results.Case{
		Name:           c.Name,
		Key:            c.Key,
		Repeat:         rep,
		Params:         caseParams(c),
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
		EarlyData:      earlyData(res.EarlyData),
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
	out.UnreachableS, out.Outages = res.Unreachable.Seconds(), res.Outages
	if w := earlyDataWarning(out.EarlyData); w != "" {
		out.Warnings = append(out.Warnings, w)
	}
	if res.Interrupted {
		out.Status = results.StatusInterrupted
	}
	return out
}

// caseParams are the case's parameters as the result records them, the
// same whether the case ran or failed to start: the load model's own
// figure only (concurrency for a closed loop, rate for an open one).
func caseParams(c *scenarios.Case) results.Params {
	p := results.Params{
		TLSVersion:       c.Version.String(),
		CipherSuite:      c.Suite.Name,
		Group:            c.Group.Name,
		KeyType:          string(c.ServerKey),
		ClientKeyType:    string(c.ClientKey),
		Chain:            string(c.Chain),
		ClientIdentities: c.ClientIdentities,
		Resume:           c.Resume.String(),
		Concurrency:      c.Load.Concurrency,
		Rate:             c.Load.Rate,
		Requests:         c.Requests,
		HoldS:            c.Load.Hold.D().Seconds(),
		Target:           targetParam(c),
		TargetMode:       c.Target.Mode,
		HandshakeDelayMS: float64(c.Target.HandshakeDelay.D()) / float64(time.Millisecond),
		TrustStore:       c.TrustStore,
		CRLEntries:       c.CRLEntries,
		RevokedClients:   c.Target.RevokedClients,
		Streams:          c.Load.Streams,
		RotateAt:         rotateAtParam(c.Target.RotateAt),
	}
	if len(c.Target.RotateAt) > 0 {
		p.Rotate = c.Target.Rotate
	}
	if goSigns(c) && c.Load.ClientSigner == string(loadgen.SignerOpenSSL) {
		p.ClientSigner = c.Load.ClientSigner // absent: the client's own signing
	}
	if c.Load.Rate == 0 && len(c.Load.Steps) == 0 {
		p.Rate = 0
	} else {
		p.Concurrency = 0
	}
	p.Auth = c.Auth.String()
	p.Client, p.EarlyData = c.Client.String(), c.EarlyData
	if c.ResumeBy.SessionID() {
		p.ResumeBy = c.ResumeBy.String()
	}
	if c.PSKMode.KE() {
		p.PSKMode = c.PSKMode.String()
	}
	if !c.Auth.TLS() {
		// Plain TCP: no TLS parameter applies, and none is written as
		// if it had (the case's own are the axes' unused defaults).
		p.TLSVersion, p.CipherSuite, p.Group, p.KeyType, p.ClientKeyType = "", "", "", "", ""
		p.Chain, p.ClientIdentities, p.Resume = "", 0, ""
		p.Client, p.ResumeBy, p.EarlyData, p.PSKMode = "", "", 0, ""
	}
	return p
}

// goSigns reports whether the case's client certificate is signed for by
// the Go client, the one load.client_signer applies to: the openssl client
// signs with OpenSSL anyway, and one-way TLS and plain TCP sign nothing.
func goSigns(c *scenarios.Case) bool {
	return c.Auth.Mutual() && c.Params.Client != tlsparams.ClientOpenSSL
}

// rotateAtParam is target.rotate_at as a result parameter: "1s,3s".
func rotateAtParam(at []scenarios.Duration) string {
	s := make([]string, len(at))
	for i, d := range at {
		s[i] = d.String()
	}
	return strings.Join(s, ",")
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
// With budget, errors beyond the case's error budget fail it too (a run;
// a capacity step's errors are judged by the search's SLO instead).
func judge(out *results.Case, res *loadgen.Result, c *scenarios.Case, budget bool) {
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
	if !budget {
		return
	}
	limit, err := capacity.ParseShare(c.Load.ErrorBudget)
	if err != nil {
		// Expand applied the default and Validate checked it.
		limit, _ = capacity.ParseShare(scenarios.DefaultErrorBudget)
	}
	out.ErrorBudget = &limit
	if share := float64(res.Errors) / float64(res.Attempted); res.Errors > 0 && share > limit {
		fail(fmt.Sprintf("%s of %d attempts failed, over the error budget of %s (--error-budget): %s",
			units.Percent(res.Errors, res.Attempted), res.Attempted, units.Share(limit), errorBreakdown(res)))
	}
}

// errorBreakdown lists the error classes, most frequent first, with the
// first's example: "connect_refused 1,990, io 3 (connect_refused: ...)".
func errorBreakdown(res *loadgen.Result) string {
	names := classesByCount(res)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, res.ErrorsByClass[k])
	}
	out := strings.Join(parts, ", ")
	if len(names) > 0 {
		out += fmt.Sprintf(" (%s: %s)", names[0], res.Examples[names[0]])
	}
	return out
}

// topError returns the most frequent error class and its example.
func topError(res *loadgen.Result) (string, string) {
	names := classesByCount(res)
	if len(names) == 0 {
		return "", ""
	}
	return names[0], res.Examples[names[0]]
}

// classesByCount lists the error classes, most frequent first (ties by
// name).
func classesByCount(res *loadgen.Result) []string {
	names := make([]string, 0, len(res.ErrorsByClass))
	for k := range res.ErrorsByClass {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := res.ErrorsByClass[names[i]], res.ErrorsByClass[names[j]]
		if a != b {
			return a > b
		}
		return names[i] < names[j]
	})
	return names
}

// failedCase records a case that could not run at all (its target did not
// start, its PKI could not be made).
func failedCase(c *scenarios.Case, rep int, err error) *results.Case {
	msg := err.Error()
	status := results.StatusFailed
	if errors.Is(err, context.Canceled) {
		status = results.StatusInterrupted
	}
	out := &results.Case{
		Name: c.Name, Key: c.Key, Repeat: rep, Status: status, Failure: strings.TrimSpace(msg),
		Params: caseParams(c),
		Errors: map[string]int64{}, Negotiated: []results.Negotiated{},
	}
	var late *loadgen.LateStartError
	if errors.As(err, &late) {
		out.Errors["late_start"] = 1
	}
	return out
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
	clientVerify := out.Errors["unknown_ca"] + out.Errors["bad_certificate"] + out.Errors["certificate_expired"] + out.Errors["certificate_required"] + out.Errors["certificate_revoked"]
	if float64(tc.VerifyFailures) > float64(clientVerify)+slack(clientVerify) {
		problems = append(problems, fmt.Sprintf("the target rejected %d client certificates the client did not count as rejected (%d)", tc.VerifyFailures, clientVerify))
	}
	problems = append(problems, clientVerifyProblems(out.Params.Auth, tc)...)
	if out.Params.TargetMode == scenarios.ModeHTTP2 && out.Params.Requests > 0 {
		problems = append(problems, http2Crosscheck(out, tc, edgeSlack)...)
	}
	if out.Params.RotateAt != "" {
		problems = append(problems, rotationCrosscheck(out, tc, edgeSlack)...)
	}
	problems = append(problems, earlyDataCrosscheck(out, tc, edgeSlack)...)
	if len(problems) > 0 && out.Status == results.StatusOK {
		out.Status = results.StatusCrosscheckFailed
		out.Failure = "cross-check with " + tc.Source + ": " + strings.Join(problems, "; ")
	}
}

// clientVerifyProblems checks the target's verdicts on client
// certificates (where it records them) against the case's auth: in
// mutual TLS every handshake it served had a verified certificate
// (SUCCESS), in one-way TLS none had one (NONE). One handshake otherwise
// is a server that did not do what the case says.
func clientVerifyProblems(auth string, tc *results.TargetCounts) []string {
	if tc.ClientVerify == nil {
		return nil
	}
	var other []string
	var n int64
	want := targets.ClientVerifySuccess
	switch auth {
	case string(tlsparams.AuthServer):
		want = targets.ClientVerifyNone
	case string(tlsparams.AuthNone):
		return nil
	}
	for _, verdict := range slices.Sorted(maps.Keys(tc.ClientVerify)) {
		if verdict != want && tc.ClientVerify[verdict] > 0 {
			n += tc.ClientVerify[verdict]
			other = append(other, fmt.Sprintf("%s %d", verdict, tc.ClientVerify[verdict]))
		}
	}
	if n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the target's verdict on the client certificate was not %s for %d handshakes (%s), in a case with auth %s",
		want, n, strings.Join(other, ", "), auth)}
}

// http2Crosscheck compares, in HTTP/2 mode, the requests the target
// answered with those the client completed, and checks that the target
// answered them over HTTP/2. A connection at a window's edge may have any
// of its requests on either side, hence edgeSlack connections' worth; a
// connection that failed may have had some answered that the client does
// not count, hence as many again per error.
func http2Crosscheck(out *results.Case, tc *results.TargetCounts, edgeSlack int64) []string {
	if tc.Requests == 0 && out.Counts.Requests == 0 {
		return nil
	}
	var problems []string
	perConn := int64(out.Params.Requests)
	slack := 0.01*float64(out.Counts.Requests) + float64((edgeSlack+out.Counts.Errors)*perConn)
	if d := math.Abs(float64(tc.Requests - out.Counts.Requests)); d > slack {
		problems = append(problems, fmt.Sprintf("the target answered %d requests, the client completed %d", tc.Requests, out.Counts.Requests))
	}
	if other := tc.Requests - tc.HTTP2Requests; other > 0 {
		problems = append(problems, fmt.Sprintf("the target answered %d of its %d requests over a protocol other than HTTP/2", other, tc.Requests))
	}
	return problems
}

// targetPinsTLS13 reports whether a target of kind can be made to accept
// only one TLS 1.3 suite.
func targetPinsTLS13(kind targets.Kind) bool {
	capability, err := targets.Capabilities(kind)
	return err != nil || capability.TLS.Has(tlsparams.PinTLS13Suite)
}
