package managed

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// withDefaults applies the documented defaults to a copy of cfg and
// checks what every managed server needs: what every target needs
// (targets.Config.WithDefaults), then what is the managed servers' own.
// The caller's Config is never modified.
func withDefaults(kind targets.Kind, cfg targets.Config) (targets.Config, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("managed: %s: "+format, append([]any{kind}, args...)...)
	}
	if cfg.HandshakeDelay != 0 {
		return cfg, bad("HandshakeDelay is only supported by the builtin target")
	}
	c, err := cfg.WithDefaults()
	if err != nil {
		return cfg, fmt.Errorf("managed: %s: %w", kind, err)
	}
	if _, _, err := splitListen(c.Listen); err != nil {
		return c, bad("%v", err)
	}
	for _, id := range c.CipherSuitesTLS13 {
		s, ok := tlsparams.SuiteByID(id)
		if !ok || !s.TLS13 {
			return c, bad("%s is not a TLS 1.3 cipher suite (accepted: %s)", tlsparams.SuiteName(id), tlsparams.SuiteNames(tls.VersionTLS13))
		}
	}
	if _, err := curveNames(c.Groups); err != nil {
		return c, err
	}
	if c.CPUs != "" {
		set, err := cpuset.Parse(c.CPUs)
		if err != nil {
			return c, fmt.Errorf("managed: %s: %w", kind, err)
		}
		if c.Workers == 0 {
			c.Workers = set.Count()
		}
	}
	if c.Workers == 0 {
		if cpus, err := cpuset.Allowed(); err == nil && len(cpus) > 0 {
			c.Workers = len(cpus)
		} else {
			c.Workers = runtime.NumCPU()
		}
	}
	return c, nil
}

// splitListen splits a listen address; the host must be an IP.
func splitListen(listen string) (string, int, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("bad Listen address %q: %v (example: 127.0.0.1:0)", listen, err)
	}
	if net.ParseIP(host) == nil {
		return "", 0, fmt.Errorf("bad Listen address %q: the host must be an IP address (example: 127.0.0.1:0)", listen)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad Listen address %q: bad port (example: 127.0.0.1:0)", listen)
	}
	return host, port, nil
}

// versionName is OpenSSL's name of a TLS version.
func versionName(v uint16) string {
	if v == tls.VersionTLS13 {
		return "TLSv1.3"
	}
	return "TLSv1.2"
}

// suiteNames returns the OpenSSL names of suites, colon separated.
func suiteNames(ids []uint16) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if s, ok := tlsparams.SuiteByID(id); ok {
			names = append(names, s.OpenSSL)
		}
	}
	return strings.Join(names, ":")
}

// groupList is the server's groups list for cfg (OpenSSL names, colon
// separated; "" for the server's default) and whether the server must
// choose the group in its own order.
//
// In TLS 1.2 an OpenSSL server accepts an ECDSA certificate — its own or the
// client's — only if the certificate's curve is in its groups list (and in
// the client's supported_groups). A TLS 1.2 case pinned to x25519 with
// ECDSA P-256 certificates would fail every handshake ("wrong curve"). So
// for TLS 1.2 the NIST curves follow the case's groups, and the server picks
// in its own order, which puts the case's group first: a client offering it
// negotiates it, and any other outcome is a mismatch the client sees.
func groupList(cfg targets.Config) (list string, serverOrder bool) {
	list, _ = curveNames(cfg.Groups)
	if list == "" || cfg.MaxVersion != tls.VersionTLS12 {
		return list, false
	}
	ids := append([]tls.CurveID(nil), cfg.Groups...)
	for _, curve := range []tls.CurveID{tls.CurveP256, tls.CurveP384, tls.CurveP521} {
		if !slices.Contains(ids, curve) {
			ids = append(ids, curve)
		}
	}
	list, _ = curveNames(ids)
	return list, true
}

// pemFiles are the PEM files every managed server reads.
type pemFiles struct {
	chain    string // leaf then intermediates
	leaf     string // leaf only
	inter    string // intermediates only ("" when there are none)
	key      string // PKCS#8, 0600
	clientCA string // Config.ClientCAs
	crl      string // Config.CRLs ("" when there are none)
}

// writePKI writes the case's certificates and key into dir.
func writePKI(dir string, cfg targets.Config) (pemFiles, error) {
	f := pemFiles{
		chain:    filepath.Join(dir, "server-chain.pem"),
		leaf:     filepath.Join(dir, "server.pem"),
		key:      filepath.Join(dir, "server-key.pem"),
		clientCA: filepath.Join(dir, "client-ca.pem"),
	}
	keyPEM, err := pki.EncodeKeyPEM(cfg.Identity.Key, pki.PKCS8)
	if err != nil {
		return f, fmt.Errorf("managed: %w", err)
	}
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.chain, pki.EncodeCertsPEM(cfg.Identity.Chain...), 0o644},
		{f.leaf, pki.EncodeCertsPEM(cfg.Identity.Chain[0]), 0o644},
		{f.key, keyPEM, 0o600},
		{f.clientCA, pki.EncodeCertsPEM(cfg.ClientCAs...), 0o644},
	}
	if len(cfg.CRLs) > 0 {
		f.crl = filepath.Join(dir, "crl.pem")
		files = append(files, struct {
			path string
			data []byte
			mode os.FileMode
		}{f.crl, pki.EncodeCRLsPEM(cfg.CRLs...), 0o644})
	}
	if len(cfg.Identity.Chain) > 1 {
		f.inter = filepath.Join(dir, "server-intermediates.pem")
		files = append(files, struct {
			path string
			data []byte
			mode os.FileMode
		}{f.inter, pki.EncodeCertsPEM(cfg.Identity.Chain[1:]...), 0o644})
	}
	for _, file := range files {
		if err := os.WriteFile(file.path, file.data, file.mode); err != nil {
			return f, fmt.Errorf("managed: write %s: %w", file.path, err)
		}
	}
	return f, nil
}

// curveNames returns the OpenSSL names of groups, colon separated.
func curveNames(groups []tls.CurveID) (string, error) {
	names := make([]string, 0, len(groups))
	for _, id := range groups {
		g, ok := tlsparams.GroupByID(id)
		if !ok {
			return "", fmt.Errorf("managed: unknown group %s (accepted: %s)", id, tlsparams.GroupNames())
		}
		names = append(names, g.OpenSSL)
	}
	return strings.Join(names, ":"), nil
}
