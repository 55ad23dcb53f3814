//go:build cgo && linux && !noopenssl

package osslsign

/*
#cgo LDFLAGS: -lcrypto
#include <stdlib.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

enum { OS_PKCS1 = 1, OS_PSS = 2, OS_ECDSA = 3, OS_ED25519 = 4 };

// os_status is a call's outcome: len is the signature's length, err the
// first error OpenSSL queued (or ~0 when it queued none). The error queue
// is per thread, and a goroutine moves between threads, so every call
// leaves its thread's queue empty, failed or not: an entry left behind
// would be read by the next OpenSSL caller on that thread (SSL_get_error
// in the openssl client stack, for one).
typedef struct {
	size_t len;
	unsigned long err;
} os_status;

static unsigned long os_fail(void) {
	unsigned long e = ERR_peek_error();
	ERR_clear_error();
	return e ? e : ~0UL;
}

// os_load makes an EVP_PKEY from PKCS #8 DER, which C does not keep.
static EVP_PKEY *os_load(const unsigned char *der, long len, unsigned long *err) {
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len);
	EVP_PKEY *k = NULL;
	if (p8 != NULL) {
		k = EVP_PKCS82PKEY(p8);
		PKCS8_PRIV_KEY_INFO_free(p8);
	}
	*err = k == NULL ? os_fail() : 0;
	ERR_clear_error();
	return k;
}

// os_sign signs tbs (a digest; for Ed25519 the message) into sig, which
// has room for cap bytes, on a context of its own: the EVP_PKEY is only
// read, so calls may run at once on many threads. md is NULL for none.
static os_status os_sign(EVP_PKEY *k, int kind, const EVP_MD *md, int salt,
                         const unsigned char *tbs, size_t tbslen,
                         unsigned char *sig, size_t cap) {
	os_status st = {cap, 0};
	if (kind == OS_ED25519) {
		EVP_MD_CTX *mctx = EVP_MD_CTX_new();
		if (mctx == NULL || EVP_DigestSignInit_ex(mctx, NULL, NULL, NULL, NULL, k, NULL) != 1 ||
		    EVP_DigestSign(mctx, sig, &st.len, tbs, tbslen) != 1) {
			st.err = os_fail();
		}
		EVP_MD_CTX_free(mctx);
		ERR_clear_error();
		return st;
	}
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	int ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1;
	if (ok && kind == OS_PKCS1) {
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
	}
	if (ok && kind == OS_PSS) {
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt) == 1;
	}
	if (ok && md != NULL) {
		ok = EVP_PKEY_CTX_set_signature_md(ctx, md) == 1;
	}
	if (ok) {
		ok = EVP_PKEY_sign(ctx, sig, &st.len, tbs, tbslen) == 1;
	}
	if (!ok) {
		st.err = os_fail();
	}
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return st;
}

static const char *os_version(void) { return OpenSSL_version(OPENSSL_VERSION); }
*/
import "C"

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

// Available is true: New makes OpenSSL signers in this build.
const Available = true

// Signer is a private key whose signatures OpenSSL's libcrypto makes. It
// is a crypto.Signer, safe for concurrent use by many goroutines.
type Signer struct {
	public crypto.PublicKey
	kind   C.int
	size   int // the largest signature, EVP_PKEY_get_size

	mu      sync.RWMutex // guards pkey against Close while Sign runs
	pkey    *C.EVP_PKEY  // nil after Close
	cleanup runtime.Cleanup
}

// New makes an OpenSSL signer of key, an *rsa.PrivateKey (PKCS #1 v1.5
// and PSS), an *ecdsa.PrivateKey (ASN.1 signatures) or an
// ed25519.PrivateKey (pure Ed25519). The key is converted once; the
// result owns an OpenSSL copy of it until Close, or until it is garbage.
func New(key crypto.Signer) (*Signer, error) {
	var kind C.int
	switch key.(type) {
	case *rsa.PrivateKey:
		kind = C.OS_PKCS1 // or PSS, as each Sign's options say
	case *ecdsa.PrivateKey:
		kind = C.OS_ECDSA
	case ed25519.PrivateKey:
		kind = C.OS_ED25519
	default:
		return nil, fmt.Errorf("%w %T: OpenSSL signs RSA, ECDSA and Ed25519 keys", ErrUnsupportedKey, key)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("osslsign: encoding the %T for OpenSSL: %w", key, err)
	}
	defer clear(der)
	var code C.ulong
	pkey := C.os_load((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)), &code)
	if pkey == nil {
		return nil, fmt.Errorf("osslsign: OpenSSL refused the %T: %s", key, reason(code))
	}
	s := &Signer{public: key.Public(), kind: kind, size: int(C.EVP_PKEY_get_size(pkey)), pkey: pkey}
	s.cleanup = runtime.AddCleanup(s, func(k *C.EVP_PKEY) { C.EVP_PKEY_free(k) }, pkey)
	return s, nil
}

// Public is the key's public half.
func (s *Signer) Public() crypto.PublicKey { return s.public }

// Sign signs digest as crypto/tls asks: RSA with PKCS #1 v1.5, or PSS when
// opts is an *rsa.PSSOptions (its salt length honoured:
// rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto for the largest, or
// a length); ECDSA as ASN.1; Ed25519 over the message itself (opts'
// hash zero; Ed25519ph and contexts are refused). rand is unused:
// OpenSSL draws from its own generator.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	hash := opts.HashFunc()
	kind, salt := s.kind, C.int(0)
	switch kind {
	case C.OS_PKCS1:
		if hash == 0 {
			return nil, fmt.Errorf("osslsign: RSA signing needs a hash (raw PKCS #1 v1.5 is not offered)")
		}
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			kind = C.OS_PSS
			switch pss.SaltLength {
			case rsa.PSSSaltLengthEqualsHash:
				salt = C.RSA_PSS_SALTLEN_DIGEST
			case rsa.PSSSaltLengthAuto:
				salt = C.RSA_PSS_SALTLEN_MAX
			default:
				if pss.SaltLength < 0 {
					return nil, fmt.Errorf("osslsign: PSS salt length %d: want rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto or a length", pss.SaltLength)
				}
				salt = C.int(pss.SaltLength)
			}
		}
	case C.OS_ED25519:
		if hash != 0 {
			return nil, fmt.Errorf("osslsign: Ed25519 signs the message itself: hash %v (Ed25519ph) is not offered", hash)
		}
		if o, ok := opts.(*ed25519.Options); ok && o.Context != "" {
			return nil, fmt.Errorf("osslsign: Ed25519 with a context is not offered")
		}
	}
	var md *C.EVP_MD
	if kind != C.OS_ED25519 && hash != 0 {
		if md = evpMD(hash); md == nil {
			return nil, fmt.Errorf("osslsign: hash %v: OpenSSL signing is offered with SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512", hash)
		}
		if len(digest) != hash.Size() {
			return nil, fmt.Errorf("osslsign: a %v digest is %d bytes, got %d", hash, hash.Size(), len(digest))
		}
	}
	sig := make([]byte, s.size)
	var tbs *C.uchar
	if len(digest) > 0 {
		tbs = (*C.uchar)(unsafe.Pointer(&digest[0]))
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.pkey == nil {
		return nil, ErrClosed
	}
	st := C.os_sign(s.pkey, kind, md, salt, tbs, C.size_t(len(digest)), (*C.uchar)(unsafe.Pointer(&sig[0])), C.size_t(len(sig)))
	if st.err != 0 {
		return nil, fmt.Errorf("osslsign: sign: %s", reason(st.err))
	}
	return sig[:st.len], nil
}

// Close frees OpenSSL's copy of the key; Sign then returns ErrClosed.
// It waits for Signs under way.
func (s *Signer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pkey != nil {
		s.cleanup.Stop()
		C.EVP_PKEY_free(s.pkey)
		s.pkey = nil
	}
	return nil
}

// evpMD is OpenSSL's digest for hash, or nil.
func evpMD(hash crypto.Hash) *C.EVP_MD {
	switch hash {
	case crypto.SHA1:
		return C.EVP_sha1()
	case crypto.SHA224:
		return C.EVP_sha224()
	case crypto.SHA256:
		return C.EVP_sha256()
	case crypto.SHA384:
		return C.EVP_sha384()
	case crypto.SHA512:
		return C.EVP_sha512()
	}
	return nil
}

// reason is OpenSSL's text for an error code.
func reason(code C.ulong) string {
	if code == ^C.ulong(0) {
		return "no reason given"
	}
	var buf [256]C.char
	C.ERR_error_string_n(code, &buf[0], C.size_t(len(buf)))
	return C.GoString(&buf[0])
}

// Library is the libcrypto this process runs with, as OpenSSL names it
// ("OpenSSL 3.0.19 27 Jan 2026").
func Library() string { return C.GoString(C.os_version()) }

var _ crypto.Signer = (*Signer)(nil)

// queuedError is the first error in this thread's OpenSSL error queue, or
// 0: the tests' check that no call leaves one behind.
func queuedError() uint64 { return uint64(C.ERR_peek_error()) }
