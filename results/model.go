// Package results owns the result model: the JSON file a run writes
// (schema "mtlsbench/result/v1", described by result.schema.json), reading
// and writing it, the HDR histogram encoding inside it, merging the
// results of several generators into one, and grouping a run's repeats of
// a case (Repeats), which renderers and compare both need.
//
// It renders nothing and judges nothing: package report draws results and
// package compare judges one against another. It imports no renderer or
// statistics library, so the engine (loadgen), which fills the model, does
// not pull them in. It runs nothing.
package results

import (
	"encoding/json"
	"time"
)

// Schema is the value of Run.Schema for files this version writes and reads.
// Any change to the meaning or shape of a field bumps it.
const Schema = "mtlsbench/result/v1"

// Run is one result file: every case of one scenario run.
type Run struct {
	Schema      string      `json:"schema"`
	Tool        Tool        `json:"tool"`
	Start       time.Time   `json:"start"`
	End         time.Time   `json:"end"`
	Environment Environment `json:"environment"`
	Scenario    Scenario    `json:"scenario"`
	// Interrupted is true when the run was stopped (SIGINT/SIGTERM) before
	// every case finished; the cases present are the ones that ran.
	Interrupted bool `json:"interrupted,omitempty"`
	// RunID names a run spread over several generators (mtlsbench run
	// --shard/--shards); each shard's result and their merge carry it.
	RunID string `json:"run_id,omitempty"`
	// Shard is this result's generator in a sharded run: its index, the
	// count and its clock's offset. Absent for a single generator, and in
	// a merge, which lists every shard in Shards.
	Shard *Shard `json:"shard,omitempty"`
	// Shards lists the generators whose results were merged into this one,
	// by index; empty for a result written by a single run.
	Shards []Shard `json:"shards,omitempty"`
	Cases  []Case  `json:"cases"`
}

// Tool identifies the program that wrote the file.
type Tool struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	GoVersion string `json:"go_version"`
}

// Environment describes the generator's machine.
type Environment struct {
	Hostname   string `json:"hostname,omitempty"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Kernel     string `json:"kernel,omitempty"`
	CPUModel   string `json:"cpu_model,omitempty"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	// ClientCPUs and TargetCPUs record CPU pinning (a cpuset list such as
	// "0" or "2-3"); empty when not pinned.
	ClientCPUs string `json:"client_cpus,omitempty"`
	TargetCPUs string `json:"target_cpus,omitempty"`
	// OpenSSL is the libssl the openssl client stack runs with, as it
	// names itself at run time ("OpenSSL 3.0.19 27 Jan 2026"); empty in a
	// binary built without it (CGO_ENABLED=0, no libssl headers).
	OpenSSL string `json:"openssl,omitempty"`
}

// EarlyData counts a case's TLS 1.3 early data (0-RTT): the resumed
// handshakes that sent it (Offered), of which the server accepted or
// rejected it, and the bytes of it accepted.
type EarlyData struct {
	Offered       int64 `json:"offered"`
	Accepted      int64 `json:"accepted"`
	Rejected      int64 `json:"rejected"`
	BytesAccepted int64 `json:"bytes_accepted"`
}

// Add adds o's counts to e: the counts of shards merged.
func (e *EarlyData) Add(o EarlyData) {
	e.Offered += o.Offered
	e.Accepted += o.Accepted
	e.Rejected += o.Rejected
	e.BytesAccepted += o.BytesAccepted
}

// Scenario records what was asked for: its name, where it came from, and
// the validated specification as the scenarios package serialises it.
type Scenario struct {
	Name   string          `json:"name"`
	Source string          `json:"source,omitempty"`
	Spec   json.RawMessage `json:"spec,omitempty"`
}

// Shard is one generator of a sharded run.
type Shard struct {
	// Index is the shard's index in its run (from 0), of Count.
	Index int `json:"index"`
	Count int `json:"count"`
	// Source is the file (or pod) the shard's result was read from, in a
	// merge.
	Source      string      `json:"source,omitempty"`
	Hostname    string      `json:"hostname,omitempty"`
	Start       time.Time   `json:"start"`
	End         time.Time   `json:"end"`
	Environment Environment `json:"environment"`
	// Clock is the shard's clock offset to shard 0, measured over the
	// rendezvous connection; absent without --rendezvous.
	Clock *ClockSync `json:"clock,omitempty"`
}

// ClockSync is a clock's offset to a reference clock, as measured by
// request–response exchanges (the one with the shortest round trip
// kept): the reference's time minus this clock's, within ±ErrorUs (half
// that round trip).
type ClockSync struct {
	OffsetUs float64 `json:"offset_us"`
	ErrorUs  float64 `json:"error_us"`
	// Samples is how many exchanges were made.
	Samples int `json:"samples"`
}

// Status is a case's verdict on itself.
type Status string

const (
	// StatusOK: the case ran and every check passed.
	StatusOK Status = "ok"
	// StatusFailed: the case ran but failed its own checks (every handshake
	// failed, or parameters were not as requested); Failure says why.
	StatusFailed Status = "failed"
	// StatusCrosscheckFailed: the target's own record disagrees with the
	// client's counts by more than 1%, or saw verify failures the client
	// did not count.
	StatusCrosscheckFailed Status = "crosscheck_failed"
	// StatusInterrupted: the run was stopped while this case ran; its
	// figures cover the part that ran.
	StatusInterrupted Status = "interrupted"
)

// Acceptance says whether a successful handshake means the server accepted
// the client certificate. In TLS 1.3 the client finishes before the server
// verifies its certificate, so acceptance is only known from a later record.
const (
	// AcceptanceConfirmed: every counted handshake was confirmed by a record
	// the server sent after verifying the client (TLS 1.2 Finished, a TLS 1.3
	// session ticket, application data or close_notify). In one-way TLS
	// (auth server) there is no client certificate to reject after the
	// handshake: the server's Finished is its acceptance.
	AcceptanceConfirmed = "confirmed"
	// AcceptanceUnconfirmed: the engine did not wait for such a record
	// (TLS 1.3 with confirmation off), so a rejected certificate could be
	// counted as a success.
	AcceptanceUnconfirmed = "unconfirmed"
	// AcceptanceNone: a plain TCP case (auth none) has no TLS, so no
	// certificate to accept.
	AcceptanceNone = "none"
)

// Case is one matrix cell of one repeat.
type Case struct {
	// Name is stable and human-readable, e.g. "tls1.3-full-ecdsa-p256-x25519".
	Name string `json:"name"`
	// Key is the canonical parameter key; compare and merge match cases by it.
	Key string `json:"key"`
	// Repeat is the 0-based repeat index when the scenario repeats cases.
	Repeat int    `json:"repeat"`
	Params Params `json:"params"`
	Status Status `json:"status"`
	// Failure explains StatusFailed or StatusCrosscheckFailed.
	Failure string `json:"failure,omitempty"`
	// Acceptance is AcceptanceConfirmed, AcceptanceUnconfirmed or
	// AcceptanceNone (no TLS).
	Acceptance string `json:"acceptance"`
	// ServerVerified is true when the client verified the server's chain on
	// every full handshake (the default; false only when asked to skip).
	ServerVerified bool `json:"server_verified"`
	// Start is when the measured window began; DurationS is its length.
	Start     time.Time `json:"start"`
	DurationS float64   `json:"duration_s"`
	WarmupS   float64   `json:"warmup_s"`

	Counts        Counts            `json:"counts"`
	Errors        map[string]int64  `json:"errors"`
	ErrorExamples map[string]string `json:"error_examples,omitempty"`
	Negotiated    []Negotiated      `json:"negotiated"`

	// HandshakesPerS is successful handshakes per second over the window.
	HandshakesPerS float64     `json:"handshakes_per_s"`
	Latency        Latency     `json:"latency"`
	Bytes          Bytes       `json:"bytes"`
	CPU            CPU         `json:"cpu"`
	Load           *LoadReport `json:"load,omitempty"`

	TargetCounts *TargetCounts `json:"target_counts,omitempty"`
	Intervals    []Interval    `json:"intervals,omitempty"`
	Segments     []Segment     `json:"segments,omitempty"`
	// Rotations are the server certificate's rotations in the window
	// (run --rotate-at), in order; absent when it was not rotated.
	Rotations []Rotation `json:"rotations,omitempty"`
	// EarlyData counts the TLS 1.3 early data the case's resumed
	// handshakes offered and what the server did with it; absent when
	// none was offered.
	EarlyData *EarlyData `json:"early_data,omitempty"`

	// GeneratorBound is true when the generator used more than ~85% of the
	// CPU it may use: the figures then describe the generator, not the
	// target.
	GeneratorBound bool     `json:"generator_bound,omitempty"`
	Warnings       []string `json:"warnings,omitempty"`

	// UnreachableS is how long, inside the window, the target could not be
	// reached: connects failed until one succeeded, over Outages such
	// stretches. Absent when every connect succeeded.
	UnreachableS float64 `json:"unreachable_s,omitempty"`
	Outages      int64   `json:"outages,omitempty"`
	// ErrorBudget is the share of attempts (0 to 1) that may fail before
	// the case fails (the run's --error-budget; 0.01 unless set). Absent
	// in results of versions that had none.
	ErrorBudget *float64 `json:"error_budget,omitempty"`
	// SLO is the case judged against the run's objective (run --slo);
	// absent when the run had none. A broken SLO leaves Status ok: the
	// case measured what it says, and the run exits 1.
	SLO *SLOVerdict `json:"slo,omitempty"`

	// Capacity is the answer of a capacity search ('mtlsbench capacity');
	// absent for a plain run.
	Capacity *Capacity `json:"capacity,omitempty"`

	// Shard is this generator's part of the case in a sharded run; Merged
	// says how the shards of a merged case lined up.
	Shard  *CaseShard `json:"shard,omitempty"`
	Merged *CaseMerge `json:"merged,omitempty"`
}

// CaseShard is one shard's part of a case.
type CaseShard struct {
	// Planned is the instant the case was to begin (its warm-up, or its
	// window when there is none) on the run's shared timeline, in the
	// reference clock (shard 0's). Without a shared timeline (neither
	// --start-at nor --rendezvous) it is when this shard began the case,
	// in its own clock: merge then reads the shards' starts from their
	// own instants.
	Planned time.Time `json:"planned"`
	// StartsUs are the times of this shard's first open-loop starts (up to
	// 1,000, the warm-up's included) in µs from Planned, in the order the
	// schedule gave them: merge checks from them that the shards' starts
	// interleave.
	StartsUs []int64 `json:"starts_us,omitempty"`
}

// CaseMerge describes how the shards of a merged case lined up.
type CaseMerge struct {
	// Shards is how many shard results were merged.
	Shards int `json:"shards"`
	// StartSkewUs is the spread of the shards' window starts, each
	// corrected by its clock offset.
	StartSkewUs int64 `json:"start_skew_us"`
	// InterArrivalP50Us is the median gap between consecutive starts of
	// all shards together (over the span every shard's sample covers), and
	// IntendedInterArrivalUs the gap the schedule intends there (1/rate):
	// near each other when the shards interleave, far apart when their
	// starts bunch. Absent for a closed loop.
	InterArrivalP50Us      float64 `json:"inter_arrival_p50_us,omitempty"`
	IntendedInterArrivalUs float64 `json:"intended_inter_arrival_us,omitempty"`
}

// HandshakeLatency returns the case's handshake-latency summary, or nil
// when it has none or it counted nothing (no handshake succeeded).
func (c *Case) HandshakeLatency() *Summary {
	if c.Latency.Handshake == nil || c.Latency.Handshake.Count == 0 {
		return nil
	}
	return c.Latency.Handshake
}

// Params are the case's parameters as requested. Empty strings mean "the
// stack's default" and are shown as such.
type Params struct {
	TLSVersion  string `json:"tls_version"`            // "1.2" or "1.3"
	CipherSuite string `json:"cipher_suite,omitempty"` // IANA name; empty: any
	Group       string `json:"group"`                  // e.g. "x25519", "x25519mlkem768"
	// KeyType is the server certificate's key type; ClientKeyType the
	// client's.
	KeyType       string `json:"key_type"`
	ClientKeyType string `json:"client_key_type"`
	// Chain is "root" (leaf signed by the root) or "intermediate".
	Chain            string `json:"chain,omitempty"`
	ClientIdentities int    `json:"client_identities,omitempty"`
	// Resume is "none", "tickets", or a ratio such as "0.8".
	Resume      string `json:"resume"`
	Concurrency int    `json:"concurrency"`
	// Rate is the open-loop arrival rate (handshakes/s); 0 for a closed loop.
	Rate     float64 `json:"rate,omitempty"`
	Requests int     `json:"requests"`
	// HoldS keeps each connection open this long after its handshake.
	HoldS float64 `json:"hold_s,omitempty"`
	// Target is "builtin", "nginx", "haproxy", "openssl" or HOST:PORT.
	Target string `json:"target"`
	// TargetMode is the target's mode: "handshake", "http" or "http2".
	TargetMode string `json:"target_mode,omitempty"`
	// HandshakeDelayMS is an artificial server-side delay (built-in target
	// only), used to produce regressions on purpose.
	HandshakeDelayMS float64 `json:"handshake_delay_ms,omitempty"`
	// Auth is "mutual" (the client sent a certificate the server
	// verified), "server" (one-way TLS) or "none" (plain TCP: the TLS
	// parameters above are then empty). Absent in results from before the
	// auth axis, which were all mutual.
	Auth string `json:"auth,omitempty"`
	// TrustStore is how many CAs the server trusted for client
	// certificates (its CertificateRequest named them all); zero in
	// results from before the setting existed, which trusted one.
	TrustStore int `json:"trust_store,omitempty"`
	// CRLEntries is the entries of the CRL the server checked client
	// certificates against; zero: no CRL.
	CRLEntries int `json:"crl_entries,omitempty"`
	// RevokedClients is how many of the case's client identities were on
	// that CRL on purpose (their refusals are certificate_revoked).
	RevokedClients int `json:"revoked_clients,omitempty"`
	// Streams is the HTTP/2 requests in flight on a connection (target
	// mode "http2"); absent otherwise.
	Streams int `json:"streams,omitempty"`
	// RotateAt is when the server certificate was rotated, as offsets
	// into the window ("2s", "1s,3s"); absent: never.
	RotateAt string `json:"rotate_at,omitempty"`
	// Rotate is what each rotation replaced: "cert" (the server
	// certificate and key) or "ca" (the CA too); absent: never rotated.
	Rotate string `json:"rotate,omitempty"`
	// Client is the client stack: "go" (Go's crypto/tls) or "openssl"
	// (libssl, see Environment.OpenSSL); absent in results from before
	// the setting, which were all go, and for plain TCP.
	Client string `json:"client,omitempty"`
	// ResumeBy is "session-id" when resumption was by TLS 1.2 session ID
	// (Resume is then "tickets"' ratio); absent: by ticket.
	ResumeBy string `json:"resume_by,omitempty"`
	// EarlyData is the bytes of TLS 1.3 early data each resumed handshake
	// sent; absent: none (see Case.EarlyData for what became of it).
	EarlyData int `json:"early_data,omitempty"`
	// PSKMode is "ke" when resumptions asked for psk_ke (no (EC)DHE);
	// absent: psk_dhe_ke.
	PSKMode string `json:"psk_mode,omitempty"`
	// ClientSigner is what made the client's CertificateVerify
	// signatures: "openssl" (OpenSSL's libcrypto, cheaper than a Go
	// client's own signing) or absent: the client stack's own (Go's
	// crypto for the Go client).
	ClientSigner string `json:"client_signer,omitempty"`
}

// Counts are handshake counts over the measured window.
type Counts struct {
	// Attempted handshakes started in the window; OK of them succeeded
	// (and were confirmed, see Acceptance); Errors failed.
	Attempted int64 `json:"attempted"`
	OK        int64 `json:"ok"`
	Resumed   int64 `json:"resumed"`
	Errors    int64 `json:"errors"`
	// HRR counts handshakes that needed a HelloRetryRequest.
	HRR int64 `json:"hrr,omitempty"`
	// Requests counts HTTP requests completed on successful connections.
	Requests int64 `json:"requests,omitempty"`
	// Primed counts full handshakes made only to obtain a session to
	// resume, inside the window; they are in no other figure.
	Primed int64 `json:"primed,omitempty"`
}

// Add adds o's counts to c: the counts of shards merged, or of repeats
// taken together.
func (c *Counts) Add(o Counts) {
	c.Attempted += o.Attempted
	c.OK += o.OK
	c.Resumed += o.Resumed
	c.Errors += o.Errors
	c.HRR += o.HRR
	c.Requests += o.Requests
	c.Primed += o.Primed
}

// Negotiated is one distinct tuple of negotiated parameters and how many
// successful handshakes had it.
type Negotiated struct {
	TLSVersion    string `json:"tls_version"`
	CipherSuite   string `json:"cipher_suite"`
	Group         string `json:"group"`
	Resumed       bool   `json:"resumed"`
	ServerKeyType string `json:"server_key_type,omitempty"`
	Count         int64  `json:"count"`
}

// Latency holds one Summary per phase. Phases that did not happen (no
// requests, no open loop) are absent.
type Latency struct {
	// Connect is the TCP connect.
	Connect *Summary `json:"connect,omitempty"`
	// Handshake is from the ClientHello to the server's acceptance (see
	// Acceptance).
	Handshake *Summary `json:"handshake,omitempty"`
	// FirstByte is from the ClientHello to the first byte of the server's
	// reply (its processing of the ClientHello and its own signature, in
	// TLS 1.3).
	FirstByte *Summary `json:"first_byte,omitempty"`
	// Verify is the client's verification of the server chain (full
	// handshakes only).
	Verify *Summary `json:"verify,omitempty"`
	// Sign is the client's CertificateVerify signature (full handshakes).
	Sign *Summary `json:"sign,omitempty"`
	// Requests is the time for all requests on the connection.
	Requests *Summary `json:"requests,omitempty"`
	// Total is connect + handshake + requests. In an open loop it is
	// measured from the intended start time (coordinated-omission
	// corrected); TotalUncorrected then measures from the actual start.
	Total            *Summary `json:"total,omitempty"`
	TotalUncorrected *Summary `json:"total_uncorrected,omitempty"`
	// ScheduleLag is how late each open-loop start was.
	ScheduleLag *Summary `json:"schedule_lag,omitempty"`
}

// Summary describes one latency distribution in microseconds, with the full
// HDR histogram (V2 compressed, base64) for exact merging and plotting.
type Summary struct {
	Count  int64   `json:"count"`
	MeanUs float64 `json:"mean_us"`
	MinUs  int64   `json:"min_us"`
	P50Us  int64   `json:"p50_us"`
	P90Us  int64   `json:"p90_us"`
	P99Us  int64   `json:"p99_us"`
	P999Us int64   `json:"p999_us"`
	MaxUs  int64   `json:"max_us"`
	HDR    string  `json:"hdr"`
}

// Bytes on the wire (TLS records, not counting TCP/IP headers).
type Bytes struct {
	HandshakeSentMean     float64 `json:"handshake_sent_mean"`
	HandshakeReceivedMean float64 `json:"handshake_received_mean"`
	TotalSent             int64   `json:"total_sent"`
	TotalReceived         int64   `json:"total_received"`
}

// CPU is user+system CPU time per successful handshake over the measured
// window. Target figures are present when the target's processes run on
// this machine.
type CPU struct {
	ClientUsPerHandshake float64 `json:"client_us_per_handshake"`
	TargetUsPerHandshake float64 `json:"target_us_per_handshake,omitempty"`
	// ClientUtilization and TargetUtilization are CPU time over wall time
	// (1.0 = one core busy).
	ClientUtilization float64 `json:"client_utilization"`
	TargetUtilization float64 `json:"target_utilization,omitempty"`
	// ClientCores is how many cores the generator may use.
	ClientCores float64 `json:"client_cores"`
	// TargetMeasured is false when no target CPU was available (a remote
	// target without --target-pid).
	TargetMeasured bool `json:"target_measured"`
	// PerShard keeps each generator's own figures after a merge.
	PerShard []CPU `json:"per_shard,omitempty"`
}

// LoadReport describes how the load was applied.
type LoadReport struct {
	// Model is "closed" (fixed concurrency) or "open" (arrival rate).
	Model string `json:"model"`
	// TargetRate and AchievedRate are starts per second (open loop).
	TargetRate   float64 `json:"target_rate,omitempty"`
	AchievedRate float64 `json:"achieved_rate,omitempty"`
	// MaxInFlight is the cap on concurrent handshakes; InFlightLimitHits
	// counts starts that found it reached and were delayed.
	MaxInFlight       int   `json:"max_in_flight,omitempty"`
	InFlightLimitHits int64 `json:"in_flight_limit_hits,omitempty"`
	PeakInFlight      int64 `json:"peak_in_flight,omitempty"`
	// SourceAddrs is how many loopback source addresses were used.
	SourceAddrs int  `json:"source_addrs,omitempty"`
	Linger0     bool `json:"linger0,omitempty"`
}

// TargetCounts is what the target itself observed over the window.
type TargetCounts struct {
	// Source says where the counts come from ("builtin", "nginx access log").
	Source         string           `json:"source"`
	Handshakes     int64            `json:"handshakes"`
	Resumed        int64            `json:"resumed"`
	Failed         int64            `json:"failed,omitempty"`
	VerifyFailures int64            `json:"verify_failures,omitempty"`
	Versions       map[string]int64 `json:"versions,omitempty"`
	Ciphers        map[string]int64 `json:"ciphers,omitempty"`
	// ClientVerify counts the handshakes the target served by its verdict
	// on the client certificate: SUCCESS (verified) or NONE (none sent).
	// Absent when the target does not record it.
	ClientVerify map[string]int64 `json:"client_verify,omitempty"`
	// Requests the target answered; HTTP2Requests of them over HTTP/2.
	Requests      int64 `json:"requests,omitempty"`
	HTTP2Requests int64 `json:"http2_requests,omitempty"`
	// EarlyData is the connections whose TLS 1.3 early data the target
	// received, EarlyDataBytes the bytes of it; absent where the target
	// does not record it (only openssl s_server does).
	EarlyData      int64 `json:"early_data,omitempty"`
	EarlyDataBytes int64 `json:"early_data_bytes,omitempty"`
}

// Interval is one slice of the per-interval time series.
type Interval struct {
	// OffsetS is the interval's start, in seconds from the window start.
	OffsetS        float64 `json:"offset_s"`
	DurationS      float64 `json:"duration_s"`
	HandshakesPerS float64 `json:"handshakes_per_s"`
	P50Us          int64   `json:"p50_us"`
	P99Us          int64   `json:"p99_us"`
	Errors         int64   `json:"errors"`
	Resumed        int64   `json:"resumed"`
	InFlight       int64   `json:"in_flight"`
	// HDR is the interval's handshake-latency histogram (for HDR logs).
	HDR string `json:"hdr,omitempty"`
}

// Rotation is one rotation of the target's server certificate under load,
// and what the handshakes around it did.
//
// "Around" is defined on the interval series: the interval containing
// the rotation's start and the one after it (which covers a reload that
// ends after its interval does), against "before", the interval just
// before the one containing it. A rotation in the window's first
// interval has no before: BeforeP99Us is then 0 and SlowedAround counts
// nothing.
type Rotation struct {
	// AtS is when the rotation began (the new certificate handed to the
	// target), in seconds from the window start; DoneS when the target
	// served it (the built-in target: its swap returned; nginx: a probe
	// handshake after the reload was served it). Absent when it failed.
	AtS   float64 `json:"at_s"`
	DoneS float64 `json:"done_s,omitempty"`
	// Interval is the index into Intervals of the interval containing
	// AtS.
	Interval int `json:"interval"`
	// OldSerial and NewSerial are the serial numbers (hex) of the
	// certificate replaced and of its replacement.
	OldSerial string `json:"old_serial"`
	NewSerial string `json:"new_serial"`
	// ErrorsBefore and ErrorsAround are the failed handshakes (every
	// error class) in the interval before and in the intervals around
	// it; OKAround the successful ones around it.
	ErrorsBefore int64 `json:"errors_before"`
	ErrorsAround int64 `json:"errors_around"`
	OKAround     int64 `json:"ok_around"`
	// BeforeP99Us is the p99 latency of the interval before; SlowedAround
	// counts the successful handshakes around the rotation slower than
	// it (about 1% of them would be by chance).
	BeforeP99Us  int64 `json:"before_p99_us"`
	SlowedAround int64 `json:"slowed_around"`
	// FullNew is the full handshakes, from the rotation until the next
	// one or the window's end, that presented the new certificate: the
	// client saw the rotation happen (a full handshake that began after
	// DoneS and presented another certificate failed as param_mismatch).
	FullNew int64 `json:"full_new"`
	// ResumedAcross is the resumptions, in the same span, of sessions
	// issued with an earlier certificate: sessions that survived the
	// rotation. RefusedAcross is the offers of such sessions the server
	// refused with a full handshake (a reload that changes its session
	// ticket keys forgets every session): in a rotated case those are
	// what the rotation did, not resume_miss errors.
	ResumedAcross int64 `json:"resumed_across"`
	RefusedAcross int64 `json:"refused_across"`
	// Error says why the rotation failed (the target did not take the new
	// certificate); absent when it succeeded.
	Error string `json:"error,omitempty"`
}

// Segment is one step of a stepped load schedule.
type Segment struct {
	Rate           float64 `json:"rate"`
	OffsetS        float64 `json:"offset_s"`
	DurationS      float64 `json:"duration_s"`
	HandshakesPerS float64 `json:"handshakes_per_s"`
	Errors         int64   `json:"errors"`
	Latency        Summary `json:"latency"`
}
