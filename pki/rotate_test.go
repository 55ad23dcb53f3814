package pki

import (
	"crypto/x509"
	"testing"
)

// A rotated server certificate verifies against the old root with the
// old chain; one from a CA rotation only against the new root, and keeps
// the chain's shape.
func TestRotatedServerAndCA(t *testing.T) {
	for _, inter := range []bool{false, true} {
		b, err := Generate(Options{Intermediate: inter})
		if err != nil {
			t.Fatal(err)
		}
		verify := func(id Identity, root *x509.Certificate) error {
			roots, inters := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(root)
			for _, c := range id.Chain[1:] {
				inters.AddCert(c)
			}
			_, err := id.Leaf().Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			return err
		}
		id, err := b.RotatedServer()
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(id, b.Root.Cert); err != nil || len(id.Chain) != len(b.Server.Chain) || id.Leaf().SerialNumber.Cmp(b.Server.Leaf().SerialNumber) == 0 {
			t.Errorf("intermediate=%v: rotated server: %v (chain %d, want %d)", inter, err, len(id.Chain), len(b.Server.Chain))
		}
		if id.KeyType() != b.Server.KeyType() || id.Leaf().Subject.CommonName != b.Server.Leaf().Subject.CommonName {
			t.Errorf("intermediate=%v: rotated server %s %q", inter, id.KeyType(), id.Leaf().Subject.CommonName)
		}
		root, id, err := b.RotatedCA(1)
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(id, root); err != nil || len(id.Chain) != len(b.Server.Chain) {
			t.Errorf("intermediate=%v: CA rotation: %v (chain %d)", inter, err, len(id.Chain))
		}
		if verify(id, b.Root.Cert) == nil {
			t.Errorf("intermediate=%v: the CA rotation's certificate verifies against the old root", inter)
		}
	}
}
