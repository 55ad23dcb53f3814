package pki

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A CRL of 100,000 entries is signed fast enough to make per case (the
// revocation scenario's largest), lists the revoked serials first, and
// names no certificate the package issued among its fillers.
func TestIssueCRLLarge(t *testing.T) {
	b, err := Generate(Options{Clients: 2})
	if err != nil {
		t.Fatal(err)
	}
	revoked := b.Clients[1].Leaf()
	start := time.Now()
	crls, err := b.IssueCRLs([]*big.Int{revoked.SerialNumber}, 99_999, 1)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if took > 10*time.Second {
		t.Errorf("a CRL of 100,000 entries took %s", took)
	}
	t.Logf("100,000 entries: %s, %d bytes", took, len(crls[0].Raw))
	if len(crls) != 1 || len(crls[0].RevokedCertificateEntries) != 100_000 {
		t.Fatalf("%d CRLs, want 1 of 100,000 entries", len(crls))
	}
	if err := crls[0].CheckSignatureFrom(b.Root.Cert); err != nil {
		t.Errorf("the root did not sign it: %v", err)
	}
	b.CRLs = crls
	if !b.RevokedClient(1) || b.RevokedClient(0) {
		t.Errorf("revoked: client 1 %v, client 2 %v; want only client 2", b.RevokedClient(0), b.RevokedClient(1))
	}
	for _, c := range b.Clients {
		if c.Leaf().SerialNumber.Cmp(FillerSerial(0)) >= 0 {
			t.Errorf("serial %x is in the filler range", c.Leaf().SerialNumber)
		}
	}
	if _, err := b.Root.IssueCRL(CRLOptions{Filler: MaxCRLEntries + 1}); err == nil {
		t.Error("a CRL over MaxCRLEntries was issued")
	}
}

// With an intermediate, the intermediate's CRL lists the clients and the
// root's is empty: servers that check the whole chain need both. Saved,
// they are crl.pem, which LoadDir and LoadClientDir read back.
func TestCRLsIntermediateSaveLoad(t *testing.T) {
	b, err := Generate(Options{Clients: 3, Intermediate: true})
	if err != nil {
		t.Fatal(err)
	}
	if b.CRLs, err = b.IssueCRLs([]*big.Int{b.Clients[2].Leaf().SerialNumber}, 5, 7); err != nil {
		t.Fatal(err)
	}
	if len(b.CRLs) != 2 || len(b.CRLs[0].RevokedCertificateEntries) != 6 || len(b.CRLs[1].RevokedCertificateEntries) != 0 {
		t.Fatalf("CRLs %d, want the intermediate's (6 entries) and the root's (none)", len(b.CRLs))
	}
	if err := b.CRLs[0].CheckSignatureFrom(b.Intermediate.Cert); err != nil {
		t.Errorf("intermediate CRL: %v", err)
	}
	if err := b.CRLs[1].CheckSignatureFrom(b.Root.Cert); err != nil {
		t.Errorf("root CRL: %v", err)
	}
	if b.CRLs[0].Number.Int64() != 7 {
		t.Errorf("CRL number %v, want 7", b.CRLs[0].Number)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	if err := b.Save(dir, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, CRLFile)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("crl.pem: %v %v", fi, err)
	}
	for _, load := range []func(string) (*Bundle, error){LoadDir, LoadClientDir} {
		got, err := load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.CRLs) != 2 || !got.RevokedClient(2) || got.RevokedClient(0) || got.RevokedClient(1) {
			t.Errorf("loaded %d CRLs; revoked %v %v %v, want client 3 only", len(got.CRLs), got.RevokedClient(0), got.RevokedClient(1), got.RevokedClient(2))
		}
	}
	// Saving again without Overwrite refuses: crl.pem is one of its files.
	if err := b.Save(dir, SaveOptions{}); err == nil {
		t.Error("a second Save into the same directory did not refuse")
	}
}

// The decoys are cached (the same certificates for every case), named
// apart, and MaxTrustStore of names fit in a CertificateRequest a Go
// client accepts (64 KiB).
func TestDecoys(t *testing.T) {
	few, err := Decoys(3)
	if err != nil {
		t.Fatal(err)
	}
	all, err := Decoys(MaxTrustStore - 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(few) != 3 || len(all) != MaxTrustStore-1 {
		t.Fatalf("%d and %d decoys", len(few), len(all))
	}
	for i, c := range few {
		if c != all[i] {
			t.Errorf("decoy %d differs between calls", i)
		}
	}
	names := map[string]bool{}
	size := 0
	root, err := Generate(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(all, root.Root.Cert) {
		if names[string(c.RawSubject)] {
			t.Fatalf("two decoys named %s", c.Subject)
		}
		names[string(c.RawSubject)] = true
		size += 2 + len(c.RawSubject)
		if !c.IsCA || !bytes.Equal(c.RawIssuer, c.RawSubject) {
			t.Errorf("%s is not a self-signed CA", c.Subject)
		}
	}
	// The CertificateRequest carries the names plus a few hundred bytes
	// of signature algorithms and headers.
	if size > 65536-1024 {
		t.Errorf("%d CA names take %d bytes: over what a Go client accepts in a CertificateRequest", len(names), size)
	}
	t.Logf("%d CA names: %d bytes", len(names), size)
	if _, err := Decoys(MaxTrustStore); err == nil {
		t.Error("Decoys(MaxTrustStore) was not refused")
	}
}
