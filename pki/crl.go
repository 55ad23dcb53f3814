package pki

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// CRLFile is the revocation list 'pki gen --revoked' and 'pki revoke'
// write into a PKI directory: one CRL per CA of the clients' chain (the
// issuer's, listing the revoked clients, and with an intermediate the
// root's too), as servers that check the whole chain (nginx ssl_crl,
// HAProxy crl-file, s_server -crl_check_all) need.
const CRLFile = "crl.pem"

// CRLOptions says what IssueCRL lists. Every zero value has a default,
// noted on the field.
type CRLOptions struct {
	// Revoked are the serial numbers of certificates revoked on purpose
	// (client identities a case must see refused).
	Revoked []*big.Int
	// Filler is how many more entries to list: serials of certificates
	// never issued (FillerSerial), which make the list as large as a
	// real CA's without touching any identity. Zero means none.
	Filler int
	// Number is the CRL number (each new list of one CA takes a higher
	// one). Zero means 1.
	Number int64
	// ThisUpdate is when the list was issued, and when its entries say
	// they were revoked. Zero means one hour ago.
	ThisUpdate time.Time
	// Validity is how long until NextUpdate. Zero means 30 days.
	Validity time.Duration
}

// fillerBase is the first filler serial: 2^128, above every serial this
// package issues (serial() draws below 2^127 + 1), so a filler entry never
// names a real certificate.
var fillerBase = new(big.Int).Lsh(big.NewInt(1), 128)

// FillerSerial is the i-th filler serial (0-based): 2^128 + i.
func FillerSerial(i int) *big.Int {
	return new(big.Int).Add(fillerBase, big.NewInt(int64(i)))
}

// IssueCRL makes a CRL signed by a listing o.Revoked and o.Filler filler
// serials. 100,000 entries take well under a second.
func (a Authority) IssueCRL(o CRLOptions) (*x509.RevocationList, error) {
	if o.Filler < 0 || len(o.Revoked)+o.Filler > MaxCRLEntries {
		return nil, fmt.Errorf("pki: a CRL holds 0 to %d entries, asked for %d", MaxCRLEntries, len(o.Revoked)+o.Filler)
	}
	if o.Number == 0 {
		o.Number = 1
	}
	if o.ThisUpdate.IsZero() {
		o.ThisUpdate = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	if o.Validity == 0 {
		o.Validity = 30 * 24 * time.Hour
	}
	entries := make([]x509.RevocationListEntry, 0, len(o.Revoked)+o.Filler)
	for _, s := range o.Revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: o.ThisUpdate})
	}
	for i := range o.Filler {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: FillerSerial(i), RevocationTime: o.ThisUpdate})
	}
	tmpl := &x509.RevocationList{
		RevokedCertificateEntries: entries,
		Number:                    big.NewInt(o.Number),
		ThisUpdate:                o.ThisUpdate,
		NextUpdate:                o.ThisUpdate.Add(o.Validity),
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, a.Cert, a.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign the CRL of %q: %w", a.Cert.Subject.CommonName, err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse the CRL of %q: %w", a.Cert.Subject.CommonName, err)
	}
	return crl, nil
}

// IssueCRLs returns the revocation lists a server needs to check b's client
// chains, each CA's signed by it: the issuer's (the intermediate if there
// is one, else the root), listing revoked and filler filler serials, and
// with an intermediate the root's, listing nothing (servers that check
// every certificate of the chain, as nginx and HAProxy do, refuse a chain
// one of whose CAs has no CRL). It needs the CAs' keys.
func (b *Bundle) IssueCRLs(revoked []*big.Int, filler int, number int64) ([]*x509.RevocationList, error) {
	issuer := b.Issuer()
	if issuer.Key == nil || b.Root.Key == nil {
		return nil, fmt.Errorf("pki: a CRL must be signed by its CA, and the CA's key (%s) is not there", RootKeyFile)
	}
	crl, err := issuer.IssueCRL(CRLOptions{Revoked: revoked, Filler: filler, Number: number})
	if err != nil {
		return nil, err
	}
	out := []*x509.RevocationList{crl}
	if b.Intermediate != nil {
		root, err := b.Root.IssueCRL(CRLOptions{Number: number})
		if err != nil {
			return nil, err
		}
		out = append(out, root)
	}
	return out, nil
}

// EncodeCRLsPEM encodes CRLs as consecutive X509 CRL blocks.
func EncodeCRLsPEM(crls ...*x509.RevocationList) []byte {
	var buf bytes.Buffer
	for _, c := range crls {
		_ = pem.Encode(&buf, &pem.Block{Type: "X509 CRL", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// ParseCRLsPEM parses every X509 CRL block in data; source names it in
// errors. It refuses data with none.
func ParseCRLsPEM(data []byte, source string) ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "X509 CRL" {
			continue
		}
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return nil, &PEMError{Source: source, Reason: "malformed CRL", Err: err}
		}
		out = append(out, crl)
	}
	if len(out) == 0 {
		return nil, &PEMError{Source: source, Reason: "no X509 CRL block"}
	}
	return out, nil
}

// IsRevoked reports whether one of crls, issued by cert's issuer, lists
// cert's serial.
func IsRevoked(cert *x509.Certificate, crls []*x509.RevocationList) bool {
	for _, crl := range crls {
		if !bytes.Equal(crl.RawIssuer, cert.RawIssuer) {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return true
			}
		}
	}
	return false
}

// RevokedClient reports whether client identity i (0-based) is on one of
// b.CRLs.
func (b *Bundle) RevokedClient(i int) bool {
	return len(b.CRLs) > 0 && IsRevoked(b.Clients[i].Leaf(), b.CRLs)
}
