package scenarios

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// MaxCases bounds how many cells a scenario's matrix may have (before
// exclude): past it the run would take days, and the mistake is usually an
// axis listed by accident.
const MaxCases = 10000

// DefaultServerName is the SNI for managed targets. The load's defaults
// are the engine's (loadgen.DefaultDuration and its kin), applied by
// Expand so that a Case says what it runs with.
const DefaultServerName = "localhost"

// cell is one matrix cell: a canonical value per axis.
type cell struct {
	v [numAxes]string
}

func (c *cell) matches(rule [numAxes]string) bool {
	for i, want := range rule {
		if want != "" && c.v[i] != want {
			return false
		}
	}
	return true
}

// Expand turns a scenario into the cases to run, one per matrix cell:
//
//  1. Defaults are applied, on a copy: each empty axis takes its default
//     (see Matrix), Target and Load theirs (see Case).
//  2. The cartesian product of the axes is taken in a stable order: axes
//     in the order the file wrote them (the first varies slowest), then
//     the others in AxisNames order; values in the order written.
//  3. exclude rules remove the cells they match; then include rules, in
//     order, either match a cell (and add nothing) or add a cell built
//     from their values and the axes' defaults, as a GitHub Actions matrix
//     does.
//  4. Cells the TLS stack cannot express are moved to skipped with the
//     reason: TLS 1.2 with a post-quantum group, a HelloRetryRequest, or a
//     TLS 1.3 suite; TLS 1.3 with a TLS 1.2 suite; a TLS 1.2 suite whose
//     authentication does not fit the server key. So is an auth none cell
//     that repeats an earlier one: without TLS its TLS axes take their
//     defaults (they mean nothing), which makes cells that differ only
//     in them the same plain-TCP case.
//  5. What a client stack or a target cannot be made to do (pin a TLS
//     1.3 suite, send a key share that causes a retry) is not Expand's
//     to judge: their capabilities refuse it before any load
//     (tlsparams.Check).
//
// If no cell is left, that is an error saying why. Each case gets a Key
// built from every parameter that defines what is measured, in a fixed
// order with defaults spelled out,
//
//	tls=1.3,cipher=any,group=x25519,key_share=x25519,server_key=ecdsa-p256,client_key=ecdsa-p256,chain=root,identities=1,resume=none,requests=0,target=builtin,mode=handshake
//
// (auth only when it is not mutual, ",auth=server"; trust_store,
// crl_entries, client, early_data and psk_mode only away from their
// defaults, 1, 0, go, 0 and dhe; ",revoked=K" at the end with
// target.revoked_clients; so that keys from before those axes still
// match) so the same cell has the same key in any scenario (load
// settings are not part of it), and a readable Name unique within the
// scenario: TLS version, resumption (full, resumed, resume80), server key
// (and "client-" plus the client key where it differs), group (and "hrr-"
// plus the key share where they differ), then the cipher, chain, client
// identities ("ids100"), requests ("req10"), auth ("mutual",
// "server-only"), trust store ("ca200") and CRL entries ("crl1000") where
// those vary in the scenario, then the client stack ("openssl"), early
// data ("early512") and psk mode ("psk-ke") wherever they are not their
// defaults, all joined by "-" (resume session-id reads
// "resumed-sessionid"); an auth none case is
// "plain-tcp" (and its requests where they vary). Skipped cells are named too, after the runnable ones: a
// cell whose name is taken spells out its cipher's authentication
// ("rsa-aes128gcm"), then gets "-2", "-3", ... in expansion order.
func Expand(spec Spec) (cases []Case, skipped []Skipped, err error) {
	p := &problems{spec: &spec}
	spec.check(p)
	if len(p.errs) > 0 {
		return nil, nil, asError(p.errs)
	}
	vals := spec.axisValues(&problems{})
	external := spec.Target.Kind == KindExternal
	defaults := axisDefaults(external)

	total := 1
	for _, v := range vals {
		total *= max(len(v), 1)
		if total > MaxCases {
			p.add("matrix", nil, fmt.Sprintf("the matrix has more than %d cells; narrow an axis, or split the scenario", MaxCases), "")
			return nil, nil, asError(p.errs)
		}
	}

	cells := product(vals, defaults, spec.axisOrder())
	before := len(cells)
	for i, r := range spec.Exclude {
		rule, _, _ := spec.ruleCells(p, "exclude", i, r)
		cells = slices.DeleteFunc(cells, func(c cell) bool { return c.matches(rule) })
	}
	excludedAll := before > 0 && len(cells) == 0
	for i, r := range spec.Include {
		rule, _, _ := spec.ruleCells(p, "include", i, r)
		if slices.ContainsFunc(cells, func(c cell) bool { return c.matches(rule) }) {
			continue
		}
		c := cell{v: defaults}
		for ax := range numAxes {
			if rule[ax] != "" {
				c.v[ax] = rule[ax]
			}
		}
		derive(&c)
		plainCell(&c, defaults)
		cells = append(cells, c)
	}
	if len(cells) == 0 && excludedAll {
		p.add("exclude", nil, "the exclude rules remove every case; nothing is left to run", "")
		return nil, nil, asError(p.errs)
	}

	kind := spec.Target.Kind
	if kind == "" {
		kind = KindBuiltin
	}
	// Runnable cells claim their names first, so a skipped cell never
	// pushes a runnable one to a "-2" name.
	reasons := make([]string, len(cells))
	for i := range cells {
		reasons[i] = cells[i].inexpressible()
		if reasons[i] == "" && spec.Target.Mode == ModeHTTP2 && cells[i].v[axAuth] == AuthNone {
			reasons[i] = "mode http2 is HTTP/2 over TLS (ALPN h2): plain TCP has no ALPN, and cleartext HTTP/2 (h2c) is not measured"
		}
	}
	same := samePlainCase(cells, reasons)
	names := caseNames(cells, reasons)
	for i, j := range same {
		reasons[i] = fmt.Sprintf("auth none has no TLS, so its TLS axes (tls, cipher, group, key_share, server_key, client_key, chain, client_identities, resume, trust_store, crl_entries, client, early_data, psk_mode) mean nothing: this is the same plain-TCP case as %s", names[j])
	}
	var distinct []string
	for i, c := range cells {
		cs := spec.newCase(c, kind)
		cs.Name = names[i]
		if why := reasons[i]; why != "" {
			skipped = append(skipped, Skipped{Case: cs, Reason: why})
			if !slices.Contains(distinct, why) {
				distinct = append(distinct, why)
			}
			continue
		}
		cases = append(cases, cs)
	}
	if len(p.errs) > 0 {
		return nil, nil, asError(p.errs)
	}
	if len(cases) == 0 {
		if len(distinct) > 3 {
			distinct = append(distinct[:3], fmt.Sprintf("and %d more", len(distinct)-3))
		}
		p.add("matrix", nil, "every case is one the TLS stack cannot express, so nothing is left to run: "+strings.Join(distinct, "; ")+". Add a value that fits (e.g. tls 1.3 for a post-quantum group), or exclude the impossible cells", "")
		return nil, nil, asError(p.errs)
	}
	return cases, skipped, nil
}

// axisDefaults is the value each empty axis takes. key_share and
// client_key are derived from group and server_key ("" here); an external
// target's certificates are whatever it has ("any").
func axisDefaults(external bool) [numAxes]string {
	d := [numAxes]string{
		axTLS:        "1.3",
		axCipher:     anyValue,
		axGroup:      "x25519",
		axServerKey:  string(pki.DefaultKeyType),
		axChain:      ChainRoot,
		axIdentities: "1",
		axResume:     ResumeNone,
		axRequests:   "0",
		axAuth:       AuthMutual,
		axTrustStore: "1",
		axCRLEntries: "0",
		axClient:     ClientGo,
		axEarlyData:  "0",
		axPSKMode:    string(tlsparams.PSKModeDHE),
	}
	if external {
		// "0": every client identity the target's files give (one from
		// cert and key; all of a pki directory's).
		d[axServerKey], d[axChain], d[axIdentities] = anyValue, anyValue, "0"
	}
	return d
}

// derive fills key_share and client_key when they follow another axis.
func derive(c *cell) {
	if c.v[axKeyShare] == "" {
		c.v[axKeyShare] = c.v[axGroup]
	}
	if c.v[axClientKey] == "" {
		c.v[axClientKey] = c.v[axServerKey]
	}
}

// plainCell gives an auth none cell the defaults of the axes that mean
// nothing without TLS, so that cells differing only in them are the same
// case (samePlainCase) with the same key.
func plainCell(c *cell, defaults [numAxes]string) {
	if c.v[axAuth] != AuthNone {
		return
	}
	for _, ax := range tlsOnlyAxes {
		c.v[ax] = defaults[ax]
	}
	derive(c)
}

// samePlainCase finds the auth none cells that repeat an earlier runnable
// one (plainCell made them equal): index → the earlier cell's index. Their
// reasons are marked so that they are named after the runnable cells.
func samePlainCase(cells []cell, reasons []string) map[int]int {
	same := map[int]int{}
	for i := range cells {
		if cells[i].v[axAuth] != AuthNone || reasons[i] != "" {
			continue
		}
		for j := range i {
			if reasons[j] == "" && cells[j].v == cells[i].v {
				same[i] = j
				reasons[i] = "same"
				break
			}
		}
	}
	return same
}

// axisOrder is the order axes are expanded in: as written in the file
// (the first varies slowest, as in a GitHub Actions matrix), then those not
// written there in AxisNames order.
func (s *Spec) axisOrder() []int {
	order := make([]int, numAxes)
	for i := range order {
		order[i] = i
	}
	written := func(ax int) (position, bool) {
		p, ok := s.pos["matrix."+axes[ax].name+keySuffix]
		return p, ok
	}
	slices.SortStableFunc(order, func(a, b int) int {
		pa, oka := written(a)
		pb, okb := written(b)
		switch {
		case oka && okb:
			if pa.line != pb.line {
				return pa.line - pb.line
			}
			return pa.column - pb.column
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
	return order
}

// product returns the cartesian product of the axes, order[0] varying
// slowest.
func product(vals [numAxes][]axisValue, defaults [numAxes]string, order []int) []cell {
	var cells []cell
	var at [numAxes]int
	for {
		c := cell{v: defaults}
		for ax, vs := range vals {
			if len(vs) > 0 {
				c.v[ax] = vs[at[ax]].canon
			}
		}
		derive(&c)
		plainCell(&c, defaults)
		cells = append(cells, c)
		k := numAxes - 1
		for ; k >= 0; k-- {
			ax := order[k]
			at[ax]++
			if at[ax] < len(vals[ax]) {
				break
			}
			at[ax] = 0
		}
		if k < 0 {
			return cells
		}
	}
}

// inexpressible returns why the TLS stack cannot run c, or "".
func (c *cell) inexpressible() string {
	if c.v[axAuth] == AuthServer {
		if ts := c.v[axTrustStore]; ts != "1" {
			return fmt.Sprintf("one-way TLS (auth server) requests no client certificate, so a trust store of %s CAs is never sent or used", ts)
		}
		if n := c.v[axCRLEntries]; n != "0" {
			return fmt.Sprintf("one-way TLS (auth server) has no client certificate to check against a CRL of %s entries", n)
		}
	}
	tlsv, group, share := c.v[axTLS], c.v[axGroup], c.v[axKeyShare]
	if why := c.resumptionInexpressible(); why != "" {
		return why
	}
	su, pinned := suiteOf(c.v[axCipher])
	if tlsv == "1.2" {
		if isPostQuantum(group) {
			return fmt.Sprintf("TLS 1.2 has no post-quantum key exchange (group %s is TLS 1.3 only)", group)
		}
		if share != group {
			return fmt.Sprintf("TLS 1.2 has no HelloRetryRequest (key_share %s differs from group %s)", share, group)
		}
		if pinned && su.TLS13 {
			return fmt.Sprintf("%s is a TLS 1.3 suite, not usable in TLS 1.2", su.Name)
		}
		if sk := c.v[axServerKey]; pinned && sk != anyValue && su.Auth != authFamily(sk) {
			return fmt.Sprintf("%s needs %s server key, and %s is not one", su.Name, authNeeds(su.Auth), sk)
		}
		return ""
	}
	if pinned && !su.TLS13 {
		return fmt.Sprintf("%s is a TLS 1.2 suite, not usable in TLS 1.3", su.Name)
	}
	return ""
}

// resumptionInexpressible returns why TLS cannot carry what c asks of
// resumption, or "": session IDs resume TLS 1.2 only; early data and
// psk_ke are TLS 1.3 features of resumed connections. (tlsparams.Check
// refuses the same for a caller that builds Params itself.)
func (c *cell) resumptionInexpressible() string {
	tlsv, resume := c.v[axTLS], c.v[axResume]
	if resume == ResumeSessionID && tlsv != "1.2" {
		return fmt.Sprintf("session IDs resume TLS 1.2 only (TLS %s resumes with pre-shared keys from tickets)", tlsv)
	}
	var what []string
	if n := c.v[axEarlyData]; n != "0" {
		what = append(what, fmt.Sprintf("early data of %s bytes", n))
	}
	if c.v[axPSKMode] != string(tlsparams.PSKModeDHE) {
		what = append(what, "psk_mode "+c.v[axPSKMode])
	}
	switch {
	case len(what) == 0:
		return ""
	case tlsv != "1.3":
		return fmt.Sprintf("%s: a TLS 1.3 feature, and this cell is TLS %s", strings.Join(what, " and "), tlsv)
	case resume == ResumeNone:
		return fmt.Sprintf("%s: happens on resumed connections only, and this cell has resume none", strings.Join(what, " and "))
	}
	return ""
}

func authNeeds(auth string) string {
	if auth == "rsa" {
		return "an RSA"
	}
	return "an ECDSA or Ed25519"
}

// keyOmitsDefault are the axes a key names only away from their default
// (auth mutual, trust_store 1, crl_entries 0), so that the keys of results
// measured before these axes existed still match the same cases.
var keyOmitsDefault = map[int]string{axAuth: AuthMutual, axTrustStore: "1", axCRLEntries: "0",
	axClient: ClientGo, axEarlyData: "0", axPSKMode: string(tlsparams.PSKModeDHE)}

// key returns the canonical key of c on a target of kind in mode.
func (c *cell) key(kind, mode string) string {
	var b strings.Builder
	for ax := range numAxes {
		if def, ok := keyOmitsDefault[ax]; ok && c.v[ax] == def {
			continue
		}
		fmt.Fprintf(&b, "%s=%s,", axes[ax].keyName, c.v[ax])
	}
	fmt.Fprintf(&b, "target=%s,mode=%s", kind, mode)
	return b.String()
}

// modeFor is the mode a case runs in: the target's, else http when it
// sends requests.
func modeFor(target string, requests string) string {
	if target != "" {
		return target
	}
	if requests != "0" {
		return ModeHTTP
	}
	return ModeHandshake
}

// newCase builds the Case for c, defaults applied.
func (s *Spec) newCase(c cell, kind string) Case {
	t := s.Target
	t.Kind = kind
	t.Mode = modeFor(t.Mode, c.v[axRequests])
	t.PIDs = slices.Clone(t.PIDs)
	t.RotateAt = slices.Clone(t.RotateAt)
	if t.ServerName == "" {
		t.ServerName = DefaultServerName
		if kind == KindExternal {
			if host, _, err := net.SplitHostPort(t.Addr); err == nil {
				t.ServerName = host
			}
		}
	}
	l := s.Load
	l.Steps = slices.Clone(l.Steps)
	open := l.Rate > 0 || len(l.Steps) > 0
	if l.Duration == 0 && l.Count == 0 && len(l.Steps) == 0 {
		l.Duration = Duration(loadgen.DefaultDuration)
	}
	if l.Interval == 0 {
		l.Interval = Duration(loadgen.DefaultInterval)
	}
	if l.Timeout == 0 {
		l.Timeout = Duration(loadgen.DefaultTimeout)
	}
	if l.ErrorBudget == "" {
		l.ErrorBudget = DefaultErrorBudget
	}
	if open {
		if l.MaxInFlight == 0 {
			l.MaxInFlight = loadgen.DefaultMaxInFlight
		}
	} else if l.Concurrency == 0 {
		l.Concurrency = loadgen.DefaultConcurrency()
	}

	if l.Streams == 0 && t.Mode == ModeHTTP2 {
		l.Streams = 1
	}
	key := c.key(kind, t.Mode)
	if l.Streams > 1 {
		// Streams in flight change what a request costs: a case with
		// more than one is not the same cell as one with one.
		key += ",streams=" + strconv.Itoa(l.Streams)
	}
	cs := Case{
		Key:    key,
		Params: c.params(),
		Target: t,
		Load:   l,
	}
	cs.ClientIdentities, _ = strconv.Atoi(c.v[axIdentities])
	cs.Requests, _ = strconv.Atoi(c.v[axRequests])
	cs.TrustStore, _ = strconv.Atoi(c.v[axTrustStore])
	cs.CRLEntries, _ = strconv.Atoi(c.v[axCRLEntries])
	if t.RevokedClients > 0 {
		cs.Key += ",revoked=" + strconv.Itoa(t.RevokedClients)
	}
	if len(t.RotateAt) > 0 {
		// A rotated run is not the same cell as one that never rotates.
		at := make([]string, len(t.RotateAt))
		for i, d := range t.RotateAt {
			at[i] = d.String()
		}
		cs.Key += ",rotate_at=" + strings.Join(at, "+")
		if t.Rotate == "" {
			cs.Target.Rotate = RotateCert
		}
		if cs.Target.Rotate == RotateCA {
			cs.Key += ",rotate=ca"
		}
	}
	return cs
}

// params types c's TLS parameters. Every value is canonical and checked,
// so nothing here can fail; "any" stays the zero value.
func (c *cell) params() tlsparams.Params {
	var p tlsparams.Params
	p.Version, _ = tlsparams.ParseVersion(c.v[axTLS])
	if su, pinned := suiteOf(c.v[axCipher]); pinned {
		p.Suite = su
	}
	p.Group, _ = tlsparams.ParseGroup(c.v[axGroup])
	p.KeyShare, _ = tlsparams.ParseGroup(c.v[axKeyShare])
	if v := c.v[axServerKey]; v != anyValue {
		p.ServerKey = pki.KeyType(v)
	}
	if v := c.v[axClientKey]; v != anyValue {
		p.ClientKey = pki.KeyType(v)
	}
	if v := c.v[axChain]; v != anyValue {
		p.Chain = tlsparams.Chain(v)
	}
	if c.v[axResume] == ResumeSessionID {
		p.Resume, p.ResumeBy = tlsparams.ResumeTickets, tlsparams.ResumeBySessionID
	} else {
		_ = p.Resume.UnmarshalText([]byte(c.v[axResume]))
	}
	p.Auth, _ = tlsparams.ParseAuth(c.v[axAuth])
	if c.v[axClient] != ClientGo {
		p.Client = tlsparams.Client(c.v[axClient])
	}
	p.EarlyData, _ = strconv.Atoi(c.v[axEarlyData])
	if m := c.v[axPSKMode]; m != string(tlsparams.PSKModeDHE) {
		p.PSKMode = tlsparams.PSKMode(m)
	}
	return p
}

// caseNames names every cell, unique among them. Cells with no skip
// reason are named first, in order; a cell whose name is taken tries the
// long form of its cipher ("rsa-aes128gcm"), then a number ("-2").
func caseNames(cells []cell, skipReasons []string) []string {
	var varies [numAxes]bool
	for ax := range numAxes {
		for _, c := range cells {
			if c.v[ax] != cells[0].v[ax] {
				varies[ax] = true
				break
			}
		}
	}
	names := make([]string, len(cells))
	taken := map[string]bool{}
	claim := func(i int) {
		short, long := cells[i].nameParts(varies)
		name := strings.Join(short, "-")
		if taken[name] {
			name = strings.Join(long, "-")
		}
		base := name
		for n := 2; taken[name]; n++ {
			name = base + "-" + strconv.Itoa(n)
		}
		taken[name] = true
		names[i] = name
	}
	for pass := range 2 {
		for i := range cells {
			if (skipReasons[i] == "") == (pass == 0) {
				claim(i)
			}
		}
	}
	return names
}

// nameParts returns the parts of c's name, and a longer form that spells
// out the cipher's authentication.
func (c *cell) nameParts(varies [numAxes]bool) (short, long []string) {
	if c.v[axAuth] == AuthNone {
		// No TLS: none of its parameters names the case.
		parts := []string{"plain-tcp"}
		if varies[axRequests] {
			parts = append(parts, "req"+c.v[axRequests])
		}
		return parts, slices.Clone(parts)
	}
	parts := []string{"tls" + c.v[axTLS], resumeName(c.v[axResume])}
	if sk := c.v[axServerKey]; sk != anyValue {
		parts = append(parts, sk)
	}
	if ck := c.v[axClientKey]; ck != c.v[axServerKey] && ck != anyValue {
		parts = append(parts, "client", ck)
	}
	parts = append(parts, c.v[axGroup])
	if c.v[axKeyShare] != c.v[axGroup] {
		parts = append(parts, "hrr", c.v[axKeyShare])
	}
	cipherAt := -1
	if varies[axCipher] {
		cipherAt = len(parts)
		parts = append(parts, cipherShort(c.v[axCipher]))
	}
	if varies[axChain] {
		parts = append(parts, c.v[axChain])
	}
	if varies[axIdentities] {
		parts = append(parts, "ids"+c.v[axIdentities])
	}
	if varies[axRequests] {
		parts = append(parts, "req"+c.v[axRequests])
	}
	if varies[axAuth] {
		parts = append(parts, authName(c.v[axAuth]))
	}
	if varies[axTrustStore] {
		parts = append(parts, "ca"+c.v[axTrustStore])
	}
	if varies[axCRLEntries] {
		parts = append(parts, "crl"+c.v[axCRLEntries])
	}
	// The go client, no early data and psk_dhe_ke name nothing: names
	// from before these axes stay as they were.
	if c.v[axClient] != ClientGo {
		parts = append(parts, c.v[axClient])
	}
	if c.v[axEarlyData] != "0" {
		parts = append(parts, "early"+c.v[axEarlyData])
	}
	if c.v[axPSKMode] != string(tlsparams.PSKModeDHE) {
		parts = append(parts, "psk-"+c.v[axPSKMode])
	}
	long = slices.Clone(parts)
	if su, ok := suiteOf(c.v[axCipher]); ok && cipherAt >= 0 && su.Auth != "" {
		long[cipherAt] = su.Auth + "-" + long[cipherAt]
	}
	return parts, long
}

// authName is how an auth value reads in a TLS case's name.
func authName(canon string) string {
	if canon == AuthServer {
		return "server-only"
	}
	return canon
}

// resumeName is how a resume value reads in a case name: full, resumed, or
// resume80 for a ratio of 0.8.
func resumeName(canon string) string {
	switch canon {
	case ResumeNone:
		return "full"
	case ResumeTickets:
		return "resumed"
	case ResumeSessionID:
		return "resumed-sessionid"
	}
	ratio, _ := strconv.ParseFloat(canon, 64)
	pct := math.Round(ratio*100*100) / 100
	return "resume" + strconv.FormatFloat(pct, 'f', -1, 64)
}
