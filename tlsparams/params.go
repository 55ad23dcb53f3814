package tlsparams

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/pki"
)

// Params are one case's TLS parameters, typed: what the client offers, what
// the target accepts, and what every handshake must negotiate. The
// scenarios package fills them from its names; the engine, the targets and
// the result read them, and nothing parses a name again. A zero field
// means "not asked for": any suite, any server key, and so on.
type Params struct {
	// Version is the one TLS version offered and accepted.
	Version Version `json:"tls"`
	// Suite is the one cipher suite to negotiate; zero: any (the stacks'
	// choice, recorded as negotiated).
	Suite Suite `json:"cipher"`
	// Group is the key-exchange group the target accepts and every full
	// handshake must negotiate.
	Group Group `json:"group"`
	// KeyShare is the group of the client's first key share. When it
	// differs from Group the target must answer with a HelloRetryRequest,
	// which every full handshake then must show. Zero: Group.
	KeyShare Group `json:"key_share"`
	// ServerKey and ClientKey are the certificates' key types; ServerKey is
	// checked on every full handshake. Zero: whatever an external target's
	// certificates are (recorded as presented).
	ServerKey pki.KeyType `json:"server_key"`
	ClientKey pki.KeyType `json:"client_key"`
	// Chain is how the leaf certificates are issued. Zero: an external
	// target's own.
	Chain Chain `json:"chain"`
	// Resume is the share of handshakes that resume a session.
	Resume Resume `json:"resume"`
	// Auth is who proves its identity: mutual (zero), server (one-way
	// TLS) or none (plain TCP, no TLS at all).
	Auth Auth `json:"auth,omitempty"`
	// Client is the client stack: go (zero) or openssl.
	Client Client `json:"client,omitempty"`
	// ResumeBy is how resumed handshakes find their session: tickets
	// (zero) or, in TLS 1.2, session IDs (ResumeBySessionID).
	ResumeBy ResumeBy `json:"resume_by,omitempty"`
	// EarlyData is how many bytes of TLS 1.3 early data (0-RTT) a resumed
	// handshake sends; 0: none.
	EarlyData int `json:"early_data,omitempty"`
	// PSKMode is the TLS 1.3 PSK key-exchange mode a resumption asks for:
	// psk_dhe_ke (zero) or psk_ke (PSKModeKE).
	PSKMode PSKMode `json:"psk_mode,omitempty"`
}

// FirstShare is the group of the client's first key share: KeyShare, or
// Group when KeyShare is zero.
func (p Params) FirstShare() Group {
	if p.KeyShare.ID != 0 {
		return p.KeyShare
	}
	return p.Group
}

// ExpectsHRR reports whether every full handshake must see a
// HelloRetryRequest: the client's first key share is not for the group
// the target accepts.
func (p Params) ExpectsHRR() bool { return p.FirstShare().ID != p.Group.ID }

// Offered is the client's group list: the first key share's group, then
// the case's group. In TLS 1.2 an OpenSSL server accepts an ECDSA
// certificate only on a curve the client lists in supported_groups, as
// every real client does, so the server key's curve follows (TLS 1.2 has
// no key shares: the server still picks the case's group first, and the
// check still demands it). A server key that is not named (an external
// target) may be on either common curve: P-256 and P-384 are listed, as
// browsers do.
func (p Params) Offered() []tls.CurveID {
	groups := []tls.CurveID{p.FirstShare().ID}
	if p.Group.ID != groups[0] {
		groups = append(groups, p.Group.ID)
	}
	if p.Version == TLS12 {
		curves := []tls.CurveID{tls.CurveP256, tls.CurveP384}
		if curve, ok := ECDSACurve(p.ServerKey); ok {
			curves = []tls.CurveID{curve}
		} else if p.ServerKey != "" {
			curves = nil
		}
		for _, c := range curves {
			if !slices.Contains(groups, c) {
				groups = append(groups, c)
			}
		}
	}
	return groups
}

// ECDSACurve is the group of an ECDSA key type's curve.
func ECDSACurve(k pki.KeyType) (tls.CurveID, bool) {
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

// Chain is how a case's leaf certificates are issued.
type Chain string

const (
	// ChainRoot: leaves signed by the root CA.
	ChainRoot Chain = "root"
	// ChainIntermediate: leaves signed by an intermediate CA, sent along.
	ChainIntermediate Chain = "intermediate"
)

// Resume is the share of handshakes that resume a session, 0 to 1: 0
// never (every handshake is full), 1 always after each worker's first
// (tickets), in between a deterministic interleaving. It is written
// "none", "tickets" or the ratio ("0.8").
type Resume float64

const (
	ResumeNone    Resume = 0
	ResumeTickets Resume = 1
)

// Ratio is r as a float64.
func (r Resume) Ratio() float64 { return float64(r) }

// String returns "none", "tickets" or the ratio ("0.8").
func (r Resume) String() string {
	switch r {
	case ResumeNone:
		return "none"
	case ResumeTickets:
		return "tickets"
	}
	return strconv.FormatFloat(float64(r), 'f', -1, 64)
}

// MarshalText writes r as String does.
func (r Resume) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads what String writes.
func (r *Resume) UnmarshalText(b []byte) error {
	switch s := string(b); s {
	case "none", "":
		*r = ResumeNone
	case "tickets":
		*r = ResumeTickets
	default:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v > 0 && v <= 1) {
			return fmt.Errorf("tlsparams: resume %q: want none, tickets or a ratio in (0, 1]", s)
		}
		*r = Resume(v)
	}
	return nil
}

// Auth is who proves its identity in a case's connections.
type Auth string

const (
	// AuthMutual (and the zero value): the server requests and verifies a
	// client certificate, which the client sends.
	AuthMutual Auth = "mutual"
	// AuthServer is one-way TLS: the server does not request a client
	// certificate and the client sends none.
	AuthServer Auth = "server"
	// AuthNone is no TLS: plain TCP to a plaintext listener of the same
	// server (and, with requests, the same HTTP/1.1 requests).
	AuthNone Auth = "none"
)

// AuthNames lists the accepted values.
const AuthNames = "mutual, server, none"

// ParseAuth parses "mutual", "server" or "none", in any case.
func ParseAuth(s string) (Auth, error) {
	switch a := Auth(strings.ToLower(strings.TrimSpace(s))); a {
	case AuthMutual, AuthServer, AuthNone:
		return a, nil
	}
	return "", fmt.Errorf("unknown auth %q (accepted: %s)", s, AuthNames)
}

// String returns "mutual", "server" or "none" ("mutual" for zero).
func (a Auth) String() string {
	if a == "" {
		return string(AuthMutual)
	}
	return string(a)
}

// Mutual reports whether the client presents a certificate the server
// verifies (AuthMutual or zero).
func (a Auth) Mutual() bool { return a == "" || a == AuthMutual }

// TLS reports whether there is a TLS handshake at all (not AuthNone).
func (a Auth) TLS() bool { return a != AuthNone }
