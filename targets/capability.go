package targets

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Capability is what one kind of target can enforce and report on this
// machine. A case is refused before any load when its TLS capabilities
// (tlsparams.Check) or Check say the target cannot measure it as asked.
type Capability struct {
	Kind Kind `json:"kind"`
	// Binary is the server's executable (empty for the built-in target) and
	// Package the Debian package that provides it.
	Binary  string `json:"binary,omitempty"`
	Package string `json:"package,omitempty"`
	// Version is the server's own version ("nginx/1.22.1").
	Version string `json:"version,omitempty"`
	// TLS is what its TLS stack can be made to do: library, versions,
	// groups, features. tlsparams.Check compares it with the client
	// stack's before any load; the TLS refusals are worded there.
	TLS tlsparams.Capabilities `json:"tls"`
	// Modes the target serves.
	Modes []Mode `json:"modes"`
	// MaxWorkers limits Config.Workers (0: no limit; 1 for s_server, which
	// serves one connection at a time).
	MaxWorkers int `json:"max_workers,omitempty"`
	// MaxWorkersWhy says why MaxWorkers, for the refusal; empty: it serves
	// one connection at a time.
	MaxWorkersWhy string `json:"-"`
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
	// Plaintext is true when the target can serve a case without TLS
	// (auth none) on a plaintext listener; NoPlaintext says why not.
	Plaintext   bool   `json:"plaintext"`
	NoPlaintext string `json:"-"`
	// RecordsRequestsOnly is true when, in the HTTP modes, the server's
	// record has a line per request and none for a connection that made
	// no request (nginx's access log): such connections cannot be
	// cross-checked, and a case without requests is refused (see
	// CheckRequests).
	RecordsRequestsOnly bool `json:"records_requests_only,omitempty"`
	// Rotate is true when the target can replace its server certificate
	// while it serves (it is a Rotator); NoRotate says why not.
	Rotate   bool   `json:"rotate,omitempty"`
	NoRotate string `json:"-"`
}

// CheckRotate refuses certificate rotations (run --rotate-at) on a target
// that cannot replace its certificate while it serves, naming why.
func (c Capability) CheckRotate(rotations int) error {
	if rotations == 0 || c.Rotate {
		return nil
	}
	why := c.NoRotate
	if why == "" {
		why = "it cannot replace its certificate while it serves"
	}
	return &UnsupportedError{Kind: c.Kind, What: "a certificate rotation (--rotate-at)",
		Reason: why + "; rotate against builtin, nginx or haproxy"}
}

// CheckRequests refuses an HTTP case without requests on a target whose
// record would show none of its connections (RecordsRequestsOnly).
func (c Capability) CheckRequests(mode Mode, requests int) error {
	if !c.RecordsRequestsOnly || requests > 0 || (mode != ModeHTTP && mode != ModeHTTP2) {
		return nil
	}
	return &UnsupportedError{Kind: c.Kind, What: fmt.Sprintf("mode %s with no requests", mode),
		Reason: "its record has a line per request and no line for a connection that made no request, so its handshakes could not be cross-checked; " +
			"send at least one request per connection (--requests 1,10,100: the amortization section then extrapolates the handshake's own cost), or use handshake mode"}
}

// MissingBinaryError reports a managed server that is not installed.
type MissingBinaryError struct {
	Kind    Kind
	Binary  string
	Package string
	// Install is how to install it when that is not the Debian package
	// (node: from the npm registry); empty: apt-get install Package.
	Install string
}

func (e *MissingBinaryError) Error() string {
	if e.Install != "" {
		return fmt.Sprintf("targets: %s: %s not found: %s", e.Kind, e.Binary, e.Install)
	}
	return fmt.Sprintf("targets: %s: %s not found in PATH (or /usr/sbin): install the Debian package %s (apt-get install %s)",
		e.Kind, e.Binary, e.Package, e.Package)
}

// UnsupportedError reports a case a target cannot measure as asked for a
// reason other than TLS (a mode, workers, requests per connection; TLS
// refusals are tlsparams.UnsupportedError).
type UnsupportedError struct {
	Kind   Kind
	What   string // what was asked, e.g. "mode \"grpc\""
	Reason string // why, and what would work
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("targets: %s cannot serve %s: %s", e.Kind, e.What, e.Reason)
}

// Check refuses, apart from TLS, what the target cannot serve exactly as
// asked — a mode, a number of workers, plain TCP (auth none), requests
// per connection (0: none) — naming what, why and what would work.
func (c Capability) Check(cfg Config, requests int) error {
	if cfg.Mode != "" && !slices.Contains(c.Modes, cfg.Mode) {
		accepted := make([]string, len(c.Modes))
		for i, m := range c.Modes {
			accepted[i] = string(m)
		}
		reason := "accepted: " + strings.Join(accepted, ", ")
		if cfg.Mode == ModeHTTP2 {
			reason += "; HTTP/2 needs builtin, nginx or haproxy"
		}
		return &UnsupportedError{Kind: c.Kind, What: fmt.Sprintf("mode %q", cfg.Mode), Reason: reason}
	}
	if c.MaxWorkers > 0 && cfg.Workers > c.MaxWorkers {
		reason := fmt.Sprintf("it serves one connection at a time (at most %d worker)", c.MaxWorkers)
		if c.MaxWorkersWhy != "" {
			reason = c.MaxWorkersWhy
		}
		return &UnsupportedError{Kind: c.Kind, What: fmt.Sprintf("%d workers", cfg.Workers), Reason: reason}
	}
	if cfg.Auth == tlsparams.AuthNone && !c.Plaintext {
		why := c.NoPlaintext
		if why == "" {
			why = "it has no plaintext listener"
		}
		return &UnsupportedError{Kind: c.Kind, What: "auth none (plain TCP)", Reason: why + "; measure plain TCP against builtin, nginx or haproxy"}
	}
	// Resumption by session ID and early data are server settings too:
	// a kind that lacks them refuses them here, in tlsparams' words, as
	// tlsparams.Check does for a whole case.
	if cfg.SessionIDs && !c.TLS.Unconfigured && !c.TLS.Has(tlsparams.SessionIDResumption) {
		return c.TLS.Refuse(tlsparams.SessionIDResumption, string(tlsparams.SessionIDResumption), "")
	}
	if cfg.EarlyData > 0 && !c.TLS.Unconfigured && !c.TLS.Has(tlsparams.EarlyData) {
		return c.TLS.Refuse(tlsparams.EarlyData, string(tlsparams.EarlyData), "")
	}
	if max := c.MaxRequestsPerConn; max > 0 && requests > max {
		return &UnsupportedError{Kind: c.Kind, What: fmt.Sprintf("%d requests per connection", requests),
			Reason: fmt.Sprintf("it answers at most %d request per connection; use nginx or haproxy for keep-alive requests", max)}
	}
	return nil
}
