package targets

import (
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// Kind names a target implementation.
type Kind string

// Target kinds. Start starts every kind whose package has registered it
// (see Register): the built-in server (targets/builtin), the managed servers
// (targets/managed) and external targets (this package), which are servers
// mtlsbench did not start and only names.
const (
	KindBuiltin  Kind = "builtin"
	KindNginx    Kind = "nginx"
	KindHAProxy  Kind = "haproxy"
	KindOpenSSL  Kind = "openssl"
	KindExternal Kind = "external"
	KindNode     Kind = "node" // a TLS server script run by Node.js (24 or later: OpenSSL 3.5, ML-KEM)
)

// DefaultHandshakeTimeout is used when Config.HandshakeTimeout is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// Mode is what the server does after a successful handshake.
type Mode string

const (
	// ModeHandshake: read until the client closes, answering nothing. In
	// TLS 1.3 the server's session ticket (or close_notify when tickets are
	// off) is the record that confirms acceptance to the client.
	ModeHandshake Mode = "handshake"
	// ModeHTTP: answer each HTTP/1.1 request with 200 and a short body,
	// keeping the connection alive until the client closes it.
	ModeHTTP Mode = "http"
	// ModeHTTP2: answer each HTTP/2 request with 200 and a short body.
	// The server offers ALPN h2 only, so a client that negotiated anything
	// else has not measured HTTP/2 (the engine counts that connection as
	// param_mismatch).
	ModeHTTP2 Mode = "http2"
)

// Config describes a server for any target kind. Zero values have defaults,
// noted per field; Start functions apply them on a copy. An external
// target, which mtlsbench does not start, reads only Kind, Addr,
// ServerName and PIDs; the fields from Listen on are the server side of a
// case for the kinds mtlsbench starts.
type Config struct {
	// Kind is the kind of target Start starts. If zero, KindBuiltin.
	Kind Kind

	// Addr is an external target's host:port. Required for KindExternal;
	// the other kinds listen on Listen and ignore it.
	Addr string
	// ServerName is the name an external target's certificate is checked
	// against and the client sends in SNI. If zero, the host of Addr.
	// External targets only: the others name their own (Target.ServerName).
	ServerName string
	// PIDs are the processes of an external server running on this
	// machine, whose CPU time (with their descendants') is the target's. If
	// nil, its CPU is not measured. External targets only.
	PIDs []int

	// InProcess runs the built-in target inside this process. If false,
	// it runs in a child process started with ChildCommand, so that its
	// CPU time is its own. Built-in target only.
	InProcess bool
	// ChildCommand is the argv that runs the built-in target's child side
	// (mtlsbench serve --child). Required for the built-in target unless
	// InProcess; if nil, Start refuses to start a child.
	ChildCommand []string

	// Listen is the address to listen on. Zero means "127.0.0.1:0" (a free
	// loopback port).
	Listen string
	// Identity is the server's certificate chain (leaf first) and key.
	// Required.
	Identity pki.Identity
	// ClientCAs are the roots client certificates must chain to. Required
	// for mutual TLS (Auth mutual or zero), where the target requires and
	// verifies a client certificate. The server names each in its
	// CertificateRequest (a trust store of N CAs sends N names).
	ClientCAs []*x509.Certificate
	// Auth is who proves its identity. Zero means mutual: the server
	// requires and verifies a client certificate. Server is one-way TLS
	// (it requests none); none a plaintext listener, no TLS at all, in the
	// same modes. A kind without a plaintext listener refuses none
	// (Capability.Check).
	Auth tlsparams.Auth
	// CRLs are the revocation lists client certificates are checked
	// against, one per CA of the client's chain: every certificate of the
	// chain but the root must be on none of them, and a CA with no CRL
	// fails the check (as OpenSSL's X509_V_FLAG_CRL_CHECK_ALL does, which
	// nginx and HAProxy set). Nil means no revocation check. Mutual TLS
	// only.
	CRLs []*x509.RevocationList
	// MinVersion and MaxVersion bound the TLS versions accepted. Zero means
	// TLS 1.2 and TLS 1.3 respectively.
	MinVersion, MaxVersion uint16
	// CipherSuites are the TLS 1.2 suites accepted. Nil means the server's
	// defaults.
	CipherSuites []uint16
	// CipherSuitesTLS13 are the TLS 1.3 suites accepted. Nil means all
	// three. Only OpenSSL-based targets can enforce this; the built-in
	// target refuses a non-nil value (crypto/tls cannot pin a TLS 1.3 suite).
	CipherSuitesTLS13 []uint16
	// Groups are the key-exchange groups accepted, in preference order. Nil
	// means the server's defaults.
	Groups []tls.CurveID
	// DisableTickets turns session tickets off (and, for managed servers,
	// the session cache too): no handshake can resume.
	DisableTickets bool
	// SessionIDs turns session tickets off and a session cache on: TLS
	// 1.2 resumption by session ID only. False means tickets as the
	// server's defaults have them. Not with DisableTickets; a kind whose
	// capabilities lack tlsparams.SessionIDResumption refuses it.
	SessionIDs bool
	// EarlyData is the most TLS 1.3 early data (0-RTT) the server
	// accepts on a resumed connection (max_early_data), in bytes. Zero
	// means none: the server rejects early data. A kind whose
	// capabilities lack tlsparams.EarlyData refuses a non-zero value.
	EarlyData int
	// PSKKE allows and prefers TLS 1.3 resumption without (EC)DHE
	// (psk_ke) where the client offers it. False means the server's
	// default: resumption always with a fresh (EC)DHE (psk_dhe_ke). Only a
	// kind whose capability has tlsparams.PSKKE honours it.
	PSKKE bool
	// Mode is what happens after the handshake. Zero means ModeHandshake.
	Mode Mode
	// HandshakeDelay delays every handshake by this much on the server side
	// before the server answers the ClientHello, to produce a regression on
	// purpose. Zero means none. Built-in target only.
	HandshakeDelay time.Duration
	// HandshakeTimeout drops clients that do not finish a handshake in this
	// time. Zero means DefaultHandshakeTimeout (10s).
	HandshakeTimeout time.Duration
	// CPUs pins the server's processes to a CPU list ("1", "2-3"), as
	// taskset(1) takes it. Zero means no pinning.
	CPUs string
	// Workers is the number of server worker processes or threads for
	// managed servers (nginx worker_processes, HAProxy nbthread). Zero
	// means one per CPU the server may use (those in CPUs, else all).
	Workers int
}
