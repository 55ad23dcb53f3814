package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"syscall"

	"github.com/mtlsbench/mtlsbench/loadgen/ossl"
)

// Class is a stable name for a kind of failure. Results count errors by
// class and keep the first message of each as an example.
type Class uint8

// The error classes. Their names (String) are part of the result format.
const (
	ClassConnectRefused Class = iota
	ClassConnectTimeout
	ClassHandshakeTimeout
	ClassUnknownCA
	ClassBadCertificate
	ClassCertificateRequired
	ClassCertificateExpired
	// ClassCertificateRevoked: the server sent certificate_revoked (44),
	// or refused a client identity the case revoked (Config.Revoked)
	// with bad_certificate (all a Go server's verification callback can
	// send) or, after the handshake, an HTTP error status (nginx).
	ClassCertificateRevoked
	ClassProtocolVersion
	ClassHandshakeFailure
	ClassServerCertInvalid
	ClassResumeMiss
	ClassParamMismatch
	ClassGeneratorLimit
	ClassIO
	ClassHTTPStatus
	ClassOther
	numClasses
)

var classNames = [numClasses]string{
	"connect_refused", "connect_timeout", "handshake_timeout", "unknown_ca",
	"bad_certificate", "certificate_required", "certificate_expired",
	"certificate_revoked", "protocol_version", "handshake_failure", "server_cert_invalid",
	"resume_miss", "param_mismatch", "generator_limit", "io", "http_status", "other",
}

func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "other"
}

// ClassNames lists every class name in order.
func ClassNames() []string { return append([]string(nil), classNames[:]...) }

// Error is a classified failure of one connection.
type Error struct {
	Class Class
	// Phase is where it happened: "connect", "handshake", "confirm",
	// "check", "request".
	Phase string
	Err   error
}

func (e *Error) Error() string {
	return "loadgen: " + e.Phase + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// TLS alert codes (RFC 8446 §6) that have their own class.
const (
	alertHandshakeFailure    = 40
	alertBadCertificate      = 42
	alertCertificateRevoked  = 44
	alertCertificateExpired  = 45
	alertUnknownCA           = 48
	alertProtocolVersion     = 70
	alertInsufficientSec     = 71
	alertCertificateRequired = 116
)

// remoteAlert extracts the alert code from an error crypto/tls returns for
// an alert the peer sent: a *net.OpError with Op "remote error" wrapping
// crypto/tls's unexported alert type (a uint8).
func remoteAlert(err error) (uint8, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return 0, false
	}
	v := reflect.ValueOf(op.Err)
	if v.Kind() != reflect.Uint8 || v.Type().PkgPath() != "crypto/tls" {
		return 0, false
	}
	return uint8(v.Uint()), true
}

// classify names the failure of phase.
func classify(phase string, err error) Class {
	if code, ok := remoteAlert(err); ok {
		return alertClass(code)
	}
	var oe *ossl.Error
	if errors.As(err, &oe) {
		return opensslClass(phase, oe)
	}
	return classifyLocal(phase, err)
}

// alertClass is the class of an alert the server sent.
func alertClass(code uint8) Class {
	switch code {
	case alertUnknownCA:
		return ClassUnknownCA
	case alertBadCertificate:
		return ClassBadCertificate
	case alertCertificateRequired:
		return ClassCertificateRequired
	case alertCertificateExpired:
		return ClassCertificateExpired
	case alertCertificateRevoked:
		return ClassCertificateRevoked
	case alertProtocolVersion:
		return ClassProtocolVersion
	case alertHandshakeFailure, alertInsufficientSec:
		return ClassHandshakeFailure
	}
	return ClassOther
}

// classifyLocal names a failure that is not an alert from the server.
func classifyLocal(phase string, err error) Class {
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	if errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) {
		return ClassServerCertInvalid
	}
	if isGeneratorLimit(err) {
		return ClassGeneratorLimit
	}
	timeout := errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		timeout = true
	}
	if phase == "connect" {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return ClassConnectRefused
		case timeout, errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
			return ClassConnectTimeout
		}
		return ClassIO
	}
	if timeout {
		if phase == "request" {
			return ClassIO
		}
		return ClassHandshakeTimeout
	}
	var alertErr tls.AlertError
	if errors.As(err, &alertErr) {
		return ClassHandshakeFailure
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return ClassIO
	}
	if phase == "handshake" {
		// Local handshake errors from crypto/tls ("tls: server selected
		// unsupported protocol version", "no cipher suite supported by
		// both client and server") are negotiation failures.
		if isTLSNegotiation(err) {
			return ClassProtocolVersion
		}
		return ClassHandshakeFailure
	}
	return ClassOther
}

func isTLSNegotiation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "unsupported protocol version") || strings.Contains(msg, "protocol version not supported")
}

// isGeneratorLimit reports errors that mean the generator ran out of a
// local resource (ports, file descriptors, buffers), not that the target
// failed.
func isGeneratorLimit(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EMFILE) ||
		errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.ENOMEM)
}

// limitAdvice explains a generator_limit error and how to lift it.
func limitAdvice(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return " (out of ephemeral ports, usually sockets in TIME_WAIT: use more --source-addrs for a loopback target, --linger0, or widen net.ipv4.ip_local_port_range)"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return " (out of file descriptors: raise the hard limit, e.g. 'ulimit -Hn 1048576' as root, or lower the concurrency)"
	case errors.Is(err, syscall.ENOBUFS), errors.Is(err, syscall.ENOMEM):
		return " (the kernel is out of socket buffers or memory: lower the concurrency)"
	}
	return ""
}
