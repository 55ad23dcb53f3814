package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// probeConfirm is how long Probe waits, after a TLS 1.3 handshake, for
// the server's verdict on the client certificate: an alert if it refuses
// it; a ticket, data, a close or silence if it accepts.
const probeConfirm = time.Second

// Probe makes one connection to cfg.Addr the way the run's workers would
// (the case's TLS parameters, the first client identity, the server
// verified unless cfg says not to) and reports why it failed, as a
// *Error whose Class names the kind: to refuse a run against an
// unreachable or misconfigured target before any load, rather than after
// hundreds of thousands of refused connects. With connectOnly it stops
// after the TCP connect (a run that sends an invalid certificate on
// purpose expects the handshake to fail). Its timeout is cfg.Timeout.
func Probe(ctx context.Context, cfg Config, connectOnly bool) error {
	c := cfg.withDefaults()
	d := net.Dialer{Timeout: c.Timeout}
	raw, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &Error{Class: classify("connect", err), Phase: "connect", Err: err}
	}
	defer raw.Close()
	if connectOnly || !c.TLS.Auth.TLS() {
		return nil
	}
	tc := goConfig(&c)
	tc.InsecureSkipVerify = c.InsecureSkipVerify
	if len(c.Identities) > 0 && c.TLS.Auth.Mutual() {
		tc.Certificates = c.Identities[:1]
	}
	_ = raw.SetDeadline(time.Now().Add(c.Timeout))
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Now()) })
	defer stop()
	conn := tls.Client(raw, tc)
	if err := conn.Handshake(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &Error{Class: classify("handshake", err), Phase: "handshake", Err: err}
	}
	if conn.ConnectionState().Version < tls.VersionTLS13 {
		return nil
	}
	_ = raw.SetReadDeadline(time.Now().Add(probeConfirm))
	var b [1]byte
	_, err = conn.Read(b[:])
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if _, alert := remoteAlert(err); alert {
		return &Error{Class: classify("confirm", err), Phase: "confirm",
			Err: fmt.Errorf("after the client's Finished (TLS 1.3), the server answered: %w", err)}
	}
	// A close or a reset after the handshake: accepted, then closed (a
	// server in handshake mode), as the workers' confirmation reads it.
	return nil
}
