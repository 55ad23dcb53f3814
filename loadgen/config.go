// Package loadgen is the engine: it drives concurrent mTLS handshakes
// against one address and measures them. It owns the load models (closed
// loop, open loop with constant, ramped or stepped schedules), the workers,
// dialing, the handshake and what follows it (confirmation, requests,
// holding), per-phase timing, byte counts, error classes and the check that
// every handshake negotiated what the case asked for.
//
// The hot path allocates nothing of its own: each worker owns its buffers,
// its tls.Config clone and its counters; latencies go into a few shared
// lock-free HDR recorders; everything is merged after the workers stop. It
// never prints, reads files or parses YAML.
package loadgen

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"

	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Confirm says how a TLS 1.3 client learns that the server accepted its
// certificate. (TLS 1.2 needs nothing: the server's Finished comes after
// its verification.)
type Confirm int

const (
	// ConfirmRecord (zero) waits after the handshake for the server's first
	// record — a session ticket, which servers send after verifying the
	// client — before counting the handshake. A server that rejects the
	// certificate sends an alert instead, which then fails the handshake.
	// The server must send tickets (or close) for this to finish.
	ConfirmRecord Confirm = iota
	// ConfirmResponse relies on the first HTTP response (Requests > 0).
	ConfirmResponse
	// ConfirmOff does not wait: acceptance is unconfirmed in the result.
	ConfirmOff
)

// Config is one load run. Zero values have defaults, noted per field; Run
// applies them on a copy and never modifies the caller's Config or its
// tls.Config.
type Config struct {
	// Addr is the target's host:port. Required. A name is resolved once,
	// when the run starts (an IPv4 address preferred).
	Addr string
	// TLS is the case's TLS parameters: what the client offers (its one
	// version, the suite when one is pinned, its key share and group),
	// what every handshake must negotiate — a handshake that differs is a
	// param_mismatch error, never a success — and how often to resume
	// (TLS.Resume). A zero field is the stack's default, and any value is
	// accepted for it. The client stack turns it into its own
	// configuration (see Stack).
	TLS tlsparams.Params
	// Roots verify the server's chain; nil means the system's roots.
	Roots *x509.CertPool
	// RootCerts are the certificates in Roots, for a client stack that is
	// not Go's (the openssl client builds its own store from them).
	// Required with TLS.Client openssl when Roots is set.
	RootCerts []*x509.Certificate
	// ServerName is sent in SNI and verified against the server's
	// certificate. Required unless InsecureSkipVerify.
	ServerName string
	// Identities are the client certificates; full handshakes rotate
	// through them. Required (at least one) when TLS.Auth is mutual;
	// unused by one-way TLS (server) and plain TCP (none).
	Identities []tls.Certificate
	// InsecureSkipVerify skips verifying the server's chain, making every
	// full handshake cheaper than a real client's. Off unless asked for.
	InsecureSkipVerify bool
	// Signer makes the client certificates' CertificateVerify signatures
	// (see ClientSigner). Zero means SignerGo: Go's crypto, as a Go
	// client signs.
	Signer ClientSigner
	// Revoked marks the Identities the case revoked on purpose (the same
	// length, or nil for none): a handshake presenting one must be
	// refused — a refusal with bad_certificate or an HTTP error status
	// counts as certificate_revoked, as the alert certificate_revoked
	// does — and one the server accepts is a param_mismatch (it did not
	// check revocation).
	Revoked []bool
	// CANames is how many CA names the server's CertificateRequest must
	// carry (its trust store); a full handshake where it named another
	// number is a param_mismatch. Zero means any.
	CANames int
	// ServerLeaf, when set, is the server certificate every full
	// handshake must present, changed by the caller while the run goes
	// (a certificate rotation; see ServerLeaf). Nil means any that
	// verifies.
	ServerLeaf *ServerLeaf

	Confirm Confirm

	// Concurrency is the number of closed-loop workers, each running one
	// connection after another. Zero means DefaultConcurrency(). Ignored
	// when Schedule is set.
	Concurrency int
	// Schedule switches to an open loop: starts follow the schedule
	// whatever is in flight. Nil means a closed loop.
	Schedule Schedule
	// MaxInFlight caps concurrent connections in an open loop; a start that
	// finds it reached waits and is counted. Zero means DefaultMaxInFlight.
	MaxInFlight int
	// OverFDLimit runs a closed loop even when its Concurrency exceeds
	// what this process's file-descriptor limit allows open at once (see
	// CheckFDLimit): the connections beyond it fail with EMFILE, counted
	// as generator_limit, which is then what the run shows. Zero: Run
	// refuses such a loop with a *ConfigError before any load.
	OverFDLimit bool
	// RampUp, in a closed loop, starts the workers evenly over this time
	// instead of all at once. Zero means all at once.
	RampUp time.Duration
	// Arrivals spaces open-loop starts: evenly (zero) or as a Poisson
	// process (seeded by Seed) whose rate follows the schedule.
	Arrivals Arrivals
	Seed     uint64

	// Shard makes this run one part of a run spread over several
	// generators; Schedule, Concurrency, MaxInFlight, RampUp and
	// Identities then describe the whole run and the engine takes this
	// shard's stripe of each (see Shard). Zero means the whole run.
	Shard Shard
	// StartAt, when set, is the instant the run begins (its warm-up, or
	// its window when there is none), on a timeline shared with other
	// shards: Run waits until then. Called more than LateStart after it,
	// Run does not shift the run but returns a *LateStartError. Zero
	// means at once.
	StartAt time.Time

	// Warmup runs load for this long before the measured window; nothing in
	// it counts. With resumption, workers' priming handshakes happen here.
	// Zero means none (priming handshakes then happen before the window
	// anyway).
	Warmup time.Duration
	// Duration is the measured window. Zero means DefaultDuration, unless
	// Count is set or the Schedule has its own duration.
	Duration time.Duration
	// Count ends the window after this many handshakes completed in it.
	Count int64
	// Interval is the time-series resolution. Zero means DefaultInterval.
	Interval time.Duration

	// Requests per connection (HTTP/1.1 GET, keep-alive; HTTP/2 with
	// HTTP2). Zero: handshake only.
	Requests int
	// Path is the request path. Zero means "/".
	Path string
	// HTTP2 speaks HTTP/2 instead of HTTP/1.1: the client offers ALPN h2
	// alone and a connection that did not negotiate it is a
	// param_mismatch error, whatever Requests is (zero: the handshake and
	// that check only). Requests are then HTTP/2 GETs, Streams of them in
	// flight at once on the connection (see http2.go).
	HTTP2 bool
	// Streams is the HTTP/2 requests in flight on one connection: the
	// client opens a new stream as each one ends, until Requests are
	// answered. A server that allows fewer at once
	// (SETTINGS_MAX_CONCURRENT_STREAMS) fails the connection as
	// param_mismatch. HTTP2 only; zero means 1.
	Streams int
	// Hold keeps each connection open this long after its handshake and
	// requests, before closing it.
	Hold time.Duration

	// Timeout bounds the TCP connect and, separately, the handshake with
	// its confirmation, and each request. Zero means DefaultTimeout.
	Timeout time.Duration
	// Linger0 closes with SO_LINGER 0: a RST instead of a FIN, leaving no
	// TIME_WAIT socket. The server sees a reset.
	Linger0 bool
	// SourceAddrs spreads connections to an IPv4 loopback target over this
	// many source addresses (127.0.0.2, 127.0.0.3, ...), each with its own
	// ephemeral-port range. Zero means 16 for a 127.0.0.0/8 target and 1
	// otherwise; 1 means the kernel's choice.
	SourceAddrs int

	// Observer, if set, is told about the window and each interval.
	Observer Observer
}

// Observer receives the run's progress from the engine's controller
// goroutine (never from a worker). Calls must return quickly.
type Observer interface {
	// WindowStart and WindowEnd are called at the edges of the measured
	// window, so a caller can sample other clocks (the target's CPU and
	// counts) at the same instants: the window opens as WindowStart
	// returns, and closes — with new starts stopped — just before
	// WindowEnd is called. A slow sample therefore moves the window, never
	// leaves handshakes counted on one side only.
	WindowStart(t time.Time)
	WindowEnd(t time.Time)
	// Interval is called after each completed interval.
	Interval(iv results.Interval)
	// Progress is called about four times a second.
	Progress(p Progress)
}

// Warner is an Observer that also wants to hear, before any load, what
// will make the figures doubtful — such as more connections than the
// file-descriptor limit allows — so it can print it at once. Every
// warning is in Result.Warnings as well.
type Warner interface {
	Warn(msg string)
}

// Progress is a live snapshot for a status line.
type Progress struct {
	// Phase is "warmup", "measure" or "drain".
	Phase string
	// Elapsed and Total are for the current phase's window (Total is zero
	// when the window ends by count).
	Elapsed, Total time.Duration
	OK, Errors     int64
	// ErrorsByClass counts Errors by class name (Class.String), as
	// Result.ErrorsByClass will; nil while there is none. A worker counts
	// an error in Errors just before its class, so a snapshot may find the
	// classes one short of Errors.
	ErrorsByClass map[string]int64
	InFlight      int64
	// Rate is successful handshakes per second over the last interval.
	Rate float64
	// P99Us is the last interval's p99 latency.
	P99Us int64
}

// The load model's defaults. The engine applies them to a zero Config
// field, and the scenarios package to a zero scenario field, so a case
// records the value it ran with: this is their one owner.
const (
	// DefaultDuration is the measured window when neither a duration, a
	// count nor a schedule with its own length says otherwise.
	DefaultDuration = 10 * time.Second
	// DefaultInterval is the time-series resolution.
	DefaultInterval = time.Second
	// DefaultTimeout bounds connect, handshake and each request.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxInFlight caps connections in flight in an open loop.
	DefaultMaxInFlight = 10000
)

// DefaultConcurrency is the closed loop's default number of workers: two
// per core this process may use (GOMAXPROCS), so that a worker waiting on
// the network leaves its core to another.
func DefaultConcurrency() int { return 2 * runtime.GOMAXPROCS(0) }

func (c Config) withDefaults() Config {
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency()
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Duration == 0 && c.Count == 0 {
		if c.Schedule != nil && c.Schedule.Duration() > 0 {
			c.Duration = c.Schedule.Duration()
		} else {
			c.Duration = DefaultDuration
		}
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Streams == 0 && c.HTTP2 {
		c.Streams = 1
	}
	if c.SourceAddrs == 0 {
		c.SourceAddrs = 1
		if host, _, err := net.SplitHostPort(c.Addr); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.To4() != nil && ip.IsLoopback() {
				c.SourceAddrs = 16
			}
		}
	}
	return c
}

// ConfigError is a Config that cannot run; the message says which field
// and how to fix it.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return "loadgen: " + e.Msg }

func (c Config) validate() error {
	bad := func(format string, a ...any) error { return &ConfigError{fmt.Sprintf(format, a...)} }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return bad("target address %q is not HOST:PORT", c.Addr)
	}
	if c.ServerName == "" && !c.InsecureSkipVerify {
		return bad("no server name to verify the server certificate against (set --server-name)")
	}
	if len(c.Identities) == 0 && c.TLS.Auth.Mutual() {
		return bad("no client certificate: mutual TLS needs at least one client identity")
	}
	for i, id := range c.Identities {
		if len(id.Certificate) == 0 || id.PrivateKey == nil {
			return bad("client identity %d has no certificate or no key", i+1)
		}
	}
	if c.Revoked != nil && len(c.Revoked) != len(c.Identities) {
		return bad("revoked marks %d client identities, but there are %d", len(c.Revoked), len(c.Identities))
	}
	if c.CANames < 0 {
		return bad("CA names must not be negative")
	}
	if err := c.validateStack(); err != nil {
		return err
	}
	if c.Concurrency < 0 || c.MaxInFlight < 0 || c.Count < 0 || c.Requests < 0 || c.SourceAddrs < 0 {
		return bad("concurrency, max in-flight, count, requests and source addresses must not be negative")
	}
	if c.Duration < 0 || c.Warmup < 0 || c.Hold < 0 || c.Timeout < 0 || c.Interval < 0 || c.RampUp < 0 {
		return bad("durations must not be negative")
	}
	if r := c.TLS.Resume.Ratio(); r < 0 || r > 1 {
		return bad("resume ratio must be between 0 and 1, got %v", r)
	}
	if c.Streams < 0 || (c.Streams > 1 && !c.HTTP2) {
		return bad("streams %d: more than one stream in flight needs HTTP/2 (HTTP2); at least 1", c.Streams)
	}
	if c.Confirm == ConfirmResponse && c.Requests == 0 {
		return bad("confirming acceptance by response needs at least one request per connection")
	}
	if c.Schedule != nil {
		if err := validateSchedule(c.Schedule); err != nil {
			return err
		}
	}
	if err := c.Shard.Validate(); err != nil {
		return err
	}
	if s := c.Shard; s.Sharded() {
		if c.Schedule == nil && s.Split(c.Concurrency) == 0 {
			return bad("%d connections over %d shards leaves shard %d without one: give at least %d (-c is the whole run's)", c.Concurrency, s.Count, s.Index, s.Count)
		}
		if c.Schedule != nil && s.Split(c.MaxInFlight) == 0 {
			return bad("a cap of %d connections in flight over %d shards leaves shard %d none: give at least %d (--max-in-flight is the whole run's)", c.MaxInFlight, s.Count, s.Index, s.Count)
		}
		if c.Count > 0 {
			return bad("a handshake count (-n) cannot be split over %d shards: give the window a duration", s.Count)
		}
	}
	if c.Arrivals != ArrivalsUniform && c.Arrivals != ArrivalsPoisson {
		return bad("arrivals %v: accepted: uniform, poisson", c.Arrivals)
	}
	switch c.TLS.Auth {
	case "", tlsparams.AuthMutual, tlsparams.AuthServer, tlsparams.AuthNone:
	default:
		return bad("auth %q: accepted: %s", c.TLS.Auth, tlsparams.AuthNames)
	}
	if v := c.TLS.Version; v != 0 && v != tlsparams.TLS12 && v != tlsparams.TLS13 {
		return bad("TLS version %s: accepted: 1.2, 1.3", v)
	}
	return nil
}

// errConfig lets callers tell configuration errors apart.
var _ error = (*ConfigError)(nil)

// IsConfigError reports whether err is a *ConfigError.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}
