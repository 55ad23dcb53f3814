package targets

import (
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

// Kind names a target implementation.
type Kind string

// Target kinds. External targets (HOST:PORT) are not started by this
// package; the others are.
const (
	KindBuiltin Kind = "builtin"
	KindNginx   Kind = "nginx"
	KindHAProxy Kind = "haproxy"
	KindOpenSSL Kind = "openssl"
)

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
)

// Config describes a server for any target kind. Zero values have defaults,
// noted per field; Start functions apply them on a copy.
type Config struct {
	// Listen is the address to listen on. Zero means "127.0.0.1:0" (a free
	// loopback port).
	Listen string
	// Identity is the server's certificate chain (leaf first) and key.
	// Required.
	Identity pki.Identity
	// ClientCAs are the roots client certificates must chain to. Required:
	// every target requires and verifies a client certificate.
	ClientCAs []*x509.Certificate
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
	// Mode is what happens after the handshake. Zero means ModeHandshake.
	Mode Mode
	// HandshakeDelay delays every handshake by this much on the server side
	// before the server answers the ClientHello, to produce a regression on
	// purpose. Zero means none. Built-in target only.
	HandshakeDelay time.Duration
	// HandshakeTimeout drops clients that do not finish a handshake in this
	// time. Zero means 10s.
	HandshakeTimeout time.Duration
	// CPUs pins the server's processes to a CPU list ("1", "2-3"), as
	// taskset(1) takes it. Zero means no pinning.
	CPUs string
	// Workers is the number of server worker processes or threads for
	// managed servers (nginx worker_processes, HAProxy nbthread). Zero
	// means one per CPU the server may use (those in CPUs, else all).
	Workers int
}
