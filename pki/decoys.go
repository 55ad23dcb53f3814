package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"sync"
	"time"
)

// decoys caches the decoy CAs of this process: every case that asks for a
// trust store of N trusts the same N-1 decoys, whatever else it varies.
var decoys struct {
	mu    sync.Mutex // guards key, certs and notBefore
	key   crypto.Signer
	certs []*x509.Certificate
	// notBefore is shared by every decoy: the first call's hour ago.
	notBefore time.Time
}

// Decoys returns n unrelated CA certificates that sign nothing: the rest
// of a large trust store (a server trusting N CAs trusts the case's root
// and N-1 decoys), whose names the server's CertificateRequest carries.
// Each is a self-signed ECDSA P-256 root named "mtlsbench decoy CA i"
// (a common name only: ~40 bytes, so that MaxTrustStore names leave room
// in a 64 KiB CertificateRequest), valid for 397 days; all share one
// key, so that a thousand take tens of milliseconds. The same decoys are
// returned for the life of the process (the first n of a longer list), so
// cases that compare trust-store sizes trust the same names. n is 0 to
// MaxTrustStore-1; the slice is the caller's, the certificates shared.
func Decoys(n int) ([]*x509.Certificate, error) {
	if n < 0 || n >= MaxTrustStore {
		return nil, fmt.Errorf("pki: decoy CAs: 0 to %d, asked for %d", MaxTrustStore-1, n)
	}
	decoys.mu.Lock()
	defer decoys.mu.Unlock()
	if decoys.key == nil && n > 0 {
		key, err := ECDSAP256.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("pki: decoy CA key: %w", err)
		}
		decoys.key = key
		decoys.notBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	for i := len(decoys.certs) + 1; i <= n; i++ {
		skid := make([]byte, 8)
		binary.BigEndian.PutUint64(skid, uint64(i))
		tmpl := &x509.Certificate{
			SerialNumber:          serial(),
			Subject:               pkix.Name{CommonName: fmt.Sprintf("mtlsbench decoy CA %d", i)},
			NotBefore:             decoys.notBefore,
			NotAfter:              decoys.notBefore.Add(397 * 24 * time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
			// Its own key identifier: the decoys share a key, and a
			// verifier matching issuers by key identifier must not
			// take one for another.
			SubjectKeyId: skid,
		}
		cert, err := sign(tmpl, tmpl, decoys.key.Public(), decoys.key)
		if err != nil {
			return nil, err
		}
		decoys.certs = append(decoys.certs, cert)
	}
	return append([]*x509.Certificate(nil), decoys.certs[:n]...), nil
}
