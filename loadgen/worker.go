package loadgen

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// worker runs one connection at a time. Everything it touches per
// handshake is its own — tls.Config clone, session slot, signer, wire
// wrapper, HTTP buffers, timer, counters — so the hot path takes no lock
// and allocates nothing beyond what net and crypto/tls allocate.
//
// A worker exists for every connection a run holds at once (10,000 and
// more), so what it keeps between connections is kept small: the
// tls.Config clone, the HTTP client and the timer are made when first
// needed and released while its connection is held (see hold.go), and
// error examples are allocated at the first error.
type worker struct {
	id   int
	eng  *engine
	lane *lane

	tlsConfig *tls.Config // nil until needed (configure), and while held
	wire      wireConn
	session   sessionSlot
	signer    timedSigner
	cert      tls.Certificate // the current identity, its key wrapped by signer
	verified  time.Duration   // time the last server-chain verification took
	dialer    dialer
	sock      sock
	http      *httpClient // with Requests; nil until needed, and while held
	timer     *time.Timer // nil until needed (sleep), and while held
	// ossl is the openssl client's state (nil with the go client).
	ossl *osslWorker
	// scratch takes what confirm reads: nothing, or the first bytes of
	// the server's data (what is left stays buffered in the connection).
	// 16 bytes keep the worker within 896 (a size class), not 1,024:
	// there is a worker per connection held.
	scratch [16]byte
	resumeN uint64 // handshakes planned, for the resume-ratio interleave
	// identity is the next full handshake's client identity (an index
	// into Config.Identities); presented is the identity the current
	// handshake presented and caNames how many CA names the server's
	// CertificateRequest carried, both -1 when the server asked for no
	// certificate (a resumption). int32s, packed: a worker is held per
	// connection and must stay within its size class.
	identity, presented, caNames int32
	// active is 1 while a connection is open (in flight or held).
	active atomic.Int32

	// current is the connection in flight, so the controller can abort it
	// (by moving its deadline).
	current atomic.Pointer[os.File]

	// Live counters over the measured window, read by the controller:
	// errs by class too, for live metrics (an add on the failure path
	// only, uncontended: each worker owns its own).
	ok, failed atomic.Int64
	errs       [numClasses]atomic.Int64
	// started counts connections started inside the window.
	started int64

	// Merged after the run; only this worker writes them.
	resumed, hrr, primed, requests int64
	examples                       *[numClasses]string // the first message of each class; nil until an error
	negotiated                     []negotiatedCount
	hsSent, hsRecv                 int64
	totalSent, totalRecv           int64
}

type negotiatedCount struct {
	version   uint16
	suite     uint16
	group     tls.CurveID
	resumed   bool
	serverKey pki.KeyType
	count     int64
}

func newWorker(e *engine, id int) *worker {
	w := &worker{id: id, eng: e, lane: e.lanes[id%len(e.lanes)]}
	w.session.store = e.cfg.TLS.Resume > 0
	w.session.verify = !e.cfg.InsecureSkipVerify
	w.session.roots = e.cfg.Roots
	w.session.serverName = e.cfg.ServerName
	w.session.shared = &e.sharedSession
	if n := len(e.cfg.Identities); n > 0 {
		w.identity = int32(id % n)
	}
	w.dialer.init(e.target, id)
	w.sock.init()
	return w
}

// configure makes the worker's per-connection state that is not there:
// its tls.Config clone and, with requests, its HTTP client. A worker makes
// them once, and again after each connection it held.
func (w *worker) configure() {
	e := w.eng
	if w.http == nil && e.cfg.Requests > 0 {
		w.http = newHTTPClient(e.host, e.cfg.Path)
		if e.cfg.HTTP2 {
			w.http.h2 = newH2Client(e.host, e.cfg.Path)
		}
	}
	if e.ossl != nil {
		w.configureOpenSSL()
		return
	}
	if w.tlsConfig != nil {
		return
	}
	cfg := e.tls.Clone()
	cfg.ClientSessionCache = &w.session
	cfg.SessionTicketsDisabled = false
	cfg.Certificates = nil
	cfg.GetClientCertificate = w.clientCertificate
	if !e.cfg.TLS.Auth.Mutual() {
		cfg.GetClientCertificate = w.noClientCertificate
	}
	// crypto/tls's own verification is replaced by the same verification
	// run in VerifyConnection, which is called at the same point of the
	// handshake; that is what lets the engine time it. Resumed handshakes
	// are not re-verified, as in crypto/tls.
	cfg.InsecureSkipVerify = true
	if !e.cfg.InsecureSkipVerify {
		cfg.VerifyConnection = w.verifyServer
	}
	w.tlsConfig = cfg
}

// release drops the per-connection state configure and sleep make, while
// the worker's connection is held.
func (w *worker) release() {
	w.tlsConfig, w.http, w.timer = nil, nil, nil
	w.ossl.release()
}

// clientCertificate presents the current identity with its key wrapped for
// timing. It returns a pointer to the worker's own copy: no allocation.
func (w *worker) clientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	w.presented, w.caNames = w.identity, int32(len(cri.AcceptableCAs))
	id := &w.eng.cfg.Identities[w.identity]
	w.signer.inner = id.PrivateKey.(crypto.Signer)
	w.cert = tls.Certificate{Certificate: id.Certificate, PrivateKey: &w.signer, Leaf: id.Leaf}
	// The next full handshake presents the next identity. Workers start
	// at different identities, so all are in use at once.
	w.identity = (w.identity + 1) % int32(len(w.eng.cfg.Identities))
	return &w.cert, nil
}

// noClientCertificate answers a CertificateRequest in a one-way TLS case:
// with no certificate, noting that the server asked, which the check then
// refuses (param_mismatch: the server does not do what the case says).
func (w *worker) noClientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	w.caNames = int32(len(cri.AcceptableCAs))
	return &emptyCertificate, nil
}

// emptyCertificate is no certificate: crypto/tls then sends an empty
// Certificate message. Never written to.
var emptyCertificate tls.Certificate

// errCertRequested is a one-way TLS case's server asking for a client
// certificate.
var errCertRequested = errors.New("the server requested a client certificate (CertificateRequest), but the case is one-way TLS (auth server): it must not ask")

// verifyServer is crypto/tls's server verification, timed.
func (w *worker) verifyServer(cs tls.ConnectionState) error {
	if cs.DidResume {
		return nil
	}
	start := time.Now()
	opts := x509.VerifyOptions{
		Roots:         w.tlsConfig.RootCAs,
		CurrentTime:   start,
		DNSName:       w.tlsConfig.ServerName,
		Intermediates: x509.NewCertPool(),
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := cs.PeerCertificates[0].Verify(opts)
	w.verified = time.Since(start)
	if err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
	}
	// The session this handshake yields carries these certificates; the
	// slot checks them again before offering it, as crypto/tls does.
	w.session.chains = chains
	return nil
}

// planResume decides whether this handshake offers the stored session.
// It returns priming=true when it should but has none to offer: that
// handshake is a full one that only obtains a session, and is not
// measured.
func (w *worker) planResume() (priming bool) {
	w.session.offered, w.session.dropped, w.session.offeredLeaf = false, false, nil
	w.session.offer = w.wantResume()
	if w.ossl != nil {
		// The openssl client keeps its own session (see osslWorker),
		// and adopts the run's first as the go client does (below).
		if w.session.offer {
			w.ossl.adopt(w.eng)
		}
		return w.session.offer && w.ossl.session == nil
	}
	if w.session.offer {
		// A worker with no session of its own (new, or its session was
		// refused) starts from the run's first one instead of making a
		// full handshake to get its own: in an open loop that falls
		// behind, every worker added would otherwise make one, at several
		// times the target's cost of a resumption, and the loop would fall
		// further behind (at a rate just over the target's capacity the
		// achieved rate collapsed to a few percent of it).
		w.session.adopt()
	}
	return w.session.offer && w.session.session == nil
}

// wantResume says whether the next handshake is to resume, by the case's
// ratio.
func (w *worker) wantResume() bool {
	r := w.eng.cfg.TLS.Resume.Ratio()
	n := w.resumeN
	w.resumeN++
	switch {
	case r == 0:
		return false
	case r >= 1:
		return true
	}
	// Interleave: resume when the running total of wanted resumptions
	// steps up, so any run of 1/r handshakes has the right share.
	return math.Floor(float64(n+1)*r) > math.Floor(float64(n)*r)
}

// sleep waits d or until the run stops; it reports whether d elapsed.
func (w *worker) sleep(d time.Duration) bool {
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.timer.C:
		return true
	case <-w.eng.stopCh:
		w.timer.Stop()
		return false
	}
}

// dial opens the TCP connection into w.sock, spreading source addresses
// for a loopback target, within the timeout (see dial.go). It reports
// whether a socket was opened: the connection is current, and closed by
// the caller, as soon as it exists, so a stopping run can abort a slow
// connect.
func (w *worker) dial(start time.Time) (opened bool, err error) {
	pending, err := w.dialer.open(&w.sock)
	if err != nil {
		return false, err
	}
	w.current.Store(w.sock.f)
	if pending {
		_ = w.sock.SetWriteDeadline(start.Add(w.eng.cfg.Timeout))
		if err := w.dialer.wait(&w.sock); err != nil {
			return true, err
		}
	}
	return true, nil
}

// connection runs one connection start to finish: connect, handshake,
// confirmation, checks, requests, then close, or hold. intended is when an
// open loop wanted it to start (zero in a closed loop). It reports how the
// connection ended: outcomeHeld when it is parked in the engine's holder,
// which runs the worker's loop again when the hold ends (see hold.go; the
// caller's goroutine must then return without touching w), and
// outcomeUnopened when the connect failed (a closed loop backs off).
func (w *worker) connection(intended time.Time) (out outcome) {
	e := w.eng
	cfg := &e.cfg
	w.active.Store(1)
	defer func() {
		if out != outcomeHeld {
			w.active.Store(0)
		}
	}()
	w.configure()

	priming := w.planResume()
	start := time.Now()
	if intended.IsZero() {
		intended = start
	}
	if e.inWindow(start) {
		w.started++
	}

	tcp := &w.sock
	opened, err := w.dial(start)
	if opened {
		w.wire.reset(tcp)
		defer func() {
			if out != outcomeHeld {
				w.close()
			}
		}()
	}
	if err != nil {
		now := time.Now()
		cls := classify("connect", err)
		if cls != ClassGeneratorLimit {
			e.unreachable(now.Sub(e.t0))
		}
		w.fail(now, cls, "connect", err)
		return outcomeUnopened
	}
	connected := time.Now()
	e.reachable(connected.Sub(e.t0))
	_ = tcp.SetDeadline(connected.Add(cfg.Timeout))
	ok, counted := w.exchange(priming, intended, start, connected)
	if !ok || cfg.Hold <= 0 {
		return outcomeDone
	}
	// Holding: nothing of the TLS connection is referenced any more (it
	// lived in exchange's frame), so a held connection costs its socket,
	// an entry in the holder and the worker, not a goroutine.
	_ = tcp.SetDeadline(time.Time{})
	if e.holder.park(w, counted) {
		return outcomeHeld
	}
	return outcomeDone
}

// exchange runs the handshake, its confirmation and checks, and the
// requests on the connected socket, and records the outcome. It reports
// whether the connection is to be held (it succeeded and was not a
// priming handshake) and whether it was counted in the window.
func (w *worker) exchange(priming bool, intended, start, connected time.Time) (hold, counted bool) {
	e := w.eng
	cfg := &e.cfg
	if !cfg.TLS.Auth.TLS() {
		return w.exchangePlain(intended, start, connected)
	}
	if w.ossl != nil {
		return w.exchangeOpenSSL(priming, intended, start, connected)
	}
	leaf := cfg.ServerLeaf.load() // the certificate expected as the handshake begins
	conn := tls.Client(&w.wire, w.tlsConfig)
	w.signer.took, w.verified = 0, 0
	w.presented, w.caNames = -1, -1
	err := conn.Handshake()
	if err != nil {
		w.failHandshake(err)
		return false, false
	}
	state := conn.ConnectionState()
	if err := w.authProblem(&state); err != nil {
		// Known as the handshake ends, before any confirmation: a server
		// that asked for no certificate may have sent its session ticket
		// already, and a confirmation would wait for another record.
		w.fail(time.Now(), ClassParamMismatch, "check", err)
		return false, false
	}
	var early []byte // application data the confirmation read took
	if state.Version >= tls.VersionTLS13 && w.mustReadRecord() {
		var n int
		if !cfg.TLS.Auth.Mutual() {
			n, err = w.awaitTicket(conn)
		} else {
			n, err = w.confirm(conn)
		}
		early = w.scratch[:n]
		if err != nil {
			w.failConfirm(err)
			return false, false
		}
	}
	hsEnd := time.Now()
	hsSent, hsRecv := w.wire.written, w.wire.read

	if priming {
		if e.inWindow(hsEnd) {
			w.primed++
		}
		return false, false
	}
	// A session from before a certificate rotation that the server
	// refused is what the rotation did, counted against it, not a
	// resume_miss.
	refusedAcross := w.session.offered && !state.DidResume && leaf.across(w.session.offeredLeaf)
	if cls, err := w.check(&state, refusedAcross); err != nil {
		w.fail(hsEnd, cls, "check", err)
		return false, false
	}
	if err := leaf.check(&state); err != nil {
		w.fail(hsEnd, ClassParamMismatch, "check", err)
		return false, false
	}

	return w.finish(conn, early, &state, checked{
		serverKey: serverKeyOf(&state), leaf: leaf, refusedAcross: refusedAcross,
		start: start, connected: connected, hsEnd: hsEnd, intended: intended, hsSent: hsSent, hsRecv: hsRecv,
	})
}

// checked is what finish records of a handshake that passed its checks,
// besides its state (a parameter of its own: escape analysis follows a
// struct's fields together, and the server key's string leaks into the
// negotiated counts, which would move every state to the heap).
type checked struct {
	serverKey     pki.KeyType
	leaf          *leafGeneration
	refusedAcross bool
	// When the connection was meant to start, started, connected and
	// finished its handshake; the handshake's bytes each way.
	intended, start, connected, hsEnd time.Time
	hsSent, hsRecv                    int64
}

// finish runs the case's requests on conn (pre: the server's first bytes
// the confirmation read took), then records the connection if it ended
// in the window. It reports whether the connection succeeded (to be
// held) and whether it was counted.
func (w *worker) finish(conn io.ReadWriter, pre []byte, state *tls.ConnectionState, c checked) (ok, counted bool) {
	e := w.eng
	cfg := &e.cfg
	var reqStart time.Time
	if cfg.Requests > 0 {
		reqStart = time.Now()
		if cfg.HTTP2 {
			if !w.http2(conn, pre, reqStart) {
				return false, false
			}
		} else if !w.http1(conn) {
			return false, false
		}
	}
	end := time.Now()
	if w.acceptedRevoked(end) {
		return false, false
	}
	if e.inWindow(end) && e.counts() {
		w.requests += int64(cfg.Requests)
		w.record(state, c.serverKey, c.start, c.connected, c.hsEnd, reqStart, end, c.intended)
		c.leaf.note(state, c.refusedAcross)
		w.hsSent += c.hsSent
		w.hsRecv += c.hsRecv
		counted = true
	}
	return true, counted
}

// exchangePlain is exchange without TLS (auth none): the connection is
// the work, then the same HTTP/1.1 requests on the plain socket. There is
// no handshake phase: the connection's latency is connect (+ requests),
// and no byte of it counts as a handshake's.
func (w *worker) exchangePlain(intended, start, connected time.Time) (hold, counted bool) {
	e := w.eng
	cfg := &e.cfg
	var reqStart time.Time
	if cfg.Requests > 0 {
		reqStart = time.Now()
		if !w.http1(&w.wire) {
			return false, false
		}
	}
	end := time.Now()
	if e.inWindow(end) && e.counts() {
		w.requests += int64(cfg.Requests)
		w.record(nil, "", start, connected, connected, reqStart, end, intended)
		counted = true
	}
	return true, counted
}

// http1 sends the case's HTTP/1.1 requests on rw (a TLS connection of
// either stack, or the plain socket), each within the timeout, reading
// each whole response. A failure is counted with its class and ends the
// connection: it reports false.
func (w *worker) http1(rw io.ReadWriter) bool {
	cfg := &w.eng.cfg
	w.http.br.Reset(rw)
	// The reader must not keep the connection alive past this call.
	defer w.http.br.Reset(nil)
	for range cfg.Requests {
		_ = w.sock.SetDeadline(time.Now().Add(cfg.Timeout))
		if err := w.http.do(rw); err != nil {
			cls, err := w.refused(requestClass(err), err)
			w.fail(time.Now(), cls, "request", err)
			return false
		}
	}
	return true
}

// http2 sends the case's requests over HTTP/2 on rw (a TLS connection of
// either stack with ALPN h2), pre being the server's first bytes the
// confirmation read took, within the timeout from reqStart. A failure is
// counted with its class and ends the connection: it reports false.
func (w *worker) http2(rw io.ReadWriter, pre []byte, reqStart time.Time) bool {
	cfg := &w.eng.cfg
	_ = w.sock.SetDeadline(reqStart.Add(cfg.Timeout))
	if err := w.http.h2.do(rw, pre, &w.sock, cfg.Timeout, cfg.Requests, cfg.Streams); err != nil {
		cls, err := w.refused(requestClass(err), err)
		w.fail(time.Now(), cls, "request", err)
		return false
	}
	return true
}

// acceptedRevoked fails the connection, at end, when its server accepted
// an identity the case revoked (it did not check revocation).
func (w *worker) acceptedRevoked(end time.Time) bool {
	if !w.presentedRevoked() {
		return false
	}
	w.fail(end, ClassParamMismatch, "check", fmt.Errorf(
		"the server accepted client identity %d, which the case revoked (its serial is on the server's CRL): it did not check revocation", w.presented+1))
	return true
}

// failHandshake counts a failed handshake with its class: the server's
// refusal (refused), or, when the server asked for a certificate in a
// one-way case, whatever alert it sent, the case's param_mismatch.
func (w *worker) failHandshake(err error) {
	if w.certAsked() && !w.eng.cfg.TLS.Auth.Mutual() {
		w.fail(time.Now(), ClassParamMismatch, "handshake", fmt.Errorf("%w (the handshake then failed: %v)", errCertRequested, err))
		return
	}
	cls, err := w.refused(classify("handshake", err), err)
	w.fail(time.Now(), cls, "handshake", err)
}

// failConfirm counts a TLS 1.3 confirmation that failed: the server's
// answer after the client's Finished.
func (w *worker) failConfirm(err error) {
	if w.certAsked() && !w.eng.cfg.TLS.Auth.Mutual() {
		w.fail(time.Now(), ClassParamMismatch, "confirm", fmt.Errorf("%w (after the client's Finished, the server answered: %v)", errCertRequested, err))
		return
	}
	cls, err := w.refused(classify("confirm", err), fmt.Errorf(
		"after the client's Finished (TLS 1.3), the server answered: %w", err))
	w.fail(time.Now(), cls, "confirm", err)
}

// requestClass is the error class of a failed request.
func requestClass(err error) Class {
	var se *statusError
	var le *h2StreamsError
	switch {
	case errors.As(err, &se):
		return ClassHTTPStatus
	case errors.As(err, &le):
		return ClassParamMismatch
	case errors.Is(err, errMalformed):
		return ClassOther
	}
	return classify("request", err)
}

// mustReadRecord says whether to wait for the server's first record after
// a TLS 1.3 handshake: to confirm acceptance, or to receive the session
// ticket that resumption needs (which requests would otherwise read). In
// one-way TLS there is no client certificate for the server to reject
// after the client's Finished, but the record (its ticket) is waited for
// all the same (awaitTicket): so a one-way handshake's bytes and latency
// hold the same records as a mutual one's, and the cost of mutual TLS is
// the difference of like with like.
func (w *worker) mustReadRecord() bool {
	cfg := &w.eng.cfg
	switch cfg.Confirm {
	case ConfirmRecord:
		return true
	case ConfirmResponse:
		return false
	}
	return cfg.TLS.Resume > 0 && cfg.Requests == 0
}

// awaitTicket receives the first record after a one-way TLS 1.3
// handshake, its session ticket. A server that asks for no certificate may
// send its ticket with its Finished (crypto/tls does), so the handshake's
// own reads may already hold it: a first Read stops at the record boundary the bytes
// read so far end on (records are not zeroed), processing what is
// buffered; only when that stored no session does it wait for the next
// record, as confirm does. Like confirm, it returns how many bytes of
// the server's application data it read into scratch.
func (w *worker) awaitTicket(conn *tls.Conn) (int, error) {
	puts := w.session.puts
	w.wire.confirming = true
	n, err := conn.Read(w.scratch[:])
	w.wire.confirming = false
	switch {
	case w.session.puts != puts, errors.Is(err, io.EOF) && w.wire.records > 0:
		return n, nil
	case err != nil && !errors.Is(err, errConfirmed):
		return n, err
	case n > 0:
		// The server's application data (HTTP/2's SETTINGS) came first:
		// handed on to the requests, as confirm does.
		return n, nil
	}
	return w.confirm(conn)
}

// confirm reads until the server's first post-handshake record has been
// processed by crypto/tls (see wireConn). It returns how many bytes of
// application data that read took into w.scratch: none from a server that
// waits for a request, an HTTP/2 server's first frames from one that
// does not.
func (w *worker) confirm(conn *tls.Conn) (int, error) {
	w.wire.startConfirm()
	n, err := conn.Read(w.scratch[:])
	w.wire.confirming = false
	switch {
	case err == nil, errors.Is(err, errConfirmed):
		return n, nil
	case errors.Is(err, io.EOF) && w.wire.records > 0:
		// A close_notify after the handshake: the server accepted and
		// closed; a server rejecting the certificate sends an alert.
		return n, nil
	}
	return n, err
}

// authProblem says how a completed handshake did not authenticate as the
// case asks: a server that requested a client certificate in one-way TLS,
// or none in a full handshake of mutual TLS (resumptions carry no
// CertificateRequest).
func (w *worker) authProblem(s *tls.ConnectionState) error {
	mutual := w.eng.cfg.TLS.Auth.Mutual()
	switch {
	case w.certAsked() && !mutual:
		return errCertRequested
	case !w.certAsked() && mutual && !s.DidResume:
		return fmt.Errorf("the server did not request a client certificate in a full handshake (TLS %s), but the case is mutual TLS: it accepted the client unauthenticated", tlsparams.VersionString(s.Version))
	}
	return nil
}

// certAsked reports whether the server asked for a client certificate (a
// CertificateRequest) in the handshake in flight: either callback then
// recorded how many CA names it carried.
func (w *worker) certAsked() bool { return w.caNames >= 0 }

// presentedRevoked reports whether this handshake presented an identity
// the case revoked.
func (w *worker) presentedRevoked() bool {
	r := w.eng.cfg.Revoked
	return w.presented >= 0 && int(w.presented) < len(r) && r[w.presented]
}

// refused is the class of a failure cls of this connection, and err
// saying why: a refusal of an identity the case revoked is
// certificate_revoked whatever the server could say (a Go server's
// verification callback can only send bad_certificate; nginx answers HTTP
// 400 after the handshake).
func (w *worker) refused(cls Class, err error) (Class, error) {
	if (cls == ClassBadCertificate || cls == ClassHTTPStatus) && w.presentedRevoked() {
		return ClassCertificateRevoked, fmt.Errorf("%w (client identity %d, which the case revoked)", err, w.presented+1)
	}
	return cls, err
}

// check compares what was negotiated with what the case expects;
// refusedAcross excuses a full handshake where a session issued before a
// certificate rotation was offered (see ServerLeaf).
func (w *worker) check(s *tls.ConnectionState, refusedAcross bool) (Class, error) {
	if n := w.eng.cfg.CANames; n > 0 && w.caNames >= 0 && int(w.caNames) != n {
		return ClassParamMismatch, fmt.Errorf("the server's CertificateRequest named %d CAs, expected %d (the case's trust store)", w.caNames, n)
	}
	ex := &w.eng.expect
	if w.session.dropped {
		return ClassResumeMiss, fmt.Errorf("the stored session was not offered: the server certificate it carries no longer verifies (expired, or no longer names %q)", w.eng.cfg.ServerName)
	}
	if w.session.offered != s.DidResume && !refusedAcross {
		if w.session.offered {
			return ClassResumeMiss, fmt.Errorf("offered a session but the server did a full handshake (TLS %s)", tlsparams.VersionString(s.Version))
		}
		return ClassResumeMiss, fmt.Errorf("resumed without offering a session")
	}
	var problem string
	switch {
	case ex.version != 0 && s.Version != ex.version:
		problem = "version " + tlsparams.VersionString(s.Version) + ", expected " + tlsparams.VersionString(ex.version)
	case ex.suite != 0 && s.CipherSuite != ex.suite:
		problem = "cipher suite " + tlsparams.SuiteName(s.CipherSuite) + ", expected " + tlsparams.SuiteName(ex.suite)
	case ex.group != 0 && !(s.DidResume && (s.Version < tls.VersionTLS13 || ex.pskKE)) && s.CurveID != ex.group:
		problem = "group " + tlsparams.GroupName(s.CurveID) + ", expected " + tlsparams.GroupName(ex.group)
	case ex.hrr == hrrNever && s.HelloRetryRequest:
		problem = "a HelloRetryRequest, expected none"
	case ex.hrr == hrrAlways && !s.HelloRetryRequest:
		problem = "no HelloRetryRequest, expected one (the server picked the client's first key share)"
	case ex.alpn != "" && s.NegotiatedProtocol != ex.alpn:
		problem = fmt.Sprintf("application protocol %q (ALPN), expected %q", s.NegotiatedProtocol, ex.alpn)
	case ex.serverKey != "" && len(s.PeerCertificates) > 0:
		if kt, _ := pki.KeyTypeOf(s.PeerCertificates[0].PublicKey); kt != ex.serverKey {
			problem = "server key " + pki.DescribePublicKey(s.PeerCertificates[0].PublicKey) + ", expected " + string(ex.serverKey)
		}
	}
	if problem != "" {
		return ClassParamMismatch, fmt.Errorf("negotiated %s (TLS %s, %s, group %q)", problem,
			tlsparams.VersionString(s.Version), tlsparams.SuiteName(s.CipherSuite), tlsparams.GroupName(s.CurveID))
	}
	return 0, nil
}

// record adds a successful connection's figures; s is nil for a plain
// (auth none) connection, which has no handshake.
func (w *worker) record(s *tls.ConnectionState, serverKey pki.KeyType, start, connected, hsEnd, reqStart, end, intended time.Time) {
	l := w.lane
	e := w.eng
	w.ok.Add(1)
	resumed := s != nil && s.DidResume
	if resumed {
		w.resumed++
	}
	if s != nil && s.HelloRetryRequest {
		w.hrr++
	}
	l.phase[phaseConnect].record(us(connected.Sub(start)))
	total := us(end.Sub(intended))
	// The headline (the interval series' latency) is the handshake's;
	// without TLS, the whole connection's.
	headline := total
	if s != nil {
		w.noteNegotiated(s, serverKey)
		headline = us(hsEnd.Sub(connected))
		l.phase[phaseHandshake].record(headline)
		if !w.wire.firstRead.IsZero() {
			l.phase[phaseFirstByte].record(us(w.wire.firstRead.Sub(connected)))
		}
	}
	if w.verified > 0 {
		l.phase[phaseVerify].record(us(w.verified))
	}
	if w.signer.took > 0 {
		l.phase[phaseSign].record(us(w.signer.took))
	}
	if !reqStart.IsZero() {
		l.phase[phaseRequests].record(us(end.Sub(reqStart)))
	}
	l.phase[phaseTotal].record(total)
	if e.open {
		l.phase[phaseTotalUncorrected].record(us(end.Sub(start)))
		l.phase[phaseScheduleLag].record(us(start.Sub(intended)))
		headline = total
	}
	k := e.intervalIndex(end)
	slot := &l.intervals[k%intervalSlots]
	slot.latency.record(headline)
	slot.ok.Add(1)
	if resumed {
		slot.resumed.Add(1)
	}
	if e.segments > 1 {
		seg, _ := e.cfg.Schedule.Segment(intended.Sub(e.schedStart))
		l.segments[seg].record(total)
	}
}

// serverKeyOf is the key type of the server certificate crypto/tls got.
func serverKeyOf(s *tls.ConnectionState) pki.KeyType {
	var kt pki.KeyType
	if len(s.PeerCertificates) > 0 {
		kt, _ = pki.KeyTypeOf(s.PeerCertificates[0].PublicKey)
	}
	return kt
}

func (w *worker) noteNegotiated(s *tls.ConnectionState, kt pki.KeyType) {
	for i := range w.negotiated {
		n := &w.negotiated[i]
		if n.version == s.Version && n.suite == s.CipherSuite && n.group == s.CurveID && n.resumed == s.DidResume && n.serverKey == kt {
			n.count++
			return
		}
	}
	w.negotiated = append(w.negotiated, negotiatedCount{s.Version, s.CipherSuite, s.CurveID, s.DidResume, kt, 1})
}

// fail counts a failure that happened at t (if t is in the window) and
// keeps the first message of its class.
func (w *worker) fail(t time.Time, cls Class, phase string, err error) {
	e := w.eng
	if !e.inWindow(t) || !e.counts() {
		return
	}
	w.failed.Add(1)
	w.errs[cls].Add(1)
	if w.examples == nil {
		w.examples = new([numClasses]string)
	}
	if w.examples[cls] == "" {
		msg := (&Error{Class: cls, Phase: phase, Err: err}).Error()
		if cls == ClassGeneratorLimit {
			msg += limitAdvice(err)
		}
		w.examples[cls] = msg
	}
	slot := &w.lane.intervals[e.intervalIndex(t)%intervalSlots]
	slot.errors.Add(1)
}

func (w *worker) close() {
	tcp := &w.sock
	w.current.Store(nil)
	if w.eng.cfg.Linger0 {
		_ = setLinger0(tcp.fd)
	}
	w.totalSent += w.wire.written
	w.totalRecv += w.wire.read
	_ = tcp.Close()
}

// outcome is how a connection ended, for the worker's loop.
type outcome int

const (
	outcomeDone     outcome = iota // closed: the loop goes on
	outcomeHeld                    // parked in the holder: the loop's goroutine ends
	outcomeUnopened                // the connect failed: a closed loop backs off
)

func us(d time.Duration) int64 { return int64(d / time.Microsecond) }
