package loadgen

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/loadgen/ossl"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// The openssl client stack (Config.TLS.Client openssl): the same worker,
// socket, pacing, timing, confirmation, checks, error classes and
// recorders as the go client's, with package ossl's connection in place
// of crypto/tls's. What differs is here.

// osslWorker is a worker's openssl state, behind a pointer so the worker
// keeps its size class: the connection state (its buffers released while
// a connection is held), the newest session the server gave (resumed
// with next), and the early-data counts.
type osslWorker struct {
	conn    *ossl.Conn
	session *ossl.Session
	// sessionLeaf is the server certificate the session was issued with,
	// kept while a run rotates it (Config.ServerLeaf); nil otherwise.
	sessionLeaf *x509.Certificate
	early       struct{ offered, accepted, rejected, bytes int64 }
}

// osslConfig is the SSL_CTX configuration for a run, from the case's
// parameters as goConfig makes crypto/tls's: one version, exactly the
// case's groups (tlsparams.Params.Offered; the first gets the key share),
// the pinned suite of either version, tickets off for session IDs,
// psk_ke offered for PSKModeKE.
func osslConfig(c *Config) ossl.Config {
	p := &c.TLS
	oc := ossl.Config{
		Version:    uint16(p.Version),
		Verify:     !c.InsecureSkipVerify,
		Roots:      c.RootCerts,
		SessionIDs: p.ResumeBy.SessionID(),
		PSKKE:      p.PSKMode.KE(),
		Mutual:     p.Auth.Mutual(),
		Identities: c.Identities,
	}
	if c.HTTP2 {
		oc.ALPN = []string{"h2"}
	}
	if !p.Suite.IsZero() {
		if p.Suite.TLS13 {
			oc.Suite13 = p.Suite.Name
		} else {
			oc.Cipher = p.Suite.OpenSSL
		}
	}
	if p.Group.ID != 0 {
		for _, id := range p.Offered() {
			if g, ok := tlsparams.GroupByID(id); ok {
				oc.Groups = append(oc.Groups, g.OpenSSL)
			}
		}
	}
	return oc
}

// validateStack refuses what the client stack cannot run (the pairing of
// a case with a target is tlsparams.Check's, before this).
func (c Config) validateStack() error {
	bad := func(format string, a ...any) error { return &ConfigError{fmt.Sprintf(format, a...)} }
	p := c.TLS
	if StackOf(p.Client) == StackGo {
		if fs := p.Needs(); len(fs) > 0 {
			return bad("the go client cannot %s (use the openssl client)", fs[0])
		}
		return nil
	}
	if err := ossl.Available(); err != nil {
		return &ConfigError{err.Error()}
	}
	switch {
	case c.Roots != nil && len(c.RootCerts) == 0 && !c.InsecureSkipVerify:
		return bad("the openssl client needs the roots as certificates (RootCerts)")
	case p.EarlyData > 0 && c.Requests > 0:
		return bad("early data with requests: the engine sends early data as filler bytes, which an HTTP server would read as a request (0-RTT requests are not built)")
	}
	return nil
}

// configureOpenSSL makes the worker's openssl state that is not there.
func (w *worker) configureOpenSSL() {
	if w.ossl == nil {
		w.ossl = &osslWorker{}
	}
	if w.ossl.conn == nil {
		w.ossl.conn = w.eng.ossl.NewConn()
	}
}

// adopt takes another reference to the run's first session when the
// worker has none, as the go client's slot does (sessionSlot.adopt): in
// an open loop that falls behind, every worker added would otherwise make
// a full handshake to get its own. Not with early data: a server that
// accepts it makes its tickets single-use.
func (o *osslWorker) adopt(e *engine) {
	if o.session != nil || e.cfg.TLS.EarlyData > 0 {
		return
	}
	o.session = e.osslShared.Load().Share() // nil while there is none
	o.sessionLeaf = nil
}

// share makes s the run's first session, if there is none yet.
func (e *engine) share(s *ossl.Session) {
	if e.osslShared.Load() != nil {
		return
	}
	if c := s.Share(); !e.osslShared.CompareAndSwap(nil, c) {
		c.Free()
	}
}

// release frees the connection state (and its buffers) while the
// worker's connection is held; the session stays.
func (o *osslWorker) release() {
	if o != nil && o.conn != nil {
		o.conn.Free()
		o.conn = nil
	}
}

// free releases everything, when the run is over.
func (o *osslWorker) free() {
	if o == nil {
		return
	}
	o.release()
	o.session.Free()
	o.session = nil
}

// exchangeOpenSSL is exchange (worker.go) with the openssl client: the
// same phases, checks and records.
func (w *worker) exchangeOpenSSL(priming bool, intended, start, connected time.Time) (hold, counted bool) {
	e := w.eng
	cfg := &e.cfg
	o := w.ossl
	conn := o.conn
	leaf := cfg.ServerLeaf.load() // the certificate expected as the handshake begins
	var offer *ossl.Session
	var offeredLeaf *x509.Certificate
	if w.session.offer {
		offer, offeredLeaf = o.session, o.sessionLeaf
	}
	w.session.offered = offer != nil
	w.verified = 0
	w.presented, w.caNames = -1, -1
	if err := conn.Start(&w.wire, cfg.ServerName, offer, int(w.identity)); err != nil {
		w.fail(time.Now(), ClassOther, "handshake", err)
		return false, false
	}
	closeNotify := false
	defer func() {
		if closeNotify {
			_ = conn.CloseNotify()
		}
		conn.End()
	}()
	early := false
	if n := cfg.TLS.EarlyData; n > 0 && offer != nil {
		if max := offer.MaxEarlyData(); max < n {
			w.fail(time.Now(), ClassParamMismatch, "handshake", fmt.Errorf("the server's session allows %d bytes of early data (max_early_data), the case sends %d: the server does not accept early data as the case asks", max, n))
			return false, false
		}
		if err := conn.WriteEarly(e.earlyData); err != nil {
			w.fail(time.Now(), classify("handshake", err), "handshake", err)
			return false, false
		}
		early = true
	}
	err := conn.Handshake()
	w.presented, w.caNames = int32(conn.Presented()), int32(conn.CANames())
	if w.presented >= 0 {
		// The next full handshake presents the next identity, as the go
		// client's does.
		w.identity = (w.identity + 1) % int32(len(cfg.Identities))
	}
	w.verified = time.Duration(conn.VerifyNanos())
	if err != nil {
		w.failHandshake(err)
		return false, false
	}
	// A connection whose handshake completed closes with close_notify, as
	// OpenSSL's own clients (s_client, curl) do: an OpenSSL server takes a
	// close without it for an unclean shutdown and drops the session from
	// its cache — the session ID's, or the single-use ticket's a server
	// with early data issues (without it s_server never resumed by
	// session ID, nginx missed ~40%, s_server with early data ~70%). The
	// go client closes without one (crypto/tls's tickets are stateless).
	closeNotify = true
	info := conn.Info()
	state := tls.ConnectionState{Version: info.Version, CipherSuite: info.Suite, CurveID: info.Group, DidResume: info.Resumed,
		HelloRetryRequest: info.HRR, NegotiatedProtocol: info.ALPN}
	if leaf != nil {
		// While the run rotates the server's certificate, which one it
		// presented is checked (ServerLeaf), as for the go client.
		if c, err := x509.ParseCertificate(conn.PeerLeaf(nil)); err == nil {
			state.PeerCertificates = []*x509.Certificate{c}
		}
	}
	if err := w.authProblem(&state); err != nil {
		w.fail(time.Now(), ClassParamMismatch, "check", err)
		return false, false
	}
	var pre []byte // application data the confirmation read took
	if state.Version >= tls.VersionTLS13 && w.mustReadRecord() {
		w.wire.startConfirm()
		n, err := conn.Await(w.scratch[:])
		w.wire.confirming = false
		pre = w.scratch[:n]
		if err != nil && !(errors.Is(err, io.EOF) && w.wire.records > 0) {
			w.failConfirm(err)
			return false, false
		}
	}
	hsEnd := time.Now()
	hsSent, hsRecv := w.wire.written, w.wire.read
	if s := conn.TakeSession(); s != nil {
		if cfg.TLS.Resume > 0 {
			o.session.Free()
			o.session = s
			o.sessionLeaf = nil
			if len(state.PeerCertificates) > 0 {
				o.sessionLeaf = state.PeerCertificates[0]
			}
			e.share(s)
		} else {
			s.Free()
		}
	}
	if priming {
		if e.inWindow(hsEnd) {
			w.primed++
		}
		return false, false
	}
	// A session from before a rotation that the server refused is what
	// the rotation did, counted against it, not a resume_miss.
	refusedAcross := offer != nil && !state.DidResume && leaf.across(offeredLeaf)
	if cls, err := w.check(&state, refusedAcross); err != nil {
		w.fail(hsEnd, cls, "check", err)
		return false, false
	}
	if err := leaf.check(&state); err != nil {
		w.fail(hsEnd, ClassParamMismatch, "check", err)
		return false, false
	}
	if err := w.checkOpenSSL(&info, early); err != nil {
		w.fail(hsEnd, ClassParamMismatch, "check", err)
		return false, false
	}

	ok, counted := w.finish(conn, pre, &state, checked{
		serverKey: info.ServerKey, leaf: leaf, refusedAcross: refusedAcross,
		start: start, connected: connected, hsEnd: hsEnd, intended: intended, hsSent: hsSent, hsRecv: hsRecv,
	})
	if !ok {
		return false, false
	}
	if counted {
		if early {
			o.early.offered++
			if info.Early == ossl.EarlyAccepted {
				o.early.accepted++
				o.early.bytes += int64(cfg.TLS.EarlyData)
			} else {
				o.early.rejected++
			}
		}
	}
	// A held connection stays open (and sends nothing more).
	closeNotify = closeNotify && cfg.Hold <= 0
	return true, counted
}

// checkOpenSSL checks what only the openssl client is asked: the server
// key (crypto/tls's check reads it from the certificate), psk_ke, and
// that early data was offered when it should have been.
func (w *worker) checkOpenSSL(info *ossl.Info, early bool) error {
	cfg := &w.eng.cfg
	ex := &w.eng.expect
	switch {
	case ex.serverKey != "" && info.ServerKey != "" && info.ServerKey != ex.serverKey:
		return fmt.Errorf("negotiated server key %s, expected %s (TLS %s, %s)", info.ServerKey, ex.serverKey, tlsparams.VersionString(info.Version), tlsparams.SuiteName(info.Suite))
	case ex.pskKE && info.Resumed && info.KeyShare:
		return fmt.Errorf("the server resumed with a fresh key exchange (psk_dhe_ke, group %s), the case asks for psk_ke: it does not prefer resumption without (EC)DHE", tlsparams.GroupName(info.Group))
	case cfg.TLS.EarlyData > 0 && info.Resumed && !early:
		return fmt.Errorf("a resumption sent no early data: the session offered allowed none")
	}
	return nil
}

// opensslClass names a failure of the openssl client as classify does
// crypto/tls's: the server's alert, the server's certificate not
// verifying, a version or parameter the two could not agree on.
func opensslClass(phase string, oe *ossl.Error) Class {
	if code, ok := oe.RemoteAlert(); ok {
		return alertClass(code)
	}
	if oe.Verify != 0 {
		return ClassServerCertInvalid
	}
	r := strings.ToLower(oe.Reason)
	switch {
	case oe.AlertSent == alertProtocolVersion, strings.Contains(r, "unsupported protocol"),
		strings.Contains(r, "no protocols available"), strings.Contains(r, "wrong version number"):
		return ClassProtocolVersion
	case phase == "handshake":
		return ClassHandshakeFailure
	}
	return ClassOther
}

// openOpenSSL makes the run's SSL_CTX for the openssl client.
func (e *engine) openOpenSSL() error {
	if StackOf(e.cfg.TLS.Client) != StackOpenSSL {
		return nil
	}
	x, err := ossl.NewCtx(osslConfig(&e.cfg))
	if err != nil {
		return &ConfigError{err.Error()}
	}
	e.ossl = x
	if n := e.cfg.TLS.EarlyData; n > 0 {
		// Zero bytes: s_server writes the early data it receives among its
		// own text, where NUL bytes are what its record can count.
		e.earlyData = make([]byte, n)
	}
	return nil
}

// closeOpenSSL frees every worker's openssl state, then the SSL_CTX,
// when the run is over.
func (e *engine) closeOpenSSL(res *Result) {
	if e.ossl == nil {
		return
	}
	e.eachWorker(func(w *worker) {
		if w.ossl != nil && res != nil {
			res.EarlyData.Offered += w.ossl.early.offered
			res.EarlyData.Accepted += w.ossl.early.accepted
			res.EarlyData.Rejected += w.ossl.early.rejected
			res.EarlyData.BytesAccepted += w.ossl.early.bytes
		}
		w.ossl.free()
	})
	e.osslShared.Load().Free()
	e.osslShared.Store(nil)
	e.ossl.Close()
	e.ossl = nil
}
