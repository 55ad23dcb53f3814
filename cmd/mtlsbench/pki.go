package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
	"github.com/mtlsbench/mtlsbench/pki"
)

func init() { register(newPKICmd) }

func newPKICmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{
		Use:   "pki",
		Short: "generate or inspect CA, server and client certificates (gen, show, revoke)",
		Long:  "Generate a PKI for a server you run (pki gen), list what a PKI directory holds (pki show), or revoke client identities in its CRL (pki revoke).",
		Example: `  mtlsbench pki gen --out ./pki --clients 8                 a CA, a server and 8 client identities
  mtlsbench pki gen --out ./pki --key-type rsa2048 --intermediate --san api.internal
  mtlsbench pki gen --out ./pki --clients 4 --revoked 1     client-4 revoked, in ./pki/crl.pem
  mtlsbench pki revoke ./pki --client 2                     add client-2 to ./pki/crl.pem
  mtlsbench pki show ./pki`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	var o pkiGenOptions
	gen := &cobra.Command{
		Use:   "gen --out DIR [flags]",
		Short: "generate a CA, a server and client identities",
		Long: "Generate a root CA (and optionally an intermediate), a server certificate for\n" +
			"127.0.0.1, ::1, localhost (plus --san) and N client certificates, as PEM files\n" +
			"a server such as nginx, HAProxy or Envoy can use. Private keys are written 0600.",
		Example: "  mtlsbench pki gen --out ./pki\n  mtlsbench pki gen --out ./pki --key-type ecdsa-p384 --clients 100 --validity 720h",
		Args:    noArgs("pki gen takes only flags; give the directory with --out"),
		RunE: func(c *cobra.Command, args []string) error {
			return pkiGen(c.Context(), env, &o)
		},
	}
	fs := gen.Flags()
	fs.SortFlags = false
	fs.SetNormalizeFunc(scenarioFlagNames) // --server-key, --client-key as in a scenario
	fs.StringVar(&o.out, "out", "", "directory to write (created if missing; refuses to overwrite without --force)")
	fs.StringVar(&o.keyType, "key-type", string(pki.DefaultKeyType), "server (and CA) key type (also --server-key): "+pki.KeyTypeNames())
	fs.StringVar(&o.clientKeyType, "client-key-type", "", "client key type (default: --key-type); also --client-key")
	fs.IntVar(&o.clients, "clients", 1, "number of distinct client identities")
	fs.BoolVar(&o.intermediate, "intermediate", false, "issue leaves from an intermediate CA (two-certificate chains)")
	fs.StringSliceVar(&o.sans, "san", nil, "extra server DNS names (RFC 1123, optionally *.) or IP addresses, comma separated")
	fs.DurationVar(&o.validity, "validity", 397*24*time.Hour, "certificate validity")
	fs.StringVar(&o.keyFormat, "key-format", "pkcs8", "private key encoding: pkcs8, pkcs1 (RSA) or sec1 (ECDSA)")
	fs.BoolVar(&o.force, "force", false, "overwrite existing files")
	fs.IntVar(&o.revoked, "revoked", 0, "revoke the last K client identities: list them in crl.pem (a server checks it with nginx ssl_crl, HAProxy crl-file, s_server -CRL)")
	fs.IntVar(&o.crlEntries, "crl-entries", 0, "write crl.pem with this many entries in all: the revoked clients and serials of certificates never issued (default: --revoked)")
	var r pkiRevokeOptions
	revoke := &cobra.Command{
		Use:   "revoke DIR --client N[,N...]",
		Short: "revoke client identities: add them to the directory's CRL (crl.pem)",
		Long: "Add client identities of a 'pki gen' directory to its certificate revocation list,\n" +
			"crl.pem (made if missing; its entries are kept and its number raised). It needs\n" +
			"the CA keys (ca-key.pem, and intermediate-key.pem with an intermediate). A server\n" +
			"that checks it refuses those clients (TLS alert certificate_revoked); a run with\n" +
			"--pki DIR counts their refusals as certificate_revoked.",
		Example: "  mtlsbench pki revoke ./pki --client 3\n  mtlsbench pki revoke ./pki --client 1,2",
		Args:    exactArgs(1, "one directory"),
		RunE:    func(c *cobra.Command, args []string) error { return pkiRevoke(env, args[0], &r) },
	}
	revoke.Flags().IntSliceVar(&r.clients, "client", nil, "client identities to revoke, by number (client-N.pem), comma separated")
	c.AddCommand(gen, revoke, &cobra.Command{
		Use:     "show DIR",
		Short:   "list the certificates in a PKI directory (never the keys)",
		Long:    "List the certificates in a PKI directory written by 'pki gen' (never the keys).",
		Example: "  mtlsbench pki show ./pki",
		Args:    exactArgs(1, "one directory"),
		RunE:    func(c *cobra.Command, args []string) error { return pkiShow(env, args[0]) },
	})
	return c
}

type pkiGenOptions struct {
	out, keyType, clientKeyType, keyFormat string
	clients, revoked, crlEntries           int
	intermediate, force                    bool
	sans                                   []string
	validity                               time.Duration
}

func pkiGen(ctx context.Context, env *cliEnv, o *pkiGenOptions) error {
	if o.out == "" {
		return usagef("--out DIR is needed: the directory to write the PKI to")
	}
	if o.clients < 1 || o.clients > pki.MaxClients {
		return usagef("--clients %d: out of range: 1 to %d client identities (one run rotates through at most that many)", o.clients, pki.MaxClients)
	}
	if o.validity < time.Minute || o.validity > pki.MaxValidity {
		return usagef("--validity %s: out of range: 1m to %s", o.validity, pki.MaxValidity)
	}
	for i, san := range o.sans {
		o.sans[i] = strings.TrimSpace(san) // "--san 'a, b'"
		var se *pki.SANError
		if err := pki.ValidateSAN(o.sans[i]); errors.As(err, &se) {
			return usagef("--san %q: %s; accepted: %s", se.Name, se.Reason, pki.SANForms)
		}
	}
	kt, err := pki.ParseKeyType(o.keyType)
	if err != nil {
		return err
	}
	ckt := kt
	if o.clientKeyType != "" {
		if ckt, err = pki.ParseKeyType(o.clientKeyType); err != nil {
			return err
		}
	}
	format, err := pki.ParseKeyFormat(o.keyFormat)
	if err != nil {
		return usagef("--key-format: %v", err)
	}
	if o.revoked < 0 || o.revoked > o.clients {
		return usagef("--revoked %d: out of range: 0 to --clients (%d)", o.revoked, o.clients)
	}
	if o.crlEntries != 0 && (o.crlEntries < o.revoked || o.crlEntries > pki.MaxCRLEntries) {
		return usagef("--crl-entries %d: out of range: --revoked (%d) to %d entries", o.crlEntries, o.revoked, pki.MaxCRLEntries)
	}
	// Before generating, which may take long: a refusal later loses it.
	if err := pki.CheckSave(o.out, o.clients, o.intermediate, pki.SaveOptions{Overwrite: o.force}); err != nil {
		return outputDirError("--out", o.out, err)
	}
	// Generated in memory first: an interrupt then writes nothing.
	b, err := pki.GenerateContext(ctx, pki.Options{ServerKeyType: kt, ClientKeyType: ckt, Clients: o.clients,
		Intermediate: o.intermediate, SANs: o.sans, Validity: o.validity})
	if err != nil {
		return err
	}
	if o.revoked > 0 || o.crlEntries > 0 {
		var serials []*big.Int
		for _, c := range b.Clients[len(b.Clients)-o.revoked:] {
			serials = append(serials, c.Leaf().SerialNumber)
		}
		if b.CRLs, err = b.IssueCRLs(serials, max(o.crlEntries-o.revoked, 0), 1); err != nil {
			return err
		}
	}
	if err := saveBundle(ctx, b, o.out, pki.SaveOptions{KeyFormat: format, Overwrite: o.force}); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return &usageError{err: err}
	}
	fmt.Fprintf(env.stdout, "wrote %d files to %s\n", len(b.Files()), o.out)
	describeBundle(env.stdout, b)
	fmt.Fprintf(env.stdout, "\nserver: %s + %s (trust client certificates signed by %s)\n",
		filepath.Join(o.out, pki.ServerCertFile), filepath.Join(o.out, pki.ServerKeyFile), filepath.Join(o.out, pki.RootCertFile))
	fmt.Fprintf(env.stdout, "client: mtlsbench run --target HOST:PORT --ca %s --cert %s --key %s\n",
		filepath.Join(o.out, pki.RootCertFile), filepath.Join(o.out, pki.ClientCertFile(1)), filepath.Join(o.out, pki.ClientKeyFile(1)))
	if len(b.CRLs) > 0 {
		describeCRL(env.stdout, b, filepath.Join(o.out, pki.CRLFile))
	}
	return nil
}

type pkiRevokeOptions struct {
	clients []int
}

// pkiRevoke adds client identities of dir to its CRL, keeping the
// entries it had and raising its number.
func pkiRevoke(env *cliEnv, dir string, o *pkiRevokeOptions) error {
	if len(o.clients) == 0 {
		return usagef("--client N is needed: the client identities to revoke (client-N.pem)")
	}
	b, err := pki.LoadDir(dir)
	if err != nil {
		return err
	}
	if b.Root.Key == nil || (b.Intermediate != nil && b.Intermediate.Key == nil) {
		return usagef("%s: the CA keys (%s, and %s with an intermediate) are needed to sign its CRL", dir, pki.RootKeyFile, pki.IntermediateKeyFile)
	}
	issuer := b.Issuer()
	var serials []*big.Int
	var number int64 = 1
	for _, crl := range b.CRLs {
		if crl.Number != nil && crl.Number.Int64() >= number {
			number = crl.Number.Int64() + 1
		}
		if string(crl.RawIssuer) != string(issuer.Cert.RawSubject) {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			serials = append(serials, e.SerialNumber)
		}
	}
	for _, n := range o.clients {
		if n < 1 || n > len(b.Clients) {
			return usagef("--client %d: %s holds client identities 1 to %d", n, dir, len(b.Clients))
		}
		if b.RevokedClient(n - 1) {
			fmt.Fprintf(env.stderr, "mtlsbench: client %d was already revoked\n", n)
			continue
		}
		serials = append(serials, b.Clients[n-1].Leaf().SerialNumber)
	}
	if len(serials) > pki.MaxCRLEntries {
		return usagef("%s: a CRL holds at most %d entries", dir, pki.MaxCRLEntries)
	}
	if b.CRLs, err = b.IssueCRLs(serials, 0, number); err != nil {
		return err
	}
	path := filepath.Join(dir, pki.CRLFile)
	if err := outfile.WriteFile(path, pki.EncodeCRLsPEM(b.CRLs...), outfile.Options{Mode: 0o644}); err != nil {
		return err
	}
	describeCRL(env.stdout, b, path)
	return nil
}

// describeCRL says what path, b's CRLs, revokes.
func describeCRL(w io.Writer, b *pki.Bundle, path string) {
	var revoked []string
	for i := range b.Clients {
		if b.RevokedClient(i) {
			revoked = append(revoked, strconv.Itoa(i+1))
		}
	}
	entries := 0
	for _, crl := range b.CRLs {
		entries += len(crl.RevokedCertificateEntries)
	}
	list := "none"
	if len(revoked) > 0 {
		list = strings.Join(revoked, ",")
	}
	fmt.Fprintf(w, "crl: %s (%d entries, number %s): revoked clients %s; a server checks it with nginx ssl_crl, HAProxy crl-file, s_server -CRL -crl_check_all\n",
		path, entries, b.CRLs[0].Number, list)
}

// partialBudget bounds what saveBundle does after an interrupt, so that
// pki gen exits within 2 s of it.
const partialBudget = 1500 * time.Millisecond

// saveBundle writes b into dir with Bundle.Save, which cannot be stopped
// (a million identities are two million files: many minutes). When ctx
// ends first, it returns within partialBudget, with an error that wraps
// ctx.Err() and says what is left:
//
//   - a directory this command created (dir, or its first missing
//     ancestor) is renamed aside at once to NAME.partial-PID, which makes
//     Save's next write fail, and then removed; what cannot be removed in
//     time stays under that name, which the error gives;
//   - a directory that existed keeps the files written so far (the CA's,
//     the server's, the first clients'), and the error says so and how to
//     start again.
//
// A Save that fails in a directory this command created removes it too.
func saveBundle(ctx context.Context, b *pki.Bundle, dir string, opts pki.SaveOptions) error {
	created := firstMissing(dir)
	saved := make(chan error, 1)
	go func() { saved <- b.Save(dir, opts) }()
	select {
	case err := <-saved:
		if err != nil && created != "" {
			_ = os.RemoveAll(created)
		}
		return err
	case <-ctx.Done():
	}
	deadline := time.Now().Add(partialBudget)
	if created == "" {
		return fmt.Errorf("interrupted while writing %s: it holds the part of the PKI written so far; "+
			"run pki gen again with --force to replace it, or remove its ca*, intermediate*, server* and client-* files: %w", dir, ctx.Err())
	}
	// Rename it aside until Save has returned. Save makes its directory
	// only as its first step, so once that is done one rename suffices;
	// the loop covers an interrupt that came before it.
	var aside []string
	base := fmt.Sprintf("%s.partial-%d", created, os.Getpid())
	tick := time.NewTimer(time.Hour) // reset before each wait
	defer tick.Stop()
	for returned := false; !returned && time.Now().Before(deadline); {
		if _, err := os.Lstat(created); err == nil {
			name := base
			if len(aside) > 0 {
				name = fmt.Sprintf("%s.%d", base, len(aside))
			}
			if os.Rename(created, name) == nil {
				aside = append(aside, name)
			}
		}
		tick.Reset(100 * time.Millisecond)
		select {
		case <-saved:
			returned = true
		case <-tick.C:
		}
	}
	var left []string
	for _, name := range aside {
		if !removeWithin(name, deadline) {
			left = append(left, name)
		}
	}
	if _, err := os.Lstat(created); err == nil {
		left = append(left, created) // Save still runs: the process exit stops it
	}
	if len(left) == 0 {
		return fmt.Errorf("interrupted while writing %s; removed it (this command had created it): %w", created, ctx.Err())
	}
	return fmt.Errorf("interrupted while writing %s; the part written so far is in %s (too many files to remove in time): remove it with rm -r: %w",
		created, strings.Join(left, ", "), ctx.Err())
}

// firstMissing is the outermost directory of dir's path that does not
// exist ("" when dir exists): what Save's MkdirAll will create.
func firstMissing(dir string) string {
	missing := ""
	for p := filepath.Clean(dir); ; {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return missing
		}
		missing = p
		parent := filepath.Dir(p)
		if parent == p {
			return missing
		}
		p = parent
	}
}

// removeWithin removes path and everything under it, never following a
// link, unless deadline passes first; it reports whether path is gone.
func removeWithin(path string, deadline time.Time) bool {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	// A batch at a time from a fresh read: entries removed while a
	// directory is being read may make the read skip others.
	for fi.IsDir() {
		if !time.Now().Before(deadline) {
			return false
		}
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY, 0)
		if err != nil {
			return false
		}
		entries, _ := f.ReadDir(256)
		f.Close()
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			if !removeWithin(filepath.Join(path, e.Name()), deadline) {
				return false
			}
		}
	}
	return os.Remove(path) == nil
}

func pkiShow(env *cliEnv, dir string) error {
	b, err := pki.LoadDir(dir)
	if err != nil {
		return err
	}
	describeBundle(env.stdout, b)
	if len(b.CRLs) > 0 {
		describeCRL(env.stdout, b, filepath.Join(dir, pki.CRLFile))
	}
	return nil
}

func describeBundle(w io.Writer, b *pki.Bundle) {
	line := func(role string, c *x509.Certificate) {
		names := append([]string{}, c.DNSNames...)
		for _, ip := range c.IPAddresses {
			names = append(names, ip.String())
		}
		extra := ""
		if len(names) > 0 {
			extra = "  SANs " + strings.Join(names, ",")
		}
		fmt.Fprintf(w, "  %-13s %-11s %-32q until %s%s\n", role, pki.DescribePublicKey(c.PublicKey), c.Subject.CommonName, c.NotAfter.Format("2006-01-02"), extra)
	}
	line("root CA", b.Root.Cert)
	if b.Intermediate != nil {
		line("intermediate", b.Intermediate.Cert)
	}
	line("server", b.Server.Leaf())
	for i, c := range b.Clients {
		if i == 3 && len(b.Clients) > 4 {
			fmt.Fprintf(w, "  ... %d more clients\n", len(b.Clients)-4)
			c = b.Clients[len(b.Clients)-1]
			i = len(b.Clients) - 1
		} else if i > 3 {
			continue
		}
		line(fmt.Sprintf("client %d", i+1), c.Leaf())
	}
}
