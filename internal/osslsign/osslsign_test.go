//go:build cgo && linux && !noopenssl

package osslsign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/osslsign/cmalloc"
	"github.com/mtlsbench/mtlsbench/pki"
)

// keys are generated once for the package's tests: RSA keys take a while.
var keys = sync.OnceValue(func() map[pki.KeyType]crypto.Signer {
	m := map[pki.KeyType]crypto.Signer{}
	for _, kt := range []pki.KeyType{pki.RSA2048, pki.RSA3072, pki.ECDSAP256, pki.ECDSAP384, pki.Ed25519} {
		k, err := kt.GenerateKey()
		if err != nil {
			panic(err)
		}
		m[kt] = k
	}
	return m
})

func newSigner(t testing.TB, key crypto.Signer) *Signer {
	t.Helper()
	s, err := New(key)
	if err != nil {
		t.Fatalf("New(%T): %v", key, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func digest(h crypto.Hash, msg string) []byte {
	d := h.New()
	d.Write([]byte(msg))
	return d.Sum(nil)
}

// verify checks sig over msg with Go's own verifiers, as the TLS peer
// would: a signature OpenSSL made must pass them, and fail for another
// message.
func verify(pub crypto.PublicKey, msg string, h crypto.Hash, opts crypto.SignerOpts, sig []byte) error {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			// The verifier is told the salt length the signer was asked
			// for (Auto on the signing side means the largest).
			vo := *pss
			return rsa.VerifyPSS(pub, h, digest(h, msg), sig, &vo)
		}
		return rsa.VerifyPKCS1v15(pub, h, digest(h, msg), sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest(h, msg), sig) {
			return errors.New("ecdsa.VerifyASN1 failed")
		}
	case ed25519.PublicKey:
		if !ed25519.Verify(pub, []byte(msg), sig) {
			return errors.New("ed25519.Verify failed")
		}
	default:
		return fmt.Errorf("no verifier for %T", pub)
	}
	return nil
}

type signCase struct {
	name string
	hash crypto.Hash
	opts crypto.SignerOpts
}

func casesFor(kt pki.KeyType) []signCase {
	switch {
	case strings.HasPrefix(string(kt), "rsa"):
		var cs []signCase
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			cs = append(cs, signCase{"pkcs1-" + h.String(), h, h})
		}
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			// crypto/tls asks for a salt as long as the hash.
			cs = append(cs, signCase{"pss-equalshash-" + h.String(), h, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}})
		}
		cs = append(cs,
			signCase{"pss-auto-SHA-256", crypto.SHA256, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256}},
			signCase{"pss-salt20-SHA-256", crypto.SHA256, &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA256}})
		return cs
	case kt == pki.Ed25519:
		return []signCase{{"pure", 0, crypto.Hash(0)}}
	default:
		return []signCase{{"SHA-256", crypto.SHA256, crypto.SHA256}, {"SHA-384", crypto.SHA384, crypto.SHA384}, {"SHA-512", crypto.SHA512, crypto.SHA512}}
	}
}

func TestSignaturesVerify(t *testing.T) {
	for kt, key := range keys() {
		s := newSigner(t, key)
		for _, c := range casesFor(kt) {
			t.Run(string(kt)+"/"+c.name, func(t *testing.T) {
				const msg = "the transcript hash"
				tbs := []byte(msg)
				if c.hash != 0 {
					tbs = digest(c.hash, msg)
				}
				sig, err := s.Sign(rand.Reader, tbs, c.opts)
				if err != nil {
					t.Fatal(err)
				}
				if err := verify(s.Public(), msg, c.hash, c.opts, sig); err != nil {
					t.Fatalf("Go does not verify OpenSSL's signature: %v", err)
				}
				if err := verify(s.Public(), msg+"!", c.hash, c.opts, sig); err == nil {
					t.Fatal("the signature verifies for another message too")
				}
				if pss, ok := c.opts.(*rsa.PSSOptions); ok && pss.SaltLength == rsa.PSSSaltLengthEqualsHash {
					// The salt is exactly the hash's length: a verifier
					// told so accepts it, one told 0 does not.
					if err := rsa.VerifyPSS(s.Public().(*rsa.PublicKey), c.hash, tbs, sig, &rsa.PSSOptions{SaltLength: 0, Hash: c.hash}); err != nil {
						t.Fatalf("PSS salt: %v", err)
					}
				}
			})
		}
	}
}

func TestPSSSaltLengthIsTheHashs(t *testing.T) {
	s := newSigner(t, keys()[pki.RSA2048])
	d := digest(crypto.SHA256, "x")
	sig, err := s.Sign(nil, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Public().(*rsa.PublicKey)
	if err := rsa.VerifyPSS(pub, crypto.SHA256, d, sig, &rsa.PSSOptions{SaltLength: 32}); err != nil {
		t.Errorf("salt of 32 bytes: %v", err)
	}
	if err := rsa.VerifyPSS(pub, crypto.SHA256, d, sig, &rsa.PSSOptions{SaltLength: 20}); err == nil {
		t.Error("a verifier expecting 20 bytes of salt accepted it: the salt is not the hash's length")
	}
}

func TestRefusals(t *testing.T) {
	rsaS := newSigner(t, keys()[pki.RSA2048])
	edS := newSigner(t, keys()[pki.Ed25519])
	for _, tc := range []struct {
		name string
		s    *Signer
		tbs  []byte
		opts crypto.SignerOpts
		want string
	}{
		{"short digest", rsaS, make([]byte, 20), crypto.SHA256, "digest is 32 bytes, got 20"},
		{"raw rsa", rsaS, make([]byte, 32), crypto.Hash(0), "needs a hash"},
		{"md5", rsaS, make([]byte, 16), crypto.MD5, "hash MD5"},
		{"bad salt", rsaS, make([]byte, 32), &rsa.PSSOptions{SaltLength: -7, Hash: crypto.SHA256}, "salt length -7"},
		{"ed25519ph", edS, make([]byte, 64), crypto.SHA512, "Ed25519ph"},
		{"ed25519ctx", edS, []byte("m"), &ed25519.Options{Context: "c"}, "context"},
	} {
		if _, err := tc.s.Sign(nil, tc.tbs, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(opaque{keys()[pki.ECDSAP256]}); !errors.Is(err, ErrUnsupportedKey) || !strings.Contains(err.Error(), "osslsign.opaque") {
		t.Errorf("New(an opaque signer) = %v, want ErrUnsupportedKey naming its type", err)
	}
}

// TestErrorQueueLeftEmpty: a signature OpenSSL refuses (a PSS salt longer
// than the key allows) is an error naming OpenSSL's reason, and leaves
// the thread's OpenSSL error queue empty, as a success does: the next
// OpenSSL caller on the thread (the openssl client's SSL_get_error) must
// not find it.
func TestErrorQueueLeftEmpty(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := newSigner(t, keys()[pki.RSA2048])
	d := digest(crypto.SHA256, "x")
	_, err := s.Sign(nil, d, &rsa.PSSOptions{SaltLength: 1000, Hash: crypto.SHA256})
	if err == nil || !strings.Contains(err.Error(), "osslsign: sign: error:") {
		t.Fatalf("a salt of 1000 bytes with RSA-2048: %v, want OpenSSL's refusal", err)
	}
	if e := queuedError(); e != 0 {
		t.Errorf("a failed Sign left error %#x queued", e)
	}
	if _, err := s.Sign(nil, d, crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if e := queuedError(); e != 0 {
		t.Errorf("a Sign left error %#x queued", e)
	}
}

// opaque is a crypto.Signer whose key New cannot see.
type opaque struct{ crypto.Signer }

func TestClose(t *testing.T) {
	s, err := New(keys()[pki.ECDSAP256])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(nil, digest(crypto.SHA256, "x"), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close() // a second Close is harmless
	if _, err := s.Sign(nil, digest(crypto.SHA256, "x"), crypto.SHA256); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sign after Close = %v, want ErrClosed", err)
	}
}

// TestConcurrentSigns: one Signer, many goroutines at once; every
// signature verifies. Under -race this also checks the Go side's locking.
func TestConcurrentSigns(t *testing.T) {
	for _, kt := range []pki.KeyType{pki.RSA2048, pki.ECDSAP256} {
		s := newSigner(t, keys()[kt])
		var wg sync.WaitGroup
		var bad atomic.Int64
		for g := range 8 {
			wg.Go(func() {
				for i := range 10 {
					msg := fmt.Sprintf("%d/%d", g, i)
					opts := crypto.SignerOpts(crypto.SHA256)
					if i%2 == 1 && kt == pki.RSA2048 {
						opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
					}
					sig, err := s.Sign(nil, digest(crypto.SHA256, msg), opts)
					if err != nil || verify(s.Public(), msg, crypto.SHA256, opts, sig) != nil {
						bad.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if n := bad.Load(); n > 0 {
			t.Errorf("%s: %d of 80 concurrent signatures failed or did not verify", kt, n)
		}
	}
}

// TestHandshakes: a crypto/tls client whose certificate's key signs
// through OpenSSL completes a handshake with a crypto/tls server that
// requires and verifies client certificates, in TLS 1.2 and 1.3, and the
// signature was OpenSSL's.
func TestHandshakes(t *testing.T) {
	for _, kt := range []pki.KeyType{pki.RSA2048, pki.ECDSAP256, pki.Ed25519} {
		b, err := pki.Generate(pki.Options{ServerKeyType: pki.ECDSAP256, ClientKeyType: kt})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			t.Run(fmt.Sprintf("%s/%s", kt, tls.VersionName(v)), func(t *testing.T) {
				cert := b.Clients[0].TLSCertificate()
				counted := &countingSigner{inner: newSigner(t, b.Clients[0].Key)}
				cert.PrivateKey = counted
				srvCfg := &tls.Config{Certificates: []tls.Certificate{b.Server.TLSCertificate()}, ClientAuth: tls.RequireAndVerifyClientCert,
					ClientCAs: b.RootPool(), MinVersion: v, MaxVersion: v}
				cliCfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: b.RootPool(), ServerName: "localhost", MinVersion: v, MaxVersion: v}
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				srvErr := make(chan error, 1)
				var peer *x509.Certificate
				go func() {
					c, err := ln.Accept()
					if err != nil {
						srvErr <- err
						return
					}
					defer c.Close()
					c.SetDeadline(time.Now().Add(10 * time.Second))
					sc := tls.Server(c, srvCfg)
					err = sc.Handshake()
					if err == nil {
						peer = sc.ConnectionState().PeerCertificates[0]
						_, err = sc.Write([]byte("ok"))
					}
					srvErr <- err
				}()
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), cliCfg)
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 2)
				if _, err := c.Read(buf); err != nil { // TLS 1.3: the server's verdict arrives after the handshake
					t.Fatalf("reading the server's reply: %v", err)
				}
				if err := <-srvErr; err != nil {
					t.Fatalf("server: %v", err)
				}
				if c.ConnectionState().Version != v || !bytes.Equal(peer.Raw, cert.Certificate[0]) {
					t.Fatalf("negotiated %s, server saw %v", tls.VersionName(c.ConnectionState().Version), peer.Subject)
				}
				if counted.n.Load() != 1 {
					t.Fatalf("the OpenSSL signer signed %d times, want 1", counted.n.Load())
				}
			})
		}
	}
}

type countingSigner struct {
	inner crypto.Signer
	n     atomic.Int64
}

func (c *countingSigner) Public() crypto.PublicKey { return c.inner.Public() }
func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n.Add(1)
	return c.inner.Sign(r, d, o)
}

// TestNoLeak: many signers made, used and closed (or dropped, for the
// cleanup to free), and many signatures, leave C's heap where a first
// round of the same left it. A leak of one EVP_PKEY or one EVP_PKEY_CTX
// per call would add a megabyte or more; what moves without a leak is
// OpenSSL's state per thread (its random generator, its error queue) as
// cgo calls meet threads they had not met, tens of kilobytes.
func TestNoLeak(t *testing.T) {
	if cmalloc.InUse() < 0 {
		t.Skip("the C library cannot count its allocations (glibc 2.33 or later can)")
	}
	runtime.LockOSThread() // fewer threads meet OpenSSL: less noise
	defer runtime.UnlockOSThread()
	key := keys()[pki.ECDSAP256]
	d := digest(crypto.SHA256, "x")
	round := func() {
		for i := range 1000 {
			s, err := New(key)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := s.Sign(nil, d, crypto.SHA256); err != nil {
					t.Fatal(err)
				}
			}
			if i%2 == 0 {
				s.Close()
			}
		}
		// The dropped half is freed by cleanups, which run on their own
		// goroutine after a collection.
		for range 3 {
			runtime.GC()
			time.Sleep(20 * time.Millisecond)
		}
	}
	round()
	before := cmalloc.InUse()
	round()
	round()
	if grew := cmalloc.InUse() - before; grew > 256<<10 {
		t.Errorf("C's heap grew by %d bytes over 2,000 signers and 6,000 signatures: OpenSSL memory is leaking", grew)
	}
}

func TestLibrary(t *testing.T) {
	if l := Library(); !strings.HasPrefix(l, "OpenSSL ") {
		t.Errorf("Library() = %q, want OpenSSL's version", l)
	}
}
