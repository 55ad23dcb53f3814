// Package scenarios owns the scenario format: the YAML a user writes (or a
// built-in name, or run's flags), its strict validation with file:line
// errors, its expansion into one Case per matrix cell, and the embedded
// library of scenarios. It runs nothing.
package scenarios

import (
	"fmt"
	"time"

	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Spec is one scenario as written. Zero values have defaults (applied by
// Expand on a copy), noted per field. A Spec from Parse remembers where
// each value was written, so later errors (Validate, Expand) can name the
// file, line and column; fields a caller changes afterwards lose that.
type Spec struct {
	// Name identifies the scenario in results. Parse sets it to the file's
	// base name (without extension) when the file has none; a Spec built
	// from flags alone is the caller's to name ("custom").
	Name string `yaml:"name" json:"name"`
	// Description is one line for 'mtlsbench scenarios list'.
	Description string     `yaml:"description" json:"description,omitempty"`
	Target      TargetSpec `yaml:"target" json:"target"`
	Load        LoadSpec   `yaml:"load" json:"load"`
	// Repeat runs every case this many times, for the spread compare
	// needs. Zero means 1; at most MaxRepeat. Expand does not repeat
	// cases: the runner does.
	Repeat  int    `yaml:"repeat" json:"repeat,omitempty"`
	Matrix  Matrix `yaml:"matrix" json:"matrix"`
	Exclude []Rule `yaml:"exclude" json:"exclude,omitempty"`
	Include []Rule `yaml:"include" json:"include,omitempty"`
	// Capacity configures 'mtlsbench capacity'; run ignores it.
	Capacity CapacitySpec `yaml:"capacity" json:"capacity,omitzero"`

	// source is the file (or library name) the spec was parsed from, and
	// pos where each field's value was written; both empty for a Spec built
	// in code.
	source string
	pos    positions
	// flags names the flag that set a field (Apply): a problem with that
	// field names the flag and its value, not the file.
	flags map[string]string
}

// TargetSpec says what to measure against.
type TargetSpec struct {
	// Kind is builtin (zero), nginx, haproxy, openssl, node or external.
	Kind string `yaml:"kind" json:"kind,omitempty"`
	// Addr is HOST:PORT for an external target (required there, refused
	// for the others, which listen on a free loopback port).
	Addr string `yaml:"addr" json:"addr,omitempty"`
	// ServerName is sent in SNI and verified. Zero means "localhost" for
	// managed targets and the host of Addr for external ones.
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
	// CA, Cert and Key are PEM files for an external target: the CA that
	// signed the server, and the client identity to present. Cert and Key
	// are required there; CA too unless Load.InsecureSkipVerify. Managed
	// targets refuse them: their PKI is generated per case.
	CA   string `yaml:"ca" json:"ca,omitempty"`
	Cert string `yaml:"cert" json:"cert,omitempty"`
	Key  string `yaml:"key" json:"key,omitempty"`
	// PKI is a directory written by 'mtlsbench pki gen' (or with its
	// file names), for an external target in place of CA, Cert and Key:
	// its ca.pem verifies the server and every client-N.pem with its
	// client-N-key.pem is a client identity (shards of a run take
	// distinct ones). Its CA and server keys are never read.
	PKI string `yaml:"pki" json:"pki,omitempty"`
	// Mode is a managed target's mode: handshake, http or http2 (HTTP/2,
	// ALPN h2 negotiated and checked; builtin, nginx and haproxy, and an
	// external target, where it is the client's protocol). Zero means
	// http for a case with requests > 0, else handshake; handshake with
	// requests > 0 is an error (the server would answer nothing). In a
	// Case it is always set, for external targets too, where it says what
	// the client does.
	Mode string `yaml:"mode" json:"mode,omitempty"`
	// HandshakeDelay slows the built-in target's handshakes on purpose.
	// Built-in target only.
	HandshakeDelay Duration `yaml:"handshake_delay" json:"handshake_delay,omitempty"`
	// PIDs of an external server running on this machine, for its CPU.
	// External targets only.
	PIDs []int `yaml:"pids" json:"pids,omitempty"`
	// CPUs pins managed targets; ClientCPUs pins the generator. Both are
	// CPU lists as taskset(1) takes them ("2", "0,2-3").
	CPUs       string `yaml:"cpus" json:"cpus,omitempty"`
	ClientCPUs string `yaml:"client_cpus" json:"client_cpus,omitempty"`
	// Workers for managed servers. Zero: one per CPU they may use. Refused
	// for external targets.
	Workers int `yaml:"workers" json:"workers,omitempty"`
	// InProcess runs the built-in target inside the generator process
	// (tests; its CPU then cannot be told apart). Built-in target only.
	InProcess bool `yaml:"in_process" json:"in_process,omitempty"`
	// SendInvalidCert sends client certificates outside their validity
	// window (expired or not yet valid) on purpose, to measure how the
	// server rejects them. Without it such a certificate is refused before
	// any load, and the target's reachability check then only connects.
	SendInvalidCert bool `yaml:"send_invalid_cert" json:"send_invalid_cert,omitempty"`
	// RevokedClients revokes the last K of a case's client identities on
	// purpose: they are among the CRL's crl_entries, every handshake
	// presenting one must be refused (class certificate_revoked), and one
	// accepted is a param_mismatch (the server did not check). Zero means
	// none. Needs crl_entries of at least K in every case and K at most
	// client_identities; refused for an external target (give it a
	// target.pki directory whose crl.pem 'pki gen --revoked' wrote: its
	// revoked identities count the same way) and for nginx in handshake
	// mode (it refuses a certificate after the handshake, where the
	// client cannot see it: use requests 1).
	RevokedClients int `yaml:"revoked_clients" json:"revoked_clients,omitempty"`
	// RotateAt rotates the target's server certificate at each of these
	// offsets into the measured window (each inside it, in order): a
	// freshly issued certificate and key, under the same CA, replace the
	// old ones while the load runs, the way the server's operators do it
	// (the built-in target swaps atomically, nginx is reloaded with
	// SIGHUP, HAProxy takes it through its runtime API). Nil means none.
	// A window that ends at a count is refused (its length is not known);
	// so are external targets (mtlsbench does not control them), openssl
	// s_server (it cannot reload, see targets.Capability.NoRotate), plain
	// TCP (auth none: no certificate) and a capacity search.
	RotateAt []Duration `yaml:"rotate_at" json:"rotate_at,omitempty"`
	// Rotate is what a rotation replaces: cert (zero: the server
	// certificate and key, under the same CA) or ca (a new CA too, which
	// issues the new server certificate; the client trusts the old and
	// the new CA from the start, the overlap a CA rotation needs). Only
	// with RotateAt.
	Rotate string `yaml:"rotate" json:"rotate,omitempty"`
}

// LoadSpec is how load is applied; everything run's load flags can say. Its
// fields are plain values a caller (run's flags) may set after Parse;
// Validate and Expand check them again.
//
// The load is a closed loop (Concurrency workers, each starting its next
// handshake when the last one ends) unless Rate or Steps is set: then it is
// an open loop and the rate wins. Concurrency is then ignored — a file may
// keep it for closed-loop runs — and MaxInFlight bounds the handshakes in
// flight instead.
type LoadSpec struct {
	// Concurrency is the number of closed-loop workers (connections in
	// flight). Zero means loadgen.DefaultConcurrency() (2 × GOMAXPROCS)
	// for a closed loop. Ignored in an open loop.
	Concurrency int `yaml:"concurrency" json:"concurrency,omitempty"`
	// Rate switches to an open loop: handshakes started per second.
	// Refused together with Steps.
	Rate float64 `yaml:"rate" json:"rate,omitempty"`
	// MaxInFlight caps concurrent handshakes in an open loop. Zero means
	// loadgen.DefaultMaxInFlight (10000). Refused for a closed loop,
	// where Concurrency is the cap.
	MaxInFlight int `yaml:"max_in_flight" json:"max_in_flight,omitempty"`
	// RampUp grows the rate linearly from 0 over this time, within the
	// measured window. Needs Rate.
	RampUp Duration `yaml:"ramp_up" json:"ramp_up,omitempty"`
	// Steps are successive rates, each held for StepDuration; together
	// they are the measured window, so Duration and Count stay zero.
	// StepDuration is required with Steps and refused without.
	Steps        []float64 `yaml:"steps" json:"steps,omitempty"`
	StepDuration Duration  `yaml:"step_duration" json:"step_duration,omitempty"`
	// Duration of the measured window. Zero with Count zero (and no
	// Steps) means loadgen.DefaultDuration (10s). Refused together with
	// Count.
	Duration Duration `yaml:"duration" json:"duration,omitempty"`
	// Count stops after this many handshakes instead.
	Count int64 `yaml:"count" json:"count,omitempty"`
	// Warmup runs load before the window; it counts in no figure. Zero
	// means none.
	Warmup Duration `yaml:"warmup" json:"warmup,omitempty"`
	// Interval is the time-series resolution. Zero means
	// loadgen.DefaultInterval (1s).
	Interval Duration `yaml:"interval" json:"interval,omitempty"`
	// Hold keeps each connection open this long after its handshake.
	Hold Duration `yaml:"hold" json:"hold,omitempty"`
	// Streams is the HTTP/2 requests in flight on one connection
	// (target.mode http2): a new stream opens as each ends, until the
	// case's requests are answered. Zero means 1; at most MaxStreams; more
	// than 1 needs mode http2. A server that allows fewer at once fails
	// the case (param_mismatch).
	Streams int `yaml:"streams" json:"streams,omitempty"`
	// Timeout bounds connect and handshake. Zero means
	// loadgen.DefaultTimeout (10s).
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Linger0 closes connections with SO_LINGER 0 (RST, no TIME_WAIT).
	Linger0 bool `yaml:"linger0" json:"linger0,omitempty"`
	// InsecureSkipVerify skips verifying the server's chain. It makes every
	// handshake cheaper than a real client's; results say so.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify" json:"insecure_skip_verify,omitempty"`
	// ClientSigner makes the Go client's CertificateVerify signatures with
	// the client certificates' keys: "go" (Go's crypto, as a Go client
	// signs; the zero value) or "openssl" (OpenSSL's libcrypto: an
	// RSA-2048 signature costs the generator about a third, so its CPU
	// per full handshake is below a Go client's; results record
	// client_signer). See loadgen.ClientSigner.
	ClientSigner string `yaml:"client_signer" json:"client_signer,omitempty"`
	// Arrivals spaces open-loop starts: "uniform" (evenly; the zero value)
	// or "poisson" (exponential gaps whose rate follows the schedule).
	// Needs Rate or Steps.
	Arrivals string `yaml:"arrivals" json:"arrivals,omitempty"`
	// ErrorBudget is the share of a case's attempts that may fail before
	// the case fails (exit 1): a percentage ("1%", "0.5%") or a fraction
	// ("0.01"), 0 to 100%. Empty means DefaultErrorBudget (1%); "0" fails
	// a case on any error; "100%" only when every handshake fails.
	// Negotiating other than the case asks (param_mismatch, resume_miss)
	// fails a case whatever the budget.
	ErrorBudget string `yaml:"error_budget" json:"error_budget,omitempty"`
	// SLO is what every case of a run must meet for the run to pass: a
	// verdict per case in the result, exit 1 when a case breaks it.
	// capacity.ParseSLO's grammar, e.g. "p99<20ms,errors<0.1%"; latencies
	// are the total latency's percentiles (coordinated-omission
	// corrected in an open loop). The achieved term applies to an open
	// loop only (a closed loop has no rate to achieve). Empty: no SLO and
	// no verdict. Run only: capacity's objective is capacity.slo.
	SLO string `yaml:"slo" json:"slo,omitempty"`
}

// DefaultErrorBudget is LoadSpec.ErrorBudget's default.
const DefaultErrorBudget = "1%"

// Ranges of the load's figures, enforced by Validate (and so before any
// load, whether the value came from a file or a flag). Zero stands for a
// field's default where its documentation says so; a flag set to zero is
// refused instead, since the user asked for something.
const (
	MaxConcurrency = 1_000_000     // closed-loop connections (the whole run's, over every shard)
	MaxRate        = 10_000_000.0  // handshakes per second (the whole run's)
	MaxInFlight    = 1_000_000     // open-loop cap
	MaxCount       = 1_000_000_000 // handshakes per case
	MaxSteps       = 1000          // rates in steps

	MinWindow    = 100 * time.Millisecond // duration, step_duration
	MaxWindow    = 7 * 24 * time.Hour     // duration, and steps × step_duration
	MinInterval  = 10 * time.Millisecond
	MaxInterval  = time.Hour
	MaxIntervals = 100_000 // window / interval: the time series is kept in memory
	MaxWarmup    = time.Hour
	MaxRampUp    = 24 * time.Hour
	MaxHold      = 24 * time.Hour
	MinTimeout   = 10 * time.Millisecond
	MaxTimeout   = 10 * time.Minute
	MaxHSDelay   = time.Minute
	MaxWorkers   = 1024
	MaxStreams   = 1000 // HTTP/2 requests in flight on a connection
)

// Matrix holds the axes; a case is one value from each. An empty axis has
// one default value, noted per field. In a file, an axis with one value may
// be written without brackets (tls: 1.3). Values are checked as written and
// compared after normalising the spelling (tls1.3 is 1.3, P-256 is p256),
// so a value listed twice under two spellings is an error.
type Matrix struct {
	// TLS versions: "1.2", "1.3". Default [1.3].
	TLS []string `yaml:"tls" json:"tls,omitempty"`
	// Cipher suites by IANA or OpenSSL name, or "any". Default [any]: the
	// stack's choice, recorded as negotiated. A TLS 1.2 suite in a TLS 1.3
	// case (and vice versa), or a TLS 1.2 suite whose authentication does
	// not fit the server key, is skipped. A TLS 1.3 suite needs a client
	// or a target that can enforce it (nginx, haproxy, openssl):
	// crypto/tls cannot pin one, so it is refused before any load for
	// builtin and external targets (see tlsparams.Check).
	Cipher []string `yaml:"cipher" json:"cipher,omitempty"`
	// Group is the key-exchange group the server accepts and the case
	// expects. Default [x25519].
	Group []string `yaml:"group" json:"group,omitempty"`
	// KeyShare is the group the client sends its first key share for.
	// When it differs from Group the server must answer with a
	// HelloRetryRequest, which the case then expects. Default: Group.
	// TLS 1.3 only: a TLS 1.2 case with KeyShare != Group is skipped.
	// A Go client sends its share for the highest-ranked group it offers
	// (tlsparams.GoTLS's KeySharePreference), so KeyShare must rank above
	// Group, and must not be the hybrid whose classical half is Group (the
	// client would send that half too); such a pair is refused before any
	// load, as every capability of a client stack is.
	KeyShare []string `yaml:"key_share" json:"key_share,omitempty"`
	// ServerKey and ClientKey are certificate key types. ServerKey default
	// [ecdsa-p256]; ClientKey default: the case's ServerKey. For an
	// external target the certificates are what they are: each axis takes
	// at most one value, the key type expected, and defaults to any.
	ServerKey []string `yaml:"server_key" json:"server_key,omitempty"`
	ClientKey []string `yaml:"client_key" json:"client_key,omitempty"`
	// Chain: "root" (leaf signed by the root) or "intermediate". Default
	// [root]. Refused for an external target.
	Chain []string `yaml:"chain" json:"chain,omitempty"`
	// ClientIdentities is how many distinct client certificates workers
	// rotate through, 1 to 100000. Default [1]. An external target has
	// exactly one.
	ClientIdentities []int `yaml:"client_identities" json:"client_identities,omitempty"`
	// Resume: "none", "tickets", "session-id", or a ratio in (0, 1] such
	// as 0.8 or "80%" (80% of handshakes resume). A ratio of 1 is
	// "tickets". "session-id" is a ratio of 1 by TLS 1.2 session ID
	// (tickets off, the server's session cache): TLS 1.2 only (a TLS 1.3
	// cell is skipped), the openssl client only (refused before load for
	// the go client). Default [none].
	Resume []string `yaml:"resume" json:"resume,omitempty"`
	// Requests per connection (HTTP/1.1), 0 to 1000000. Default [0]:
	// handshake only.
	Requests []int `yaml:"requests" json:"requests,omitempty"`
	// Auth is who proves its identity: "mutual" (the client sends a
	// certificate the server verifies), "server" (one-way TLS: the server
	// requests no client certificate) or "none" (plain TCP to a plaintext
	// listener of the same server: connect, and the same requests).
	// Default [mutual]. A none cell has no TLS, so the TLS axes (tls,
	// cipher, group, key_share, server_key, client_key, chain,
	// client_identities, resume) take their defaults there, and cells that
	// differ only in them are one case: the others are skipped, naming it.
	Auth []string `yaml:"auth" json:"auth,omitempty"`
	// TrustStore is how many CAs the server trusts for client
	// certificates, 1 to 1000: the case's root and N-1 decoy CAs
	// (pki.Decoys), whose names all go into its CertificateRequest.
	// Default [1]. Every full handshake checks that the server named N
	// CAs. Refused for an external target, whose trust store is its own.
	TrustStore []int `yaml:"trust_store" json:"trust_store,omitempty"`
	// CRLEntries is how many revoked serials the CRL the server checks
	// client certificates against lists, 0 to 1000000: target.
	// revoked_clients of the case's identities and serials of
	// certificates never issued. Default [0]: no CRL, no revocation
	// check. Refused for an external target, whose CRL is its own.
	CRLEntries []int `yaml:"crl_entries" json:"crl_entries,omitempty"`
	// Client is the client stack: "go" (Go's crypto/tls) or "openssl"
	// (the system's libssl, in a binary built with it). Default [go].
	Client []string `yaml:"client" json:"client,omitempty"`
	// EarlyData is how many bytes of TLS 1.3 early data (0-RTT) each
	// resumed handshake sends, 0 to 16384 ("512", "4k"). Default [0]:
	// none. TLS 1.3 and resumed cells only (others are skipped); the
	// openssl client and a target that accepts early data only (refused
	// before load otherwise).
	EarlyData []string `yaml:"early_data" json:"early_data,omitempty"`
	// PSKMode is the TLS 1.3 PSK key-exchange mode resumptions ask for:
	// "dhe" (psk_dhe_ke, with a fresh (EC)DHE) or "ke" (psk_ke, without).
	// Default [dhe]. TLS 1.3 and resumed cells only (others are skipped);
	// "ke" needs the openssl client and a server that picks psk_ke.
	PSKMode []string `yaml:"psk_mode" json:"psk_mode,omitempty"`
}

// Rule matches cases by axis values, as a CI matrix include/exclude entry
// does: keys are axis names (tls, cipher, group, key_share, server_key,
// client_key, chain, client_identities, resume, requests, auth,
// trust_store, crl_entries, client, early_data, psk_mode), values any
// spelling the matrix accepts. A key matches a case's value after defaults
// (so {group: x25519} matches a matrix without a group axis). An exclude
// rule removes every case matching all its keys. Includes are applied after
// excludes, in order: an include rule that matches an existing case adds
// nothing new; one that matches none adds a case built from its values and
// the axes' defaults (not the matrix's values), and excludes do not apply
// to it.
type Rule map[string]string

// Case is one expanded matrix cell: everything needed to run it. Every
// default is applied: a Case needs no further interpretation.
type Case struct {
	// Name is stable and readable ("tls1.3-full-ecdsa-p256-x25519"); Key is
	// canonical ("tls=1.3,cipher=any,group=x25519,...") and is what
	// compare matches on. See Expand for how both are built.
	Name string `json:"name"`
	Key  string `json:"key"`

	// Params are the case's TLS parameters, typed. KeyShare is equal to
	// Group unless the case measures a HelloRetryRequest: the target then
	// accepts only Group and the client offers KeyShare and Group, and
	// every full handshake should see an HRR and negotiate Group (whether
	// the client stack can be made to send KeyShare first is its
	// capability, checked before load). ServerKey, ClientKey and Chain are
	// zero only for an external target whose scenario names none:
	// whatever its certificates are (the run records what was presented).
	tlsparams.Params
	ClientIdentities int `json:"client_identities"`
	Requests         int `json:"requests"`
	// TrustStore is the CAs the server trusts (Matrix.TrustStore), at
	// least 1; CRLEntries the entries of its CRL, 0 for none.
	TrustStore int `json:"trust_store"`
	CRLEntries int `json:"crl_entries"`

	// Target and Load are the scenario's, with their defaults applied:
	// Target.Kind, Target.ServerName and Target.Mode are set; Load has
	// Duration (unless Count or Steps), Interval, Timeout, and Concurrency
	// (closed loop) or MaxInFlight (open loop). Slices are the case's own.
	Target TargetSpec `json:"target"`
	Load   LoadSpec   `json:"load"`
}

// Skipped is a matrix cell the TLS stack cannot express (TLS 1.2 with a
// post-quantum group or a TLS 1.3 suite, a suite that does not fit the
// server key, ...): Expand drops it with the reason rather than run
// something else under its name.
type Skipped struct {
	Case   Case   `json:"case"`
	Reason string `json:"reason"`
}

// Duration is a time.Duration written as "2s", "500ms" or "1m30s". It
// marshals to and from that text (in JSON too).
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns d as time.Duration prints it ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as "2s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "2s", "500ms", "1m30s" (or "0").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return fmt.Errorf("scenarios: %w", err)
	}
	*d = Duration(v)
	return nil
}
