package pki

import "fmt"

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
