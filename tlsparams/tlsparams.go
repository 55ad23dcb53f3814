// Package tlsparams owns a case's TLS parameters, from the scenario to the
// handshake: their names in the spellings users type, Go uses and
// OpenSSL-based servers expect (versions, cipher suites, key-exchange
// groups); the typed Params a case carries (those plus certificate key
// types, chain and resumption); and Capabilities, the one place that says
// what a client stack or a target can be made to do, and refuses in one
// wording what it cannot. Every package that parses or prints such a name
// goes through here, so a name means the same thing everywhere; after the
// scenarios package, nothing parses a parameter string again. It does no
// I/O.
package tlsparams

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// Version is a TLS protocol version, as crypto/tls numbers it. It is
// written "1.2" or "1.3" in text and JSON; zero is "".
type Version uint16

// The versions a case can ask for.
const (
	TLS12 Version = tls.VersionTLS12
	TLS13 Version = tls.VersionTLS13
)

// ParseVersion parses "1.2" or "1.3" (also "tls1.3", "TLSv1.3").
func ParseVersion(s string) (Version, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.TrimPrefix(strings.TrimPrefix(n, "tls"), "v")
	switch n {
	case "1.2", "12":
		return TLS12, nil
	case "1.3", "13":
		return TLS13, nil
	}
	return 0, fmt.Errorf("unknown TLS version %q (accepted: 1.2, 1.3)", s)
}

// String returns "1.2" or "1.3" ("" for zero).
func (v Version) String() string { return VersionString(uint16(v)) }

// MarshalText writes v as String does.
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads what ParseVersion accepts, or "" for zero.
func (v *Version) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*v = 0
		return nil
	}
	p, err := ParseVersion(string(b))
	if err != nil {
		return fmt.Errorf("tlsparams: %w", err)
	}
	*v = p
	return nil
}

// VersionString returns "1.2" or "1.3" (or Go's name for older versions).
func VersionString(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	case 0:
		return ""
	}
	return strings.TrimPrefix(tls.VersionName(v), "TLS ")
}

// Group is a key-exchange group ("curve" in crypto/tls).
type Group struct {
	// Name is mtlsbench's spelling: x25519, p256, x25519mlkem768, ...
	Name string
	ID   tls.CurveID
	// OpenSSL is the name OpenSSL's groups lists use.
	OpenSSL string
	// PostQuantum marks ML-KEM hybrids (TLS 1.3 only).
	PostQuantum bool
}

var groups = []Group{
	{"x25519", tls.X25519, "X25519", false},
	{"p256", tls.CurveP256, "P-256", false},
	{"p384", tls.CurveP384, "P-384", false},
	{"p521", tls.CurveP521, "P-521", false},
	{"x25519mlkem768", tls.X25519MLKEM768, "X25519MLKEM768", true},
	{"secp256r1mlkem768", tls.SecP256r1MLKEM768, "SecP256r1MLKEM768", true},
	{"secp384r1mlkem1024", tls.SecP384r1MLKEM1024, "SecP384r1MLKEM1024", true},
}

// String returns the group's name ("" for the zero Group).
func (g Group) String() string { return g.Name }

// MarshalText writes the group's name.
func (g Group) MarshalText() ([]byte, error) { return []byte(g.Name), nil }

// UnmarshalText reads what ParseGroup accepts, or "" for the zero Group.
func (g *Group) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*g = Group{}
		return nil
	}
	p, err := ParseGroup(string(b))
	if err != nil {
		return fmt.Errorf("tlsparams: %w", err)
	}
	*g = p
	return nil
}

// Groups returns every supported group in a stable order.
func Groups() []Group { return append([]Group(nil), groups...) }

// GroupNames lists the accepted group names, comma separated.
func GroupNames() string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
	}
	return strings.Join(names, ", ")
}

// ParseGroup parses a group name: mtlsbench's, OpenSSL's (P-256,
// prime256v1, X25519MLKEM768) or Go's (CurveP256).
func ParseGroup(s string) (Group, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.NewReplacer("-", "", "_", "").Replace(n)
	switch n {
	case "prime256v1", "secp256r1", "curvep256":
		n = "p256"
	case "secp384r1", "curvep384":
		n = "p384"
	case "secp521r1", "curvep521":
		n = "p521"
	}
	for _, g := range groups {
		if g.Name == n {
			return g, nil
		}
	}
	return Group{}, fmt.Errorf("unknown group %q (accepted: %s)", s, GroupNames())
}

// GroupByID finds a group by its code point.
func GroupByID(id tls.CurveID) (Group, bool) {
	for _, g := range groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// GroupName returns mtlsbench's name for id: "" for zero (no key exchange,
// as in a TLS 1.2 resumption), Go's String() for groups not in the table.
func GroupName(id tls.CurveID) string {
	if id == 0 {
		return ""
	}
	if g, ok := GroupByID(id); ok {
		return g.Name
	}
	return id.String()
}

// Suite is a cipher suite.
type Suite struct {
	// Name is the IANA name, as crypto/tls spells it.
	Name string
	ID   uint16
	// OpenSSL is OpenSSL's name (the same as Name for TLS 1.3 suites).
	OpenSSL string
	// TLS13 is true for TLS 1.3 suites, which crypto/tls cannot pin.
	TLS13 bool
	// Auth is the server key family a TLS 1.2 suite requires: "ecdsa"
	// (ECDSA and Ed25519 keys) or "rsa"; "" for TLS 1.3 suites.
	Auth string
}

var suites = []Suite{
	{"TLS_AES_128_GCM_SHA256", tls.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", true, ""},
	{"TLS_AES_256_GCM_SHA384", tls.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", true, ""},
	{"TLS_CHACHA20_POLY1305_SHA256", tls.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", true, ""},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", false, "ecdsa"},
	{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", false, "ecdsa"},
	{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", false, "ecdsa"},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", false, "ecdsa"},
	{"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", false, "ecdsa"},
	{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", false, "rsa"},
	{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", false, "rsa"},
	{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", false, "rsa"},
	{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", false, "rsa"},
	{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", false, "rsa"},
}

// IsZero reports whether s is the zero Suite: any suite the stacks agree on.
func (s Suite) IsZero() bool { return s.ID == 0 }

// String returns the IANA name ("" for the zero Suite).
func (s Suite) String() string { return s.Name }

// MarshalText writes the IANA name ("" for any).
func (s Suite) MarshalText() ([]byte, error) { return []byte(s.Name), nil }

// UnmarshalText reads what ParseSuite accepts, or "" for any.
func (s *Suite) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = Suite{}
		return nil
	}
	p, err := ParseSuite(string(b))
	if err != nil {
		return fmt.Errorf("tlsparams: %w", err)
	}
	*s = p
	return nil
}

// Suites returns every supported suite (TLS 1.3 first).
func Suites() []Suite { return append([]Suite(nil), suites...) }

// SuiteNames lists accepted suite names for version v (0: all).
func SuiteNames(v uint16) string {
	var names []string
	for _, s := range suites {
		if v == 0 || (v == tls.VersionTLS13) == s.TLS13 {
			names = append(names, s.Name)
		}
	}
	return strings.Join(names, ", ")
}

// ParseSuite parses an IANA name (TLS_AES_128_GCM_SHA256) or an OpenSSL name
// (ECDHE-ECDSA-AES128-GCM-SHA256), case-insensitively.
func ParseSuite(s string) (Suite, error) {
	n := strings.ToUpper(strings.TrimSpace(s))
	for _, su := range suites {
		if su.Name == n || strings.ToUpper(su.OpenSSL) == n {
			return su, nil
		}
	}
	return Suite{}, fmt.Errorf("unknown cipher suite %q (accepted: %s)", s, SuiteNames(0))
}

// SuiteByID finds a suite by its code point.
func SuiteByID(id uint16) (Suite, bool) {
	for _, s := range suites {
		if s.ID == id {
			return s, true
		}
	}
	return Suite{}, false
}

// SuiteName returns the IANA name of id ("" for zero).
func SuiteName(id uint16) string {
	if id == 0 {
		return ""
	}
	if s, ok := SuiteByID(id); ok {
		return s.Name
	}
	return tls.CipherSuiteName(id)
}
