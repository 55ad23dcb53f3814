package tlsparams

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
)

// Feature is something a case can ask of a TLS stack that not every stack
// can do. Each is enforced by one side or either; Check knows which.
type Feature string

const (
	// PinTLS13Suite restricts TLS 1.3 to one cipher suite. Either side
	// can enforce it: a client that offers only that suite, or a server
	// that accepts only it.
	PinTLS13Suite Feature = "pin a TLS 1.3 cipher suite"
	// SessionIDResumption is TLS 1.2 resumption by session ID (a server
	// session cache, tickets off). Both sides must do it.
	SessionIDResumption Feature = "resume by session ID"
	// EarlyData is TLS 1.3 early data (0-RTT) on resumed connections. Both
	// sides must do it.
	EarlyData Feature = "send and accept TLS 1.3 early data (0-RTT)"
	// PSKKE is TLS 1.3 resumption without (EC)DHE (psk_ke): the client
	// offers it and the server picks it. Both sides must do it.
	PSKKE Feature = "resume without (EC)DHE (psk_ke)"
)

// Capabilities are what one TLS stack — a client stack of the engine or a
// target — can be made to do on this machine. Client stacks (loadgen) and
// targets (package targets) each describe themselves with one; Check
// compares a case with a pair of them.
type Capabilities struct {
	// Name is the stack as refusals name it: "the go client", "the
	// builtin target", "nginx", "the external target 10.0.0.1:8443".
	Name string `json:"name"`
	// Library is the TLS library it runs with ("Go crypto/tls go1.26.8",
	// "OpenSSL 3.0.19"); empty when unknown.
	Library string `json:"library,omitempty"`
	// Unconfigured marks a server mtlsbench does not set up (an external
	// target): nothing can be enforced on it and what it lacks is not
	// known, so Check relies on the other side, and every handshake's
	// check on what was negotiated.
	Unconfigured bool `json:"unconfigured,omitempty"`
	// Versions it speaks.
	Versions []Version `json:"versions,omitempty"`
	// Groups it can offer (a client) or accept (a target).
	Groups []Group `json:"groups,omitempty"`
	// Features it has.
	Features []Feature `json:"features,omitempty"`
	// Lacks says, for a feature it lacks, why (for the refusal); a lacking
	// feature not listed reads "Library has no setting for it".
	Lacks map[Feature]string `json:"-"`
	// KeySharePreference, for a client that picks its first key share
	// itself, is the order it ranks groups in: it sends its first share
	// for the highest-ranked group it offers, whatever order it is given
	// them in (Go's crypto/tls). Nil: it sends it for the first group
	// offered. HybridSharesClassical: offering a post-quantum hybrid and
	// its classical half, it sends a share for each.
	KeySharePreference    []Group `json:"key_share_preference,omitempty"`
	HybridSharesClassical bool    `json:"hybrid_shares_classical,omitempty"`
	// GroupsFix, when set, is what would give this stack a group its
	// library lacks (the node target: a Node.js that bundles OpenSSL 3.5);
	// empty: CanUse names Go's crypto/tls, which has them all.
	GroupsFix string `json:"-"`
}

// Has reports whether c has feature f.
func (c Capabilities) Has(f Feature) bool { return slices.Contains(c.Features, f) }

// Speaks reports whether c speaks version v.
func (c Capabilities) Speaks(v Version) bool { return slices.Contains(c.Versions, v) }

// Offers reports whether c can offer (client) or accept (target) group g.
func (c Capabilities) Offers(g Group) bool {
	return slices.ContainsFunc(c.Groups, func(h Group) bool { return h.ID == g.ID })
}

// MissingGroups lists, in Groups() order, the groups c cannot use.
func (c Capabilities) MissingGroups() []Group {
	var out []Group
	for _, g := range groups {
		if !c.Offers(g) {
			out = append(out, g)
		}
	}
	return out
}

func (c Capabilities) lacks(f Feature) string {
	if why := c.Lacks[f]; why != "" {
		return why
	}
	if c.Library == "" {
		return "it has no setting for it"
	}
	return c.Library + " has no setting for it"
}

// GoTLS is the capabilities of Go's crypto/tls, as a client or a server:
// TLS 1.2 and 1.3, every group, no way to pin a TLS 1.3 suite, and its own
// ranking of key shares. name says which side it is ("the go client").
func GoTLS(name string) Capabilities {
	return Capabilities{
		Name:     name,
		Library:  "Go crypto/tls " + runtime.Version(),
		Versions: []Version{TLS12, TLS13},
		Groups:   Groups(),
		Lacks: map[Feature]string{
			PinTLS13Suite:       "Go's crypto/tls always offers and accepts all three TLS 1.3 suites and has no setting to restrict them",
			SessionIDResumption: "Go's crypto/tls resumes only with tickets (TLS 1.2 session tickets, TLS 1.3 PSKs): it keeps no session-ID cache",
			EarlyData:           "Go's crypto/tls neither sends nor accepts TLS 1.3 early data",
			PSKKE:               "Go's crypto/tls offers and accepts only psk_dhe_ke (resumption with a fresh (EC)DHE)",
		},
		KeySharePreference:    goKeySharePreference(),
		HybridSharesClassical: true,
	}
}

// goKeySharePreference is the order in which Go's crypto/tls client ranks
// key-exchange groups (crypto/tls defaults.go, defaultCurvePreferences). A
// test checks it against real handshakes.
func goKeySharePreference() []Group {
	names := []string{"x25519mlkem768", "secp256r1mlkem768", "secp384r1mlkem1024", "x25519", "p256", "p384", "p521"}
	out := make([]Group, len(names))
	for i, n := range names {
		out[i], _ = ParseGroup(n)
	}
	return out
}

// hybridClassical is a post-quantum hybrid's classical half.
var hybridClassical = map[string]string{
	"x25519mlkem768":     "x25519",
	"secp256r1mlkem768":  "p256",
	"secp384r1mlkem1024": "p384",
}

// UnsupportedError is a case that a stack, or a pair of them, cannot run
// exactly as asked: refused before any load. It reads
//
//	tlsparams: the go client and the builtin target cannot pin TLS 1.3 suite TLS_AES_256_GCM_SHA384: <why>; <what would work>
//
// and is the one wording of every such refusal.
type UnsupportedError struct {
	// Who is the stack or stacks ("the builtin target", "the go client and
	// the builtin target").
	Who string
	// What is what was asked ("pin TLS 1.3 suite X", "use group Y").
	What string
	// Reason says why not, Fix what would work.
	Reason, Fix string
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("tlsparams: %s cannot %s: %s", e.Who, e.What, e.Reason)
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

// Refuse is the refusal of c for feature f: what was asked, c's reason,
// and fix.
func (c Capabilities) Refuse(f Feature, what, fix string) *UnsupportedError {
	return &UnsupportedError{Who: c.Name, What: what, Reason: c.lacks(f), Fix: fix}
}

// Check refuses, before any load, a case that client and server cannot run
// exactly as asked; nil when they can. Each rule is written once here:
//
//   - both speak the version (an unconfigured server is taken at its word);
//   - the client offers the group and the key share, and the server
//     accepts the group;
//   - a TLS 1.3 suite is pinned by either side (a TLS 1.2 suite both
//     sides of every stack can pin);
//   - a key share that differs from the group makes the client's first
//     share miss, so that the server must ask again;
//   - none of this applies without TLS (Auth none).
func Check(p Params, client, server Capabilities) error {
	if !p.Auth.TLS() {
		// Plain TCP: no TLS parameter applies (the target's plaintext
		// listener is targets.Capability's to check).
		return nil
	}
	if !client.Speaks(p.Version) {
		return &UnsupportedError{Who: client.Name, What: "speak TLS " + p.Version.String(), Reason: "it speaks TLS " + versionList(client.Versions)}
	}
	if !server.Unconfigured && !server.Speaks(p.Version) {
		return &UnsupportedError{Who: server.Name, What: "speak TLS " + p.Version.String(), Reason: "it speaks TLS " + versionList(server.Versions)}
	}
	for _, g := range []Group{p.Group, p.FirstShare()} {
		if err := client.CanUse(g); err != nil {
			return err
		}
	}
	if !server.Unconfigured {
		if err := server.CanUse(p.Group); err != nil {
			return err
		}
	}
	if p.Suite.TLS13 && !client.Has(PinTLS13Suite) && (server.Unconfigured || !server.Has(PinTLS13Suite)) {
		e := &UnsupportedError{
			Who:    client.Name + " and " + server.Name,
			What:   "pin TLS 1.3 suite " + p.Suite.Name,
			Reason: client.lacks(PinTLS13Suite),
			Fix:    "use a client or a target that can (the openssl client: --client openssl; an OpenSSL-based target: nginx, haproxy, openssl), or cipher any (the negotiated suite is recorded)",
		}
		switch {
		case server.Unconfigured:
			e.Reason += ", and " + server.Name + " is not configured by mtlsbench"
		case server.Library != client.Library:
			e.Reason += ", and " + server.lacks(PinTLS13Suite)
		}
		return e
	}
	if err := checkResumption(p, client, server); err != nil {
		return err
	}
	if p.ExpectsHRR() {
		if why := client.hrrProblem(p.FirstShare(), p.Group); why != "" {
			return &UnsupportedError{Who: client.Name, What: fmt.Sprintf("be made to retry from key share %s to group %s", p.FirstShare(), p.Group), Reason: why}
		}
	}
	return nil
}

// CanUse refuses group g when c cannot offer or accept it, saying why and
// what would: nil when it can.
func (c Capabilities) CanUse(g Group) error {
	if c.Offers(g) {
		return nil
	}
	reason := fmt.Sprintf("it runs with %s, which does not offer %s", c.Library, g.OpenSSL)
	if g.PostQuantum {
		reason += " (ML-KEM hybrid groups need OpenSSL 3.5 or later)"
	}
	e := &UnsupportedError{Who: c.Name, What: "use group " + g.Name, Reason: reason}
	if c.GroupsFix != "" {
		e.Fix = c.GroupsFix
	} else if !strings.HasPrefix(c.Library, "Go crypto/tls") {
		e.Fix = "Go's crypto/tls (the go client, the builtin target) offers it"
	}
	return e
}

func versionList(vs []Version) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.String()
	}
	return strings.Join(names, ", ")
}

// CausesHRR reports whether client c, offering keyShare and group (and
// nothing else), gets a HelloRetryRequest from a server accepting only
// group. A client with no KeySharePreference sends its first share for
// the group offered first (keyShare); one with a preference sends it for
// the higher-ranked of the two, and with HybridSharesClassical a hybrid's
// share carries its classical half along when that is offered.
func (c Capabilities) CausesHRR(keyShare, group Group) bool {
	if keyShare.ID == group.ID {
		return false
	}
	if c.KeySharePreference == nil {
		return true
	}
	rs, rg := c.rank(keyShare), c.rank(group)
	return rs >= 0 && rg >= 0 && rs < rg && !(c.HybridSharesClassical && hybridClassical[keyShare.Name] == group.Name)
}

func (c Capabilities) rank(g Group) int {
	return slices.IndexFunc(c.KeySharePreference, func(h Group) bool { return h.ID == g.ID })
}

// HRRKeyShares lists the key shares with which client c gets a
// HelloRetryRequest to group.
func (c Capabilities) HRRKeyShares(group Group) []Group {
	var ok []Group
	for _, ks := range groups {
		if c.Offers(ks) && c.CausesHRR(ks, group) {
			ok = append(ok, ks)
		}
	}
	return ok
}

// hrrProblem explains why client c, offering keyShare and group, would not
// see the HelloRetryRequest the case expects; "" when it would.
func (c Capabilities) hrrProblem(keyShare, group Group) string {
	if c.CausesHRR(keyShare, group) {
		return ""
	}
	order := make([]string, len(c.KeySharePreference))
	for i, g := range c.KeySharePreference {
		order[i] = g.Name
	}
	var why string
	if c.rank(keyShare) > c.rank(group) {
		why = fmt.Sprintf("it always sends its first key share for the highest-ranked group it offers (order: %s), and %s ranks above %s, so the server gets the share it wants and never asks again; swap them (group: %s, key_share: %s) to measure a HelloRetryRequest",
			strings.Join(order, ", "), group, keyShare, keyShare, group)
	} else {
		why = fmt.Sprintf("offering the hybrid %s it also sends a share for its classical half %s, which the server takes without a retry", keyShare, group)
	}
	if ok := c.HRRKeyShares(group); len(ok) > 0 {
		names := make([]string, len(ok))
		for i, g := range ok {
			names[i] = g.Name
		}
		why += fmt.Sprintf("; key shares that do make it retry to %s: %s", group, strings.Join(names, ", "))
	} else {
		why += fmt.Sprintf("; no key share can: %s ranks first", group)
	}
	return why
}

// Needs lists the features of p that both sides must have: resumption by
// session ID, early data, psk_ke.
func (p Params) Needs() []Feature {
	var fs []Feature
	if p.ResumeBy.SessionID() {
		fs = append(fs, SessionIDResumption)
	}
	if p.EarlyData > 0 {
		fs = append(fs, EarlyData)
	}
	if p.PSKMode.KE() {
		fs = append(fs, PSKKE)
	}
	return fs
}

// checkResumption refuses what a case asks of resumption that its version
// cannot carry, and a feature of Needs that either side lacks (an
// unconfigured server is taken at its word: every handshake's check
// decides).
func checkResumption(p Params, client, server Capabilities) error {
	what := func(f Feature) string { return string(f) }
	switch {
	case p.ResumeBy.SessionID() && p.Version != TLS12:
		return &UnsupportedError{Who: "TLS " + p.Version.String(), What: what(SessionIDResumption), Reason: "session IDs resume TLS 1.2 only (TLS 1.3 resumes with pre-shared keys from tickets)", Fix: "use tls 1.2 with resume session-id, or resume tickets"}
	case (p.EarlyData > 0 || p.PSKMode.KE()) && p.Version != TLS13:
		f := EarlyData
		if p.EarlyData == 0 {
			f = PSKKE
		}
		return &UnsupportedError{Who: "TLS " + p.Version.String(), What: what(f), Reason: "it is a TLS 1.3 feature", Fix: "use tls 1.3"}
	case (p.EarlyData > 0 || p.PSKMode.KE()) && p.Resume == ResumeNone:
		return &UnsupportedError{Who: "a case with resume none", What: "send early data or resume with psk_ke", Reason: "both happen on resumed connections only", Fix: "add resume tickets (or a ratio)"}
	}
	for _, f := range p.Needs() {
		if !client.Has(f) {
			return client.Refuse(f, what(f), "the openssl client can (--client openssl, or client: openssl in a scenario)")
		}
		if !server.Unconfigured && !server.Has(f) {
			return server.Refuse(f, what(f), "")
		}
	}
	return nil
}
