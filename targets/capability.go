package targets

import (
	"fmt"

	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Capability is what one kind of target can enforce and report on this
// machine. The lead refuses a case before any load when Check says the
// target cannot measure it as asked.
type Capability struct {
	Kind Kind `json:"kind"`
	// Binary is the server's executable (empty for the built-in target) and
	// Package the Debian package that provides it.
	Binary  string `json:"binary,omitempty"`
	Package string `json:"package,omitempty"`
	// Version is the server's own version ("nginx/1.22.1") and Library the
	// TLS library it runs with ("OpenSSL 3.0.19").
	Version string `json:"version,omitempty"`
	Library string `json:"library"`
	// Versions are the TLS versions it accepts ("1.2", "1.3").
	Versions []string `json:"versions"`
	// TLS13SuitePinning is true when the target can be configured to accept
	// only some TLS 1.3 suites (Config.CipherSuitesTLS13). crypto/tls cannot.
	TLS13SuitePinning bool `json:"tls13_suite_pinning"`
	// Groups are the key-exchange groups (mtlsbench names) the target can
	// offer; MissingGroups those of tlsparams.Groups it cannot.
	Groups        []string `json:"groups"`
	MissingGroups []string `json:"missing_groups,omitempty"`
	// Modes the target serves.
	Modes []Mode `json:"modes"`
	// MaxWorkers limits Config.Workers (0: no limit; 1 for s_server, which
	// serves one connection at a time).
	MaxWorkers int `json:"max_workers,omitempty"`
	// MaxRequestsPerConn limits HTTP requests per connection (0: no limit;
	// 1 for s_server -www, which answers HTTP/1.0 and closes).
	MaxRequestsPerConn int `json:"max_requests_per_conn,omitempty"`
	// ClientVerifyInHandshake is true when a client certificate the server
	// rejects fails the TLS handshake with an alert. nginx completes the
	// handshake and then refuses the connection (HTTP 400, or a close in
	// handshake mode), so a client can only see the rejection afterwards
	// and the cross-check is what catches it.
	ClientVerifyInHandshake bool `json:"client_verify_in_handshake"`
	// CrossCheck names the server's own record that Counts reads.
	CrossCheck string `json:"cross_check"`
}

// MissingBinaryError reports a managed server that is not installed.
type MissingBinaryError struct {
	Kind    Kind
	Binary  string
	Package string
}

func (e *MissingBinaryError) Error() string {
	return fmt.Sprintf("targets: %s: %s not found in PATH (or /usr/sbin): install the Debian package %s (apt-get install %s)",
		e.Kind, e.Binary, e.Package, e.Package)
}

// UnsupportedError reports a case a target cannot measure as asked.
type UnsupportedError struct {
	Kind   Kind
	What   string // the parameter, e.g. "group x25519mlkem768"
	Reason string // why, and what would work
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("targets: %s cannot use %s: %s", e.Kind, e.What, e.Reason)
}

// Check refuses a configuration the target cannot run exactly as asked,
// naming the parameter, the reason and what would work.
func (c Capability) Check(cfg Config) error {
	if c.Kind == KindBuiltin && len(cfg.CipherSuitesTLS13) > 0 {
		return &UnsupportedError{Kind: c.Kind, What: "a TLS 1.3 cipher suite",
			Reason: "Go's crypto/tls always offers all three TLS 1.3 suites; use --target nginx, haproxy or openssl, which enforce it"}
	}
	for _, id := range cfg.Groups {
		g, ok := tlsparams.GroupByID(id)
		if !ok {
			return &UnsupportedError{Kind: c.Kind, What: fmt.Sprintf("group %s", id), Reason: "unknown group (accepted: " + tlsparams.GroupNames() + ")"}
		}
		for _, missing := range c.MissingGroups {
			if missing != g.Name {
				continue
			}
			reason := fmt.Sprintf("%s runs with %s, which does not offer %s", c.Kind, c.Library, g.OpenSSL)
			if g.PostQuantum {
				reason += " (ML-KEM hybrid groups need OpenSSL 3.5 or later)"
			}
			return &UnsupportedError{Kind: c.Kind, What: "group " + g.Name,
				Reason: reason + "; the builtin target (Go crypto/tls) offers it"}
		}
	}
	if cfg.Mode != "" {
		ok := false
		for _, m := range c.Modes {
			ok = ok || m == cfg.Mode
		}
		if !ok {
			return &UnsupportedError{Kind: c.Kind, What: fmt.Sprintf("mode %q", cfg.Mode), Reason: "accepted: handshake, http"}
		}
	}
	if c.MaxWorkers > 0 && cfg.Workers > c.MaxWorkers {
		return &UnsupportedError{Kind: c.Kind, What: fmt.Sprintf("%d workers", cfg.Workers),
			Reason: fmt.Sprintf("it serves one connection at a time (at most %d worker)", c.MaxWorkers)}
	}
	return nil
}
