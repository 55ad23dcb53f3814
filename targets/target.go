// Package targets is what mtlsbench measures against: the Target
// interface, its Config and Capability, and Start for every kind. Every
// target has the httptest lifecycle: configure → Start → Addr() → Close().
//
// The kinds live in packages of their own, which import this one and
// register themselves in their init (see Register): targets/builtin, the
// built-in Go mTLS server, in this process or a child process of its own;
// targets/managed, nginx, HAProxy and openssl s_server. External targets,
// servers mtlsbench did not start, are this package's (external.go). A
// program links the kinds it can start by importing those packages, as
// bench does.
//
// The package must not depend on loadgen: the load generator and the
// servers it measures stay apart.
package targets

import (
	"context"
	"errors"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// Target is a running server under test.
type Target interface {
	// Addr is the host:port to dial.
	Addr() string
	// ServerName is the name to send in SNI and verify the certificate
	// against.
	ServerName() string
	// Counts returns what the server has observed since it started. It
	// returns ErrNoCounts if the target cannot tell.
	Counts(ctx context.Context) (Counts, error)
	// PIDs returns the processes whose CPU time is the target's (the root of
	// each process tree); nil if the target is not a local process.
	PIDs() []int
	// Close stops the server and waits until it is gone.
	Close() error
}

// WindowCounter is implemented by targets whose own record is timestamped
// (managed servers' logs). CountsBetween returns what the server recorded
// for connections it accepted in [from, to), read after the fact: it waits,
// bounded by ctx, until the server has written those records (e.g. the log
// has been quiet for a moment after the load stopped).
type WindowCounter interface {
	CountsBetween(ctx context.Context, from, to time.Time) (Counts, error)
}

// Rotator is a target whose server certificate can be replaced while it
// serves: a certificate rotation under load (run --rotate-at), done the
// way the server's operators do it. Capability.Rotate says whether a kind
// is one; CheckRotate refuses, before any load, a kind that is not.
type Rotator interface {
	// Rotate makes the target serve id (a fresh certificate and key that
	// verify against the same trust as the old ones) from now on, and
	// returns once a new connection is served with it: the built-in
	// target swaps an atomic pointer; nginx has its files rewritten and
	// its master sent SIGHUP (a graceful reload), HAProxy takes it through
	// its runtime API, and a probe handshake must see the new
	// certificate. Connections already open finish with the certificate
	// they began with.
	Rotate(ctx context.Context, id pki.Identity) error
}

// ErrNoCounts is returned by Counts when the target keeps no record.
var ErrNoCounts = errors.New("targets: this target does not report counts")

// Counts is what a server observed. Target.Counts are cumulative since
// start: take the difference of two snapshots (Sub) for a window, or ask a
// WindowCounter for the connections accepted in it.
type Counts struct {
	// Handshakes completed successfully (client verified and accepted).
	Handshakes int64 `json:"handshakes"`
	// Resumed of those were resumptions.
	Resumed int64 `json:"resumed"`
	// Failed handshakes, of which VerifyFailures failed verifying the
	// client's certificate.
	Failed         int64 `json:"failed"`
	VerifyFailures int64 `json:"verify_failures"`
	// Versions and Ciphers count successful handshakes by negotiated TLS
	// version ("1.2", "1.3") and cipher suite (IANA name).
	Versions map[string]int64 `json:"versions,omitempty"`
	Ciphers  map[string]int64 `json:"ciphers,omitempty"`
	// Requests counts HTTP requests answered; HTTP2Requests those of them
	// answered over HTTP/2 (as the server's own record says: nginx's
	// $server_protocol, HAProxy's %HV).
	Requests      int64 `json:"requests"`
	HTTP2Requests int64 `json:"http2_requests,omitempty"`
	// ClientVerify counts successful handshakes by the server's verdict on
	// the client certificate, in nginx's $ssl_client_verify words:
	// SUCCESS (one was sent and verified) or NONE (none was sent: one-way
	// TLS). Nil when the target does not record it, and for plain TCP.
	ClientVerify map[string]int64 `json:"client_verify,omitempty"`
	// EarlyData counts the connections whose TLS 1.3 early data the
	// server received, EarlyDataBytes the bytes of it. Zero where the
	// target does not record it (only openssl s_server does).
	EarlyData      int64 `json:"early_data,omitempty"`
	EarlyDataBytes int64 `json:"early_data_bytes,omitempty"`
}

// The verdicts ClientVerify counts.
const (
	ClientVerifySuccess = "SUCCESS"
	ClientVerifyNone    = "NONE"
)

// Sub returns c - before, for counting over a window.
func (c Counts) Sub(before Counts) Counts {
	out := Counts{
		Handshakes:     c.Handshakes - before.Handshakes,
		Resumed:        c.Resumed - before.Resumed,
		Failed:         c.Failed - before.Failed,
		VerifyFailures: c.VerifyFailures - before.VerifyFailures,
		Requests:       c.Requests - before.Requests,
		HTTP2Requests:  c.HTTP2Requests - before.HTTP2Requests,
		EarlyData:      c.EarlyData - before.EarlyData,
		EarlyDataBytes: c.EarlyDataBytes - before.EarlyDataBytes,
		Versions:       subMap(c.Versions, before.Versions),
		Ciphers:        subMap(c.Ciphers, before.Ciphers),
		ClientVerify:   subMap(c.ClientVerify, before.ClientVerify),
	}
	return out
}

func subMap(a, b map[string]int64) map[string]int64 {
	if len(a) == 0 {
		return nil
	}
	out := make(map[string]int64, len(a))
	for k, v := range a {
		if d := v - b[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
