package pki

import (
	"crypto/x509"
	"fmt"
	"time"
)

// RotatedServer issues a fresh server identity to replace b.Server in a
// certificate rotation: a new key of the same type, a new serial, the
// same subject and names, signed by the same issuer (so it verifies
// against the clients' trust as the old one does) with the same chain
// (the intermediate, when b has one). b is not changed.
func (b *Bundle) RotatedServer() (Identity, error) {
	old := b.Server.Leaf()
	sans := make([]string, 0, len(old.DNSNames)+len(old.IPAddresses))
	for _, ip := range old.IPAddresses {
		sans = append(sans, ip.String())
	}
	sans = append(sans, old.DNSNames...)
	id, err := b.Issuer().Issue(LeafRequest{
		KeyType:    b.Server.KeyType(),
		CommonName: old.Subject.CommonName,
		Server:     true,
		SANs:       sans,
	}, b.Intermediate)
	if err != nil {
		return Identity{}, fmt.Errorf("pki: issue the rotated server certificate: %w", err)
	}
	return id, nil
}

// RotatedCA issues a fresh CA (a root of the old root's key type, and an
// intermediate under it when b has one) and a server identity under it
// that replaces b.Server in a CA rotation: the same subject and names, a
// new key. The clients must trust the new root before the server
// presents it (the overlap): a CA rotation hands the new root to them
// first. b is not changed; n numbers the rotation in the new CA's name.
func (b *Bundle) RotatedCA(n int) (root *x509.Certificate, server Identity, err error) {
	kt, _ := KeyTypeOf(b.Root.Cert.PublicKey)
	notBefore := time.Now().Add(-time.Hour).Truncate(time.Second)
	validity := b.Root.Cert.NotAfter.Sub(b.Root.Cert.NotBefore)
	name := fmt.Sprintf("%s (rotated %d)", b.Root.Cert.Subject.CommonName, n)
	ca, err := NewRoot(kt, name, notBefore, validity)
	if err != nil {
		return nil, Identity{}, fmt.Errorf("pki: issue the rotated CA: %w", err)
	}
	rotated := Bundle{Root: ca, Server: b.Server}
	if b.Intermediate != nil {
		inter, err := ca.NewIntermediate(kt, name+" intermediate", notBefore, validity)
		if err != nil {
			return nil, Identity{}, fmt.Errorf("pki: issue the rotated intermediate CA: %w", err)
		}
		rotated.Intermediate = &inter
	}
	id, err := rotated.RotatedServer()
	if err != nil {
		return nil, Identity{}, err
	}
	return ca.Cert, id, nil
}
