// Package scenarios owns the scenario format: the YAML a user writes (or a
// built-in name, or run's flags), its strict validation with file:line
// errors, its expansion into one Case per matrix cell, and the embedded
// library of scenarios. It runs nothing.
package scenarios

import (
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// Spec is one scenario as written. Zero values have defaults (applied by
// Expand on a copy), noted per field.
type Spec struct {
	// Name identifies the scenario in results. Zero means the file's base
	// name, or "custom" for flags only.
	Name string `yaml:"name" json:"name"`
	// Description is one line for 'mtlsbench scenarios list'.
	Description string     `yaml:"description" json:"description,omitempty"`
	Target      TargetSpec `yaml:"target" json:"target"`
	Load        Load       `yaml:"load" json:"load"`
	// Repeat runs every case this many times, for the spread compare
	// needs. Zero means 1.
	Repeat  int    `yaml:"repeat" json:"repeat,omitempty"`
	Matrix  Matrix `yaml:"matrix" json:"matrix"`
	Exclude []Rule `yaml:"exclude" json:"exclude,omitempty"`
	Include []Rule `yaml:"include" json:"include,omitempty"`
}

// TargetSpec says what to measure against.
type TargetSpec struct {
	// Kind is builtin (zero), nginx, haproxy, openssl or external.
	Kind string `yaml:"kind" json:"kind,omitempty"`
	// Addr is HOST:PORT for an external target.
	Addr string `yaml:"addr" json:"addr,omitempty"`
	// ServerName is sent in SNI and verified. Zero means "localhost" for
	// managed targets and the host of Addr for external ones.
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
	// CA, Cert and Key are PEM files for an external target: the CA that
	// signed the server, and the client identity to present.
	CA   string `yaml:"ca" json:"ca,omitempty"`
	Cert string `yaml:"cert" json:"cert,omitempty"`
	Key  string `yaml:"key" json:"key,omitempty"`
	// Mode is the built-in target's mode: handshake (zero) or http.
	Mode string `yaml:"mode" json:"mode,omitempty"`
	// HandshakeDelay slows the built-in target's handshakes on purpose.
	HandshakeDelay Duration `yaml:"handshake_delay" json:"handshake_delay,omitempty"`
	// PIDs of an external server running on this machine, for its CPU.
	PIDs []int `yaml:"pids" json:"pids,omitempty"`
	// CPUs pins managed targets; ClientCPUs pins the generator.
	CPUs       string `yaml:"cpus" json:"cpus,omitempty"`
	ClientCPUs string `yaml:"client_cpus" json:"client_cpus,omitempty"`
	// Workers for managed servers. Zero: one per CPU they may use.
	Workers int `yaml:"workers" json:"workers,omitempty"`
	// InProcess runs the built-in target inside the generator process
	// (tests; its CPU then cannot be told apart).
	InProcess bool `yaml:"in_process" json:"in_process,omitempty"`
}

// Load is how load is applied; everything run's load flags can say.
type Load struct {
	// Concurrency is the number of closed-loop workers (connections in
	// flight). Zero means 2 × GOMAXPROCS for a closed loop.
	Concurrency int `yaml:"concurrency" json:"concurrency,omitempty"`
	// Rate switches to an open loop: handshakes started per second.
	Rate float64 `yaml:"rate" json:"rate,omitempty"`
	// MaxInFlight caps concurrent handshakes in an open loop. Zero means
	// 10000.
	MaxInFlight int `yaml:"max_in_flight" json:"max_in_flight,omitempty"`
	// RampUp grows the rate linearly from 0 over this time.
	RampUp Duration `yaml:"ramp_up" json:"ramp_up,omitempty"`
	// Steps are successive rates, each held for StepDuration.
	Steps        []float64 `yaml:"steps" json:"steps,omitempty"`
	StepDuration Duration  `yaml:"step_duration" json:"step_duration,omitempty"`
	// Duration of the measured window. Zero with Count zero means 10s.
	Duration Duration `yaml:"duration" json:"duration,omitempty"`
	// Count stops after this many handshakes instead.
	Count int64 `yaml:"count" json:"count,omitempty"`
	// Warmup runs load before the window; it counts in no figure. Zero
	// means none.
	Warmup Duration `yaml:"warmup" json:"warmup,omitempty"`
	// Interval is the time-series resolution. Zero means 1s.
	Interval Duration `yaml:"interval" json:"interval,omitempty"`
	// Hold keeps each connection open this long after its handshake.
	Hold Duration `yaml:"hold" json:"hold,omitempty"`
	// Timeout bounds connect and handshake. Zero means 10s.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Linger0 closes connections with SO_LINGER 0 (RST, no TIME_WAIT).
	Linger0 bool `yaml:"linger0" json:"linger0,omitempty"`
	// InsecureSkipVerify skips verifying the server's chain. It makes every
	// handshake cheaper than a real client's; results say so.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify" json:"insecure_skip_verify,omitempty"`
}

// Matrix holds the axes; a case is one value from each. An empty axis has
// one default value, noted per field.
type Matrix struct {
	// TLS versions: "1.2", "1.3". Default [1.3].
	TLS []string `yaml:"tls" json:"tls,omitempty"`
	// Cipher suites by IANA or OpenSSL name. Default: any (the stack's
	// choice, recorded as negotiated).
	Cipher []string `yaml:"cipher" json:"cipher,omitempty"`
	// Group is the key-exchange group the server accepts and the case
	// expects. Default [x25519].
	Group []string `yaml:"group" json:"group,omitempty"`
	// KeyShare is the group the client sends its first key share for.
	// When it differs from Group the server must answer with a
	// HelloRetryRequest, which the case then expects. Default: Group.
	KeyShare []string `yaml:"key_share" json:"key_share,omitempty"`
	// ServerKey and ClientKey are certificate key types. ServerKey default
	// [ecdsa-p256]; ClientKey default: the case's ServerKey.
	ServerKey []string `yaml:"server_key" json:"server_key,omitempty"`
	ClientKey []string `yaml:"client_key" json:"client_key,omitempty"`
	// Chain: "root" (leaf signed by the root) or "intermediate". Default
	// [root].
	Chain []string `yaml:"chain" json:"chain,omitempty"`
	// ClientIdentities is how many distinct client certificates workers
	// rotate through. Default [1].
	ClientIdentities []int `yaml:"client_identities" json:"client_identities,omitempty"`
	// Resume: "none", "tickets", or a ratio such as 0.8 (80% of handshakes
	// resume). Default [none].
	Resume []string `yaml:"resume" json:"resume,omitempty"`
	// Requests per connection (HTTP/1.1). Default [0]: handshake only.
	Requests []int `yaml:"requests" json:"requests,omitempty"`
}

// Rule matches cases by axis values, as a CI matrix include/exclude entry
// does: keys are axis names (tls, cipher, group, key_share, server_key,
// client_key, chain, client_identities, resume, requests), values the
// spelling used in the matrix. An exclude rule removes every case matching
// all its keys. An include rule that matches existing cases adds nothing
// new; one that matches none adds a case built from its values and the
// axes' defaults.
type Rule map[string]string

// Case is one expanded matrix cell: everything needed to run it.
type Case struct {
	// Name is stable and readable ("tls1.3-full-ecdsa-p256-x25519"); Key is
	// canonical ("tls=1.3,cipher=any,group=x25519,...") and is what
	// compare matches on.
	Name string `json:"name"`
	Key  string `json:"key"`

	TLS    string `json:"tls"`    // "1.2" or "1.3"
	Cipher string `json:"cipher"` // IANA name; "" means any
	Group  string `json:"group"`
	// KeyShare is the client's first key share; equal to Group unless the
	// case measures a HelloRetryRequest.
	KeyShare         string      `json:"key_share"`
	ServerKey        pki.KeyType `json:"server_key"`
	ClientKey        pki.KeyType `json:"client_key"`
	Chain            string      `json:"chain"` // "root" or "intermediate"
	ClientIdentities int         `json:"client_identities"`
	// Resume is "none", "tickets" or a ratio; ResumeRatio is its fraction
	// of handshakes that should resume (0, 1, or the ratio).
	Resume      string  `json:"resume"`
	ResumeRatio float64 `json:"resume_ratio"`
	Requests    int     `json:"requests"`

	Target TargetSpec `json:"target"`
	Load   Load       `json:"load"`
}

// Duration is a time.Duration written as "2s", "500ms" or "1m30s".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
