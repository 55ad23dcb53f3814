package k8s

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/mtlsbench/mtlsbench/pki"
)

// clientFile matches a client identity's certificate or key file of a
// 'mtlsbench pki gen' directory: client-N.pem, client-N-key.pem.
var clientFile = regexp.MustCompile(`^client-([1-9][0-9]*)(-key)?\.pem$`)

// secretFile reports whether a file of a PKI directory may go into the
// pods' Secret: the CA certificates and the client identities. The
// private keys of the CA, the intermediate and the server never may: a
// generator needs none of them, and whoever can read the Secret could
// then issue certificates the server trusts, or impersonate it.
func secretFile(name string) bool {
	return name == pki.RootCertFile || name == pki.IntermediateCertFile || clientFile.MatchString(name)
}

// ReadPKI reads what the generator pods need of a directory written by
// 'mtlsbench pki gen': ca.pem, intermediate.pem when present, and every
// client-N.pem with its client-N-key.pem; file name → contents, for
// RenderOptions.PKI. It never opens ca-key.pem, intermediate-key.pem or
// server-key.pem. Each certificate must parse and each key match its
// certificate, so a bad file fails here rather than in N pods. Problems
// are *InputError.
func ReadPKI(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &InputError{Reason: "read the PKI directory", Err: err}
	}
	files := map[string][]byte{}
	read := func(name string) ([]byte, error) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, &InputError{Reason: "read the PKI directory", Err: err}
		}
		files[name] = data
		return data, nil
	}
	ca, err := read(pki.RootCertFile)
	if err != nil {
		return nil, err
	}
	if _, err := pki.ParseCertsPEM(ca, filepath.Join(dir, pki.RootCertFile)); err != nil {
		return nil, &InputError{Reason: "the PKI directory's CA", Err: err}
	}
	if data, err := read(pki.IntermediateCertFile); err == nil {
		if _, err := pki.ParseCertsPEM(data, filepath.Join(dir, pki.IntermediateCertFile)); err != nil {
			return nil, &InputError{Reason: "the PKI directory's intermediate CA", Err: err}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var clients []int
	for _, e := range entries {
		m := clientFile.FindStringSubmatch(e.Name())
		if m == nil || m[2] != "" {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		clients = append(clients, n)
	}
	if len(clients) == 0 {
		return nil, inputf("%s has no client identity (%s and %s): make them with 'mtlsbench pki gen --out %s'", dir, pki.ClientCertFile(1), pki.ClientKeyFile(1), dir)
	}
	slices.Sort(clients)
	for _, n := range clients {
		certName, keyName := pki.ClientCertFile(n), pki.ClientKeyFile(n)
		cert, err := read(certName)
		if err != nil {
			return nil, err
		}
		key, err := read(keyName)
		if err != nil {
			return nil, err
		}
		if _, err := pki.ParseKeyPair(cert, key, filepath.Join(dir, certName), filepath.Join(dir, keyName)); err != nil {
			return nil, &InputError{Reason: fmt.Sprintf("client identity %d", n), Err: err}
		}
	}
	return files, nil
}
