package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
)

// File names in a PKI directory written by Bundle.Save and read by LoadDir.
// Certificate files hold the leaf followed by any intermediate, as servers
// such as nginx and HAProxy expect.
const (
	RootCertFile         = "ca.pem"
	RootKeyFile          = "ca-key.pem"
	IntermediateCertFile = "intermediate.pem"
	IntermediateKeyFile  = "intermediate-key.pem"
	ServerCertFile       = "server.pem"
	ServerKeyFile        = "server-key.pem"
)

// ClientCertFile and ClientKeyFile name client identity i (1-based).
func ClientCertFile(i int) string { return fmt.Sprintf("client-%d.pem", i) }

// ClientKeyFile names client identity i's key file (1-based).
func ClientKeyFile(i int) string { return fmt.Sprintf("client-%d-key.pem", i) }

// SaveOptions controls Bundle.Save.
type SaveOptions struct {
	// KeyFormat for private keys. Zero means PKCS8. PKCS1 and SEC1 apply to
	// RSA and ECDSA keys respectively; other keys are written as PKCS#8.
	KeyFormat KeyFormat
	// Overwrite allows replacing files that already exist. Without it Save
	// refuses, naming the first existing file, and writes nothing.
	Overwrite bool
}

// Files lists the files Save writes, in order.
func (b *Bundle) Files() []string {
	files := []string{RootCertFile, RootKeyFile}
	if b.Intermediate != nil {
		files = append(files, IntermediateCertFile, IntermediateKeyFile)
	}
	files = append(files, ServerCertFile, ServerKeyFile)
	for i := range b.Clients {
		files = append(files, ClientCertFile(i+1), ClientKeyFile(i+1))
	}
	if len(b.CRLs) > 0 {
		files = append(files, CRLFile)
	}
	return files
}

// Save writes the bundle to dir (created 0700 if missing): private keys
// 0600, certificates 0644, each written whole to a new file and renamed
// into place (internal/outfile). It refuses before writing anything what
// CheckSave refuses. Without Overwrite a file is only ever created, never
// replaced (O_EXCL semantics, also against one that appears meanwhile);
// with it an existing regular file is replaced by the rename, never
// truncated and written through (a hard link elsewhere keeps the old
// content). No file is written through or replaces a symbolic link or
// anything but a regular file.
func (b *Bundle) Save(dir string, opts SaveOptions) error {
	if err := CheckSave(dir, len(b.Clients), b.Intermediate != nil, opts); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pki: create %s: %w", dir, err)
	}
	type item struct {
		name string
		data []byte
		mode os.FileMode
	}
	var items []item
	addKey := func(name string, key crypto.Signer) error {
		f := PKCS8
		switch key.(type) {
		case *rsa.PrivateKey:
			if opts.KeyFormat == PKCS1 {
				f = PKCS1
			}
		case *ecdsa.PrivateKey:
			if opts.KeyFormat == SEC1 {
				f = SEC1
			}
		}
		data, err := EncodeKeyPEM(key, f)
		if err != nil {
			return err
		}
		items = append(items, item{name, data, 0o600})
		return nil
	}
	items = append(items, item{RootCertFile, EncodeCertsPEM(b.Root.Cert), 0o644})
	if err := addKey(RootKeyFile, b.Root.Key); err != nil {
		return err
	}
	if b.Intermediate != nil {
		items = append(items, item{IntermediateCertFile, EncodeCertsPEM(b.Intermediate.Cert), 0o644})
		if err := addKey(IntermediateKeyFile, b.Intermediate.Key); err != nil {
			return err
		}
	}
	items = append(items, item{ServerCertFile, EncodeCertsPEM(b.Server.Chain...), 0o644})
	if err := addKey(ServerKeyFile, b.Server.Key); err != nil {
		return err
	}
	for i, c := range b.Clients {
		items = append(items, item{ClientCertFile(i + 1), EncodeCertsPEM(c.Chain...), 0o644})
		if err := addKey(ClientKeyFile(i+1), c.Key); err != nil {
			return err
		}
	}
	if len(b.CRLs) > 0 {
		items = append(items, item{CRLFile, EncodeCRLsPEM(b.CRLs...), 0o644})
	}
	for _, it := range items {
		path := filepath.Join(dir, it.name)
		err := outfile.WriteFile(path, it.data, outfile.Options{Mode: it.mode, NoReplace: !opts.Overwrite})
		if errors.Is(err, fs.ErrExist) {
			return existsError(path)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckSave reports, writing nothing, whether Save could write a bundle
// of clients client identities (with an intermediate CA or not) into dir:
// dir is a directory where files can be created, or can be created; none
// of the files Save would write is anything but a regular file (a
// *outfile.PathError names the first that is); and, without
// opts.Overwrite, none exists. It reads dir's entries once, however many
// clients: callers check before generating.
func CheckSave(dir string, clients int, intermediate bool, opts SaveOptions) error {
	if err := outfile.CheckDir(dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	for _, e := range entries {
		if !isSaveName(e.Name(), clients, intermediate) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if !e.Type().IsRegular() {
			// Lstat, not the directory entry's word, decides what is there.
			if err := outfile.Check(path); err != nil {
				var pe *outfile.PathError
				if errors.As(err, &pe) {
					refused := *pe
					refused.Fix = "move it away or choose another directory: pki writes only regular files, never through a link"
					return &refused
				}
				return err
			}
		}
		if !opts.Overwrite {
			return existsError(path)
		}
	}
	return nil
}

func existsError(path string) error {
	return fmt.Errorf("pki: %s already exists; choose an empty directory or pass --force to overwrite", path)
}

// isSaveName reports whether name is one of the files Save writes for a
// bundle of clients client identities, with an intermediate CA or not.
func isSaveName(name string, clients int, intermediate bool) bool {
	switch name {
	case RootCertFile, RootKeyFile, ServerCertFile, ServerKeyFile, CRLFile:
		return true
	case IntermediateCertFile, IntermediateKeyFile:
		return intermediate
	}
	rest, ok := strings.CutPrefix(name, "client-")
	if !ok {
		return false
	}
	digits, _ := strings.CutSuffix(strings.TrimSuffix(rest, ".pem"), "-key")
	n, err := strconv.Atoi(digits)
	return err == nil && n >= 1 && n <= clients && (name == ClientCertFile(n) || name == ClientKeyFile(n))
}

// LoadDir reads a directory written by Save. CA keys are optional (a user
// may keep them elsewhere); the server and at least one client identity are
// required, and every key must match its certificate.
func LoadDir(dir string) (*Bundle, error) { return loadDir(dir, true) }

// LoadClientDir reads what a client needs from a directory written by
// Save (or a copy holding only those files, such as a Kubernetes Secret):
// the root certificate (ca.pem), the intermediate's certificate if there
// is one, and every client identity. It never reads a CA's or the
// server's private key; the Bundle's Server is empty.
func LoadClientDir(dir string) (*Bundle, error) { return loadDir(dir, false) }

func loadDir(dir string, whole bool) (*Bundle, error) {
	read := func(name string) ([]byte, error) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("pki: %w", err)
		}
		return data, nil
	}
	b := &Bundle{}
	rootPEM, err := read(RootCertFile)
	if err != nil {
		return nil, err
	}
	roots, err := ParseCertsPEM(rootPEM, filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, err
	}
	b.Root.Cert = roots[0]
	if whole {
		if keyPEM, err := read(RootKeyFile); err == nil {
			if b.Root.Key, err = ParseKeyPEM(keyPEM, filepath.Join(dir, RootKeyFile)); err != nil {
				return nil, err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if certPEM, err := read(IntermediateCertFile); err == nil {
		certs, err := ParseCertsPEM(certPEM, filepath.Join(dir, IntermediateCertFile))
		if err != nil {
			return nil, err
		}
		b.Intermediate = &Authority{Cert: certs[0]}
		if keyPEM, err := read(IntermediateKeyFile); whole && err == nil {
			if b.Intermediate.Key, err = ParseKeyPEM(keyPEM, filepath.Join(dir, IntermediateKeyFile)); err != nil {
				return nil, err
			}
		}
	}
	loadID := func(certName, keyName string) (Identity, error) {
		pair, err := LoadKeyPair(filepath.Join(dir, certName), filepath.Join(dir, keyName))
		if err != nil {
			return Identity{}, err
		}
		chain := make([]*x509.Certificate, len(pair.Certificate))
		for i, der := range pair.Certificate {
			if chain[i], err = x509.ParseCertificate(der); err != nil {
				return Identity{}, &PEMError{Source: filepath.Join(dir, certName), Reason: "malformed certificate", Err: err}
			}
		}
		return Identity{Chain: chain, Key: pair.PrivateKey.(crypto.Signer)}, nil
	}
	if whole {
		if b.Server, err = loadID(ServerCertFile, ServerKeyFile); err != nil {
			return nil, err
		}
	}
	// client-N.pem, in numeric order.
	matches, _ := filepath.Glob(filepath.Join(dir, "client-*.pem"))
	var nums []int
	for _, m := range matches {
		base := filepath.Base(m)
		if strings.HasSuffix(base, "-key.pem") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(base, "client-"), ".pem"))
		if err == nil && n > 0 {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		id, err := loadID(ClientCertFile(n), ClientKeyFile(n))
		if err != nil {
			return nil, err
		}
		b.Clients = append(b.Clients, id)
	}
	if data, err := read(CRLFile); err == nil {
		if b.CRLs, err = ParseCRLsPEM(data, filepath.Join(dir, CRLFile)); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if len(b.Clients) == 0 {
		return nil, fmt.Errorf("pki: %s has no client identities (%s and %s); make them with 'mtlsbench pki gen --out %s'", dir, ClientCertFile(1), ClientKeyFile(1), dir)
	}
	return b, nil
}
