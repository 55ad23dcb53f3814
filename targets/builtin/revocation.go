package builtin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// revocation is the built-in target's check of client chains against
// Config.CRLs, in crypto/tls's VerifyPeerCertificate (after the chain has
// verified): for each certificate of the verified chain but the root, the
// CRL its issuer signed must exist and must not list its serial. The
// serials are a map per issuer, built once, so a check costs a map lookup
// per certificate however long the lists are. The CRLs are the run's
// own, issued by the case's CAs: their signatures are not checked again
// per handshake (OpenSSL servers check them, which is part of what a CRL
// costs there).
type revocation struct {
	// byIssuer maps an issuer's raw subject to the serials its CRL lists
	// (as big-endian bytes).
	byIssuer map[string]map[string]struct{}
}

// errRevoked is the refusal of a revoked certificate. crypto/tls sends
// bad_certificate for any error of VerifyPeerCertificate; the client
// counts a refusal of an identity its case revoked as certificate_revoked.
var errRevoked = errors.New("certificate revoked")

func newRevocation(crls []*x509.RevocationList) *revocation {
	r := &revocation{byIssuer: make(map[string]map[string]struct{}, len(crls))}
	for _, crl := range crls {
		set := r.byIssuer[string(crl.RawIssuer)]
		if set == nil {
			set = make(map[string]struct{}, len(crl.RevokedCertificateEntries))
			r.byIssuer[string(crl.RawIssuer)] = set
		}
		for _, e := range crl.RevokedCertificateEntries {
			set[string(e.SerialNumber.Bytes())] = struct{}{}
		}
	}
	return r
}

// verify is a tls.Config.VerifyPeerCertificate. Its error is a
// *tls.CertificateVerificationError, which the server's counters take for
// a refused client certificate.
func (r *revocation) verify(rawCerts [][]byte, chains [][]*x509.Certificate) error {
	if len(chains) == 0 {
		return nil // nothing verified (no certificate): crypto/tls refuses that itself
	}
	chain := chains[0]
	for i := 0; i+1 < len(chain); i++ {
		cert := chain[i]
		set, ok := r.byIssuer[string(cert.RawIssuer)]
		if !ok {
			return r.refuse(chain, fmt.Errorf("unable to get certificate CRL: no CRL of %q, which issued %q", chain[i+1].Subject.CommonName, cert.Subject.CommonName))
		}
		if _, revoked := set[string(cert.SerialNumber.Bytes())]; revoked {
			return r.refuse(chain, fmt.Errorf("%w: %q (serial %x) is on the CRL of %q", errRevoked, cert.Subject.CommonName, cert.SerialNumber, chain[i+1].Subject.CommonName))
		}
	}
	return nil
}

func (r *revocation) refuse(chain []*x509.Certificate, err error) error {
	return &tls.CertificateVerificationError{UnverifiedCertificates: chain, Err: err}
}

// checkCRLs refuses CRLs the built-in target cannot use: one whose
// NextUpdate has passed (OpenSSL servers refuse every chain then).
func checkCRLs(crls []*x509.RevocationList, now time.Time) error {
	for _, crl := range crls {
		if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
			return refuseConfig("the CRL of %q expired at %s (its next update)", crl.Issuer.CommonName, crl.NextUpdate.UTC().Format(time.RFC3339))
		}
	}
	return nil
}
