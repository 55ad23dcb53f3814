//go:build cgo && linux && !noopenssl

package ossl

/*
#cgo LDFLAGS: -lssl -lcrypto
#cgo noescape mb_step
#cgo nocallback mb_step
#cgo noescape mb_drain
#cgo nocallback mb_drain
#include <stdlib.h>
#include <openssl/x509.h>
#include <openssl/obj_mac.h>
#include "core.h"
*/
import "C"

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"strings"
	"sync"
	"unsafe"

	"github.com/mtlsbench/mtlsbench/pki"
)

// Available reports nil: this binary has the OpenSSL client.
func Available() error { return nil }

// Version is the libssl this process runs with, as it names itself
// ("OpenSSL 3.0.19 27 Jan 2026").
func Version() string { return C.GoString(C.mb_version()) }

// AtLeast reports whether the libssl at run time is major.minor or later.
func AtLeast(major, minor int) bool {
	v := uint64(C.mb_version_num())
	return int(v>>28) > major || int(v>>28) == major && int(v>>20&0xff) >= minor
}

var groupProbe struct {
	sync.Mutex
	known map[string]bool
}

// SupportsGroup reports whether the libssl at run time can offer the
// group named (OpenSSL's name).
func SupportsGroup(name string) bool {
	groupProbe.Lock()
	defer groupProbe.Unlock()
	if ok, done := groupProbe.known[name]; done {
		return ok
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var errbuf [256]C.char
	c := C.mb_ctx_new(0, nil, nil, cs, nil, 0, 0, 0, 0, &errbuf[0], C.int(len(errbuf)))
	ok := c != nil
	if ok {
		C.mb_ctx_free(c)
	}
	if groupProbe.known == nil {
		groupProbe.known = map[string]bool{}
	}
	groupProbe.known[name] = ok
	return ok
}

// Ctx is an SSL_CTX and the client identities: one per run, shared by
// every connection (safe for concurrent use).
type Ctx struct {
	c      *C.mb_ctx
	verify bool
}

// NewCtx makes the SSL_CTX for cfg.
func NewCtx(cfg Config) (*Ctx, error) {
	cstr := func(s string) *C.char {
		if s == "" {
			return nil
		}
		return C.CString(s)
	}
	cipher, suite, groups := cstr(cfg.Cipher), cstr(cfg.Suite13), cstr(strings.Join(cfg.Groups, ":"))
	defer C.free(unsafe.Pointer(cipher))
	defer C.free(unsafe.Pointer(suite))
	defer C.free(unsafe.Pointer(groups))
	var errbuf [256]C.char
	c := C.mb_ctx_new(C.int(cfg.Version), cipher, suite, groups, nil, cbool(cfg.Verify), cbool(cfg.SessionIDs),
		cbool(cfg.PSKKE), cbool(cfg.Mutual), &errbuf[0], C.int(len(errbuf)))
	if c == nil {
		return nil, fmt.Errorf("ossl: %s", C.GoString(&errbuf[0]))
	}
	x := &Ctx{c: c, verify: cfg.Verify}
	if len(cfg.ALPN) > 0 {
		var wire []byte // length-prefixed, as on the wire
		for _, p := range cfg.ALPN {
			if len(p) == 0 || len(p) > 255 {
				x.Close()
				return nil, fmt.Errorf("ossl: ALPN protocol %q: 1 to 255 bytes", p)
			}
			wire = append(append(wire, byte(len(p))), p...)
		}
		if C.mb_ctx_set_alpn(c, cbytes(wire), C.int(len(wire))) != 1 {
			x.Close()
			return nil, fmt.Errorf("ossl: setting ALPN %v failed", cfg.ALPN)
		}
	}
	if cfg.Verify {
		if cfg.Roots == nil {
			if C.mb_ctx_default_roots(c) != 1 {
				x.Close()
				return nil, fmt.Errorf("ossl: loading the system's default roots failed")
			}
		}
		for _, r := range cfg.Roots {
			if C.mb_ctx_add_root(c, cbytes(r.Raw), C.int(len(r.Raw))) != 1 {
				x.Close()
				return nil, fmt.Errorf("ossl: adding root %q failed", r.Subject)
			}
		}
	}
	for i, id := range cfg.Identities {
		if len(id.Certificate) == 0 {
			x.Close()
			return nil, fmt.Errorf("ossl: client identity %d has no certificate", i+1)
		}
		key, err := x509.MarshalPKCS8PrivateKey(id.PrivateKey)
		if err != nil {
			x.Close()
			return nil, fmt.Errorf("ossl: client identity %d's key: %w", i+1, err)
		}
		n := C.mb_ctx_add_identity(c, cbytes(id.Certificate[0]), C.int(len(id.Certificate[0])), cbytes(key), C.int(len(key)))
		clear(key)
		if n < 0 {
			x.Close()
			return nil, fmt.Errorf("ossl: OpenSSL refused client identity %d (certificate or key)", i+1)
		}
		for _, der := range id.Certificate[1:] {
			if C.mb_ctx_add_chain(c, n, cbytes(der), C.int(len(der))) != 1 {
				x.Close()
				return nil, fmt.Errorf("ossl: OpenSSL refused client identity %d's chain", i+1)
			}
		}
	}
	return x, nil
}

// Close frees the SSL_CTX. No Conn of it may be used after.
func (x *Ctx) Close() {
	if x.c != nil {
		C.mb_ctx_free(x.c)
		x.c = nil
	}
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func cbytes(b []byte) *C.uchar {
	if len(b) == 0 {
		return nil
	}
	return (*C.uchar)(unsafe.Pointer(&b[0]))
}

// Session is a session to resume (an SSL_SESSION reference).
type Session struct{ s *C.SSL_SESSION }

// Free drops the reference. A nil Session is fine.
func (s *Session) Free() {
	if s != nil && s.s != nil {
		C.mb_session_free(s.s)
		s.s = nil
	}
}

// MaxEarlyData is how many bytes of early data the server allows with
// it: 0 when none.
func (s *Session) MaxEarlyData() int {
	if s == nil || s.s == nil {
		return 0
	}
	return int(C.mb_session_max_early(s.s))
}

// Conn is one worker's OpenSSL connection state, reused connection after
// connection (Start … End). Not safe for concurrent use.
type Conn struct {
	k   *C.mb_conn
	x   *Ctx
	rw  io.ReadWriter
	in  []byte // bytes read from rw, fed into OpenSSL at the next step
	fed int
	out []byte // what OpenSSL wrote, drained at each step
	// werr is the first failure writing to rw.
	werr error
	// name is the last server name as a C string (a run has one: made
	// once, not per connection).
	name  string
	cname *C.char
}

// bufSize is the read and drain buffer: a whole TLS record.
const bufSize = 16*1024 + 512

const (
	opHandshake = C.MB_OP_HANDSHAKE
	opRead      = C.MB_OP_READ
	opWrite     = C.MB_OP_WRITE
	opEarly     = C.MB_OP_EARLY
	opShutdown  = C.MB_OP_SHUTDOWN
)

// NewConn makes a connection state; Free releases it.
func (x *Ctx) NewConn() *Conn {
	return &Conn{k: C.mb_conn_new(x.c), x: x, in: make([]byte, bufSize), out: make([]byte, bufSize)}
}

// Free releases c (and its newest session, if not taken).
func (c *Conn) Free() {
	if c.k != nil {
		C.mb_conn_free(c.k)
		c.k = nil
	}
	C.free(unsafe.Pointer(c.cname))
	c.cname, c.name = nil, ""
}

// Start begins a connection over rw (the socket, already connected),
// for serverName (SNI and verification), offering session (nil: none),
// presenting identity (an index into Config.Identities) if asked.
func (c *Conn) Start(rw io.ReadWriter, serverName string, session *Session, identity int) error {
	c.rw, c.fed, c.werr = rw, 0, nil
	if serverName != c.name || (serverName != "" && c.cname == nil) {
		C.free(unsafe.Pointer(c.cname))
		c.cname, c.name = nil, serverName
		if serverName != "" {
			c.cname = C.CString(serverName)
		}
	}
	var s *C.SSL_SESSION
	if session != nil {
		s = session.s
	}
	c.k.identity = C.int(identity)
	if C.mb_conn_start(c.k, c.cname, s) != 1 {
		err := &Error{Op: "start", AlertReceived: -1, AlertSent: -1, Reason: C.GoString(&c.k.err[0])}
		C.mb_conn_end(c.k)
		return err
	}
	return nil
}

// End frees the SSL of the connection (not the socket: the caller's).
func (c *Conn) End() {
	C.mb_conn_end(c.k)
	c.rw = nil
}

// step runs one operation: feeds what was read, runs op on buf, writes
// out what OpenSSL wrote.
func (c *Conn) step(op C.int, buf []byte) (int, C.int) {
	var in *C.uchar
	if c.fed > 0 {
		in = (*C.uchar)(unsafe.Pointer(&c.in[0]))
	}
	r := C.mb_step(c.k, op, in, C.int(c.fed), cbytes(buf), C.int(len(buf)), (*C.uchar)(unsafe.Pointer(&c.out[0])), C.int(len(c.out)))
	c.fed = 0
	for n := int(c.k.outn); n > 0; {
		if c.werr == nil {
			_, c.werr = c.rw.Write(c.out[:n])
		}
		if n < len(c.out) {
			break
		}
		n = int(C.mb_drain(c.k, (*C.uchar)(unsafe.Pointer(&c.out[0])), C.int(len(c.out))))
	}
	return int(c.k.n), r
}

// fill reads what the server sent next.
func (c *Conn) fill() error {
	n, err := c.rw.Read(c.in)
	c.fed = n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// fail is the failure of the last step of op.
func (c *Conn) fail(op string) error {
	e := &Error{Op: op, AlertReceived: int(c.k.alert_recv), AlertSent: int(c.k.alert_sent), Verify: int(c.k.verify_result), Reason: C.GoString(&c.k.err[0])}
	if e.Verify != 0 {
		e.VerifyText = C.GoString(C.X509_verify_cert_error_string(c.k.verify_result))
	}
	return e
}

// once runs a step that needs no reply from the server (its output is
// drained to the socket within step): anything but done is op's failure.
func (c *Conn) once(opcode C.int, p []byte, op string) (int, error) {
	n, r := c.step(opcode, p)
	if c.werr != nil {
		return 0, c.werr
	}
	if r != C.MB_DONE {
		return n, c.fail(op)
	}
	return n, nil
}

// closed is a close_notify where a handshake still needed bytes.
func (c *Conn) closed(op string) error {
	return &Error{Op: op, AlertReceived: int(c.k.alert_recv), AlertSent: int(c.k.alert_sent), Reason: "the server closed the connection (close_notify)"}
}

// Handshake runs the handshake to the client's Finished.
func (c *Conn) Handshake() error {
	for {
		_, r := c.step(opHandshake, nil)
		if c.werr != nil {
			return c.werr
		}
		switch r {
		case C.MB_DONE:
			return nil
		case C.MB_WANT_READ:
			if err := c.fill(); err != nil {
				return err
			}
		case C.MB_CLOSED:
			return c.closed("handshake")
		default:
			return c.fail("handshake")
		}
	}
}

// WriteEarly sends p as TLS 1.3 early data with the ClientHello (the
// session offered must allow it): it starts the handshake.
func (c *Conn) WriteEarly(p []byte) error {
	_, err := c.once(opEarly, p, "early data")
	return err
}

// CloseNotify sends close_notify (without waiting for the server's), as
// s_client and curl do before closing: OpenSSL servers take a close
// without it for an unclean shutdown and drop the session from their
// cache, which ends resumption by session ID.
func (c *Conn) CloseNotify() error {
	_, err := c.once(opShutdown, nil, "close_notify")
	return err
}

// Await processes the server's first record after a TLS 1.3 handshake:
// normally a session ticket, or application data (copied into p, its
// length returned), or a close_notify (io.EOF). An alert — the server
// refusing the client's certificate after its Finished — is the error.
func (c *Conn) Await(p []byte) (int, error) {
	tickets := c.k.tickets
	for {
		n, r := c.step(opRead, p)
		if c.werr != nil {
			return 0, c.werr
		}
		switch r {
		case C.MB_DONE:
			return n, nil
		case C.MB_CLOSED:
			return 0, io.EOF
		case C.MB_WANT_READ:
		default:
			return 0, c.fail("read")
		}
		if c.k.tickets > tickets {
			return 0, nil
		}
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
}

// Read reads application data.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, r := c.step(opRead, p)
		if c.werr != nil {
			return 0, c.werr
		}
		switch r {
		case C.MB_DONE:
			if n > 0 {
				return n, nil
			}
		case C.MB_CLOSED:
			return 0, io.EOF
		case C.MB_WANT_READ:
			if err := c.fill(); err != nil {
				return 0, err
			}
		default:
			return 0, c.fail("read")
		}
	}
}

// Write writes application data.
func (c *Conn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return c.once(opWrite, p, "write")
}

// Presented is the identity the handshake presented, -1 when the server
// asked for none; CANames how many CA names its CertificateRequest
// carried, -1 when there was none.
func (c *Conn) Presented() int { return int(c.k.presented) }
func (c *Conn) CANames() int   { return int(c.k.ca_names) }

// VerifyNanos is how long the server chain's verification took.
func (c *Conn) VerifyNanos() int64 { return int64(c.k.verify_ns) }

// PeerLeaf appends the server's certificate (DER) to dst; dst unchanged
// when there is none.
func (c *Conn) PeerLeaf(dst []byte) []byte {
	for range 2 {
		free := dst[len(dst):cap(dst)]
		var p *C.uchar
		if len(free) > 0 {
			p = (*C.uchar)(unsafe.Pointer(&free[:1][0]))
		}
		n := int(C.mb_peer_leaf(c.k, p, C.int(len(free))))
		switch {
		case n >= 0:
			return dst[:len(dst)+n]
		default:
			dst = append(dst, make([]byte, -n)...)[:len(dst)]
		}
	}
	return dst
}

// TakeSession returns the newest session of this connection and forgets
// it (the caller frees it): in TLS 1.3 the last ticket's, in TLS 1.2 the
// session as the handshake left it (a new ticket included); nil when
// there is none. Call it before End.
func (c *Conn) TakeSession() *Session {
	s := C.mb_session_take(c.k)
	if s == nil {
		return nil
	}
	return &Session{s: s}
}

// Share returns another reference to s, for a second user.
func (s *Session) Share() *Session {
	if s == nil || s.s == nil {
		return nil
	}
	C.mb_session_ref(s.s)
	return &Session{s: s.s}
}

// Info is what the handshake negotiated.
func (c *Conn) Info() Info {
	var i C.mb_info
	C.mb_conn_info(c.k, &i)
	info := Info{
		Version:   uint16(i.version),
		Suite:     uint16(i.suite),
		Group:     groupOf(int(i.group_nid)),
		Resumed:   i.resumed != 0,
		HRR:       c.k.hrr != 0,
		ServerKey: keyTypeOf(int(i.peer_key_type), int(i.peer_key_bits)),
		Early:     EarlyStatus(i.early_status),
		KeyShare:  i.peer_tmp_key != 0,
	}
	if n := int(i.alpn_len); n > 0 {
		info.ALPN = alpnName(unsafe.Slice((*byte)(unsafe.Pointer(&i.alpn[0])), n))
	}
	if info.Resumed && !info.KeyShare {
		// No key exchange (a TLS 1.2 resumption, psk_ke): OpenSSL still
		// names the group of the client's own key share, which nothing
		// negotiated. crypto/tls says zero here too.
		info.Group = 0
	}
	return info
}

// groupOf maps a negotiated group as SSL_get_negotiated_group reports it
// (a NID, or TLSEXT_nid_unknown | the IANA id for a group without one,
// as the ML-KEM hybrids of OpenSSL 3.5) to its IANA id.
func groupOf(nid int) tls.CurveID {
	const nidUnknown = 0x1000000
	if nid&nidUnknown != 0 {
		return tls.CurveID(nid & 0xffff)
	}
	switch nid {
	case C.NID_X9_62_prime256v1:
		return tls.CurveP256
	case C.NID_secp384r1:
		return tls.CurveP384
	case C.NID_secp521r1:
		return tls.CurveP521
	case C.NID_X25519:
		return tls.X25519
	case C.NID_X448:
		return 30
	}
	return 0
}

// keyTypeOf maps an EVP_PKEY base id and size to pki's key type.
func keyTypeOf(id, bits int) pki.KeyType {
	switch {
	case id == C.EVP_PKEY_RSA || id == C.EVP_PKEY_RSA_PSS:
		switch bits {
		case 2048:
			return pki.RSA2048
		case 3072:
			return pki.RSA3072
		case 4096:
			return pki.RSA4096
		}
	case id == C.EVP_PKEY_EC:
		switch bits {
		case 256:
			return pki.ECDSAP256
		case 384:
			return pki.ECDSAP384
		case 521:
			return pki.ECDSAP521
		}
	case id == C.EVP_PKEY_ED25519:
		return pki.Ed25519
	}
	return ""
}

// alpnName is the protocol's name without allocating for the usual ones.
func alpnName(b []byte) string {
	switch string(b) {
	case "h2":
		return "h2"
	case "http/1.1":
		return "http/1.1"
	}
	return string(b)
}
