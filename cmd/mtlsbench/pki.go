package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
)

func init() {
	register("pki", "generate or inspect CA, server and client certificates (gen, show)", pkiCmd)
}

func pkiCmd(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(env.stdout, "Usage: mtlsbench pki gen --out DIR [flags]   generate a CA, a server and client identities")
		fmt.Fprintln(env.stdout, "       mtlsbench pki show DIR                 list what a PKI directory holds")
		if len(args) == 0 {
			return usagef("pki needs a subcommand: gen or show")
		}
		return nil
	}
	switch args[0] {
	case "gen":
		return pkiGen(env, args[1:])
	case "show":
		return pkiShow(env, args[1:])
	}
	return usagef("unknown pki subcommand %q (accepted: gen, show)", args[0])
}

type pkiGenOptions struct {
	out, keyType, clientKeyType, keyFormat string
	clients                                int
	intermediate, force                    bool
	sans                                   []string
	validity                               time.Duration
}

func pkiGen(env *cliEnv, args []string) error {
	var o pkiGenOptions
	fs := newFlagSet(env, "pki gen", "--out DIR [flags]",
		"Generate a root CA (and optionally an intermediate), a server certificate for\n"+
			"127.0.0.1, ::1, localhost (plus --san) and N client certificates, as PEM files\n"+
			"a server such as nginx, HAProxy or Envoy can use. Private keys are written 0600.")
	fs.StringVar(&o.out, "out", "", "directory to write (created if missing; refuses to overwrite without --force)")
	fs.StringVar(&o.keyType, "key-type", string(pki.DefaultKeyType), "server (and CA) key type: "+pki.KeyTypeNames())
	fs.StringVar(&o.clientKeyType, "client-key-type", "", "client key type (default: --key-type)")
	fs.IntVar(&o.clients, "clients", 1, "number of distinct client identities")
	fs.BoolVar(&o.intermediate, "intermediate", false, "issue leaves from an intermediate CA (two-certificate chains)")
	fs.StringSliceVar(&o.sans, "san", nil, "extra server DNS names (RFC 1123, optionally *.) or IP addresses, comma separated")
	fs.DurationVar(&o.validity, "validity", 397*24*time.Hour, "certificate validity")
	fs.StringVar(&o.keyFormat, "key-format", "pkcs8", "private key encoding: pkcs8, pkcs1 (RSA) or sec1 (ECDSA)")
	fs.BoolVar(&o.force, "force", false, "overwrite existing files")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.out == "" {
		return usagef("pki gen needs --out DIR")
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
	// Before generating, which may take long: a refusal later loses it.
	if err := pki.CheckSave(o.out, o.clients, o.intermediate, pki.SaveOptions{Overwrite: o.force}); err != nil {
		return outputDirError("--out", o.out, err)
	}
	b, err := pki.Generate(pki.Options{ServerKeyType: kt, ClientKeyType: ckt, Clients: o.clients,
		Intermediate: o.intermediate, SANs: o.sans, Validity: o.validity})
	if err != nil {
		return err
	}
	if err := b.Save(o.out, pki.SaveOptions{KeyFormat: format, Overwrite: o.force}); err != nil {
		return &usageError{err}
	}
	fmt.Fprintf(env.stdout, "wrote %d files to %s\n", len(b.Files()), o.out)
	describeBundle(env.stdout, b)
	fmt.Fprintf(env.stdout, "\nserver: %s + %s (trust client certificates signed by %s)\n",
		filepath.Join(o.out, pki.ServerCertFile), filepath.Join(o.out, pki.ServerKeyFile), filepath.Join(o.out, pki.RootCertFile))
	fmt.Fprintf(env.stdout, "client: mtlsbench run --target HOST:PORT --ca %s --cert %s --key %s\n",
		filepath.Join(o.out, pki.RootCertFile), filepath.Join(o.out, pki.ClientCertFile(1)), filepath.Join(o.out, pki.ClientKeyFile(1)))
	return nil
}

func pkiShow(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "pki show", "DIR", "List the certificates in a PKI directory written by 'pki gen' (never the keys).")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("pki show needs one directory")
	}
	b, err := pki.LoadDir(fs.Arg(0))
	if err != nil {
		return err
	}
	describeBundle(env.stdout, b)
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
