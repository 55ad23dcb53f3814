package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/internal/cpuset"
	"github.com/mtlsbench/mtlsbench/internal/tempdir"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/targets/builtin"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

func init() { register(newServeCmd) }

// serveOptions are the flags of mtlsbench serve.
type serveOptions struct {
	listen           string
	pkiDir           string
	certFile         string
	keyFile          string
	caFile           string
	keyType          string
	pkiOut           string
	force            bool
	versions         string
	ciphers          string
	groups           string
	noTickets        bool
	mode             string
	handshakeDelay   time.Duration
	handshakeTimeout time.Duration
	cpus             string
	child            bool
}

const serveExamples = `  mtlsbench serve                                   a generated PKI in a temporary directory, port 8443
  mtlsbench serve --pki ./pki --listen :8443 --mode http
  mtlsbench serve --pki-out ./pki --key-type rsa2048 --tls 1.2 --cpus 1`

func newServeCmd(env *cliEnv) *cobra.Command {
	var o serveOptions
	c := &cobra.Command{
		Use:   "serve [flags]",
		Short: "run the built-in mTLS target standalone",
		Long: "Run the built-in mTLS target (a Go crypto/tls server that requires a client\n" +
			"certificate) until Ctrl-C, then print what it counted. Without --pki or\n" +
			"--cert/--key/--ca it generates a PKI and writes it where clients can use it.",
		Example: serveExamples,
		Args:    noArgs("serve takes only flags"),
		RunE: func(c *cobra.Command, args []string) error {
			return runServe(c.Context(), env, c.Flags(), &o)
		},
	}
	fs := c.Flags()
	fs.SortFlags = false
	fs.SetNormalizeFunc(scenarioFlagNames)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8443", "`address` to listen on (port 0: a free port)")
	fs.StringVar(&o.pkiDir, "pki", "", "load the server identity and client CA from `DIR` (as written by 'mtlsbench pki gen')")
	fs.StringVar(&o.certFile, "cert", "", "server certificate chain `file` (PEM, leaf first); with --key and --ca")
	fs.StringVar(&o.keyFile, "key", "", "server private key `file` (PEM)")
	fs.StringVar(&o.caFile, "ca", "", "`file` of CA certificates client certificates must chain to (PEM)")
	fs.StringVar(&o.keyType, "key-type", string(pki.DefaultKeyType), "key `type` of a generated PKI: "+pki.KeyTypeNames()+"; also --server-key")
	fs.StringVar(&o.pkiOut, "pki-out", "", "write the generated PKI to `DIR` and keep it (default: a new temporary directory, removed on exit)")
	fs.BoolVar(&o.force, "force", false, "overwrite PKI files already in --pki-out")
	fs.StringVar(&o.versions, "tls", "1.2,1.3", "TLS `versions` accepted: 1.2, 1.3 or both")
	fs.StringVar(&o.ciphers, "ciphers", "", "TLS 1.2 cipher `suites` accepted, comma separated (default: Go's); also --cipher")
	fs.StringVar(&o.groups, "groups", "", "key-exchange `groups` accepted, in preference order: "+tlsparams.GroupNames()+" (default: Go's); also --group")
	fs.BoolVar(&o.noTickets, "no-tickets", false, "disable session tickets (no handshake resumes)")
	fs.StringVar(&o.mode, "mode", string(targets.ModeHandshake), "`mode` after the handshake: handshake (read until the client closes), http (answer HTTP/1.1 requests with 200) or http2 (the same over HTTP/2, ALPN h2)")
	fs.DurationVar(&o.handshakeDelay, "handshake-delay", 0, "delay every handshake by `D` after the ClientHello (to make a regression on purpose)")
	fs.DurationVar(&o.handshakeTimeout, "handshake-timeout", targets.DefaultHandshakeTimeout, "drop clients that have not finished the handshake after `D`")
	fs.StringVar(&o.cpus, "cpus", "", "pin the server to a CPU `list` (as taskset takes it: 0 or 1-3)")
	fs.BoolVar(&o.child, "child", false, "run as the child of 'mtlsbench run' (config on stdin, replies on stdout)")
	_ = fs.MarkHidden("child")
	return c
}

func runServe(ctx context.Context, env *cliEnv, fs *pflag.FlagSet, o *serveOptions) error {
	if o.child {
		return builtin.RunChild(ctx, os.Stdin, os.Stdout)
	}

	cfg, err := o.config(fs.Changed("key-type"))
	if err != nil {
		return err
	}
	if err := checkInputFiles(fs); err != nil {
		return err
	}
	if o.cpus != "" {
		set, err := cpuset.Parse(o.cpus)
		if err != nil {
			return usagef("--cpus: %v", err)
		}
		if err := cpuset.PinSelf(set); err != nil {
			return err
		}
	}
	pkiInfo, removePKI, err := o.identity(ctx, &cfg)
	if err != nil {
		return err
	}
	defer removePKI()

	srv, err := builtin.New(cfg)
	if err != nil {
		if _, ok := errors.AsType[*builtin.ConfigError](err); ok {
			return &usageError{err: err}
		}
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	printServeBanner(env.stdout, srv, pkiInfo)

	<-ctx.Done()
	srv.Close()
	counts, _ := srv.Counts(context.Background())
	printServeCounts(env.stdout, counts)
	// Stopping a server with a signal is how it is meant to end: exit 0.
	return nil
}

// config turns the flags into a target config, without the identity.
func (o *serveOptions) config(keyTypeSet bool) (targets.Config, error) {
	cfg := targets.Config{
		Listen:           o.listen,
		DisableTickets:   o.noTickets,
		HandshakeDelay:   o.handshakeDelay,
		HandshakeTimeout: o.handshakeTimeout,
	}
	if o.handshakeDelay < 0 || o.handshakeDelay > scenarios.MaxHSDelay {
		return cfg, usagef("--handshake-delay %s: out of range: 0 to %s", o.handshakeDelay, scenarios.MaxHSDelay)
	}
	if o.handshakeTimeout <= 0 || o.handshakeTimeout > scenarios.MaxTimeout {
		return cfg, usagef("--handshake-timeout %s: out of range: above 0, at most %s", o.handshakeTimeout, scenarios.MaxTimeout)
	}
	switch m := targets.Mode(o.mode); m {
	case targets.ModeHandshake, targets.ModeHTTP, targets.ModeHTTP2:
		cfg.Mode = m
	default:
		return cfg, usagef("--mode %q: unknown mode (accepted: %s, %s, %s)", o.mode, targets.ModeHandshake, targets.ModeHTTP, targets.ModeHTTP2)
	}
	for _, v := range serveList(o.versions) {
		parsed, err := tlsparams.ParseVersion(v)
		if err != nil {
			return cfg, usagef("--tls: %v", err)
		}
		ver := uint16(parsed)
		if cfg.MinVersion == 0 || ver < cfg.MinVersion {
			cfg.MinVersion = ver
		}
		cfg.MaxVersion = max(cfg.MaxVersion, ver)
	}
	if cfg.MinVersion == 0 {
		return cfg, usagef("--tls %q: no version given (accepted: 1.2, 1.3)", o.versions)
	}
	for _, name := range serveList(o.ciphers) {
		s, err := tlsparams.ParseSuite(name)
		if err != nil {
			return cfg, usagef("--ciphers: %v", err)
		}
		if s.TLS13 {
			return cfg, usagef("--ciphers: %v (TLS 1.2 suites it takes: %s)", builtin.RefusePinTLS13(s.Name).Err, tlsparams.SuiteNames(tls.VersionTLS12))
		}
		cfg.CipherSuites = append(cfg.CipherSuites, s.ID)
	}
	for _, name := range serveList(o.groups) {
		g, err := tlsparams.ParseGroup(name)
		if err != nil {
			return cfg, usagef("--groups: %v", err)
		}
		cfg.Groups = append(cfg.Groups, g.ID)
	}
	sources := 0
	if o.pkiDir != "" {
		sources++
	}
	if o.certFile != "" || o.keyFile != "" || o.caFile != "" {
		sources++
		if o.certFile == "" || o.keyFile == "" || o.caFile == "" {
			return cfg, usagef("--cert, --key and --ca go together (got --cert %q --key %q --ca %q)", o.certFile, o.keyFile, o.caFile)
		}
	}
	if sources > 1 {
		return cfg, usagef("give either --pki DIR or --cert/--key/--ca, not both")
	}
	if sources == 1 && (keyTypeSet || o.pkiOut != "") {
		return cfg, usagef("--key-type and --pki-out apply to a generated PKI; they cannot be combined with --pki or --cert/--key/--ca")
	}
	if _, err := pki.ParseKeyType(o.keyType); err != nil {
		return cfg, usagef("--key-type: %v", err)
	}
	return cfg, nil
}

// servePKIInfo says where the client material is, for the banner.
type servePKIInfo struct {
	dir       string // "" when the server identity came from --cert/--key/--ca
	generated string // key type, when generated here
	temporary bool
}

// identity fills in the server identity and client CAs: loaded from --pki
// or --cert/--key/--ca, or generated (until ctx ends) and saved for
// clients. cleanup removes a temporary PKI directory; so does every other
// way out of the process but SIGKILL, after which the next start sweeps it
// (internal/tempdir).
func (o *serveOptions) identity(ctx context.Context, cfg *targets.Config) (servePKIInfo, func(), error) {
	nothing := func() {}
	switch {
	case o.pkiDir != "":
		b, err := pki.LoadDir(o.pkiDir)
		if err != nil {
			return servePKIInfo{}, nothing, err
		}
		cfg.Identity, cfg.ClientCAs = b.Server, []*x509.Certificate{b.Root.Cert}
		return servePKIInfo{dir: o.pkiDir}, nothing, nil
	case o.certFile != "":
		pair, err := pki.LoadKeyPair(o.certFile, o.keyFile)
		if err != nil {
			return servePKIInfo{}, nothing, err
		}
		chain := make([]*x509.Certificate, len(pair.Certificate))
		for i, der := range pair.Certificate {
			if chain[i], err = x509.ParseCertificate(der); err != nil {
				return servePKIInfo{}, nothing, &pki.PEMError{Source: o.certFile, Reason: "malformed certificate", Err: err}
			}
		}
		caPEM, err := os.ReadFile(o.caFile)
		if err != nil {
			return servePKIInfo{}, nothing, fmt.Errorf("read --ca: %w", err)
		}
		cas, err := pki.ParseCertsPEM(caPEM, o.caFile)
		if err != nil {
			return servePKIInfo{}, nothing, err
		}
		cfg.Identity = pki.Identity{Chain: chain, Key: pair.PrivateKey.(crypto.Signer)} // pki parses only signers
		cfg.ClientCAs = cas
		return servePKIInfo{}, nothing, nil
	}
	kt, _ := pki.ParseKeyType(o.keyType) // checked in config
	if o.pkiOut != "" {
		if err := pki.CheckSave(o.pkiOut, 1, false, pki.SaveOptions{Overwrite: o.force}); err != nil {
			return servePKIInfo{}, nothing, outputDirError("--pki-out", o.pkiOut, err)
		}
	}
	b, err := pki.GenerateContext(ctx, pki.Options{ServerKeyType: kt})
	if err != nil {
		return servePKIInfo{}, nothing, err
	}
	info := servePKIInfo{dir: o.pkiOut, generated: string(kt)}
	cleanup := nothing
	if info.dir == "" {
		tmp, err := tempdir.New("serve-pki")
		if err != nil {
			return servePKIInfo{}, nothing, fmt.Errorf("create a directory for the PKI: %w", err)
		}
		info.dir, info.temporary = tmp.Path(), true
		cleanup = func() { tmp.Remove() }
	}
	if err := b.Save(info.dir, pki.SaveOptions{Overwrite: o.force}); err != nil {
		cleanup()
		return servePKIInfo{}, nothing, err
	}
	cfg.Identity, cfg.ClientCAs = b.Server, []*x509.Certificate{b.Root.Cert}
	return info, cleanup, nil
}

func printServeBanner(w io.Writer, srv *builtin.Server, info servePKIInfo) {
	cfg := srv.Config()
	versions := tlsparams.VersionString(cfg.MinVersion)
	if cfg.MaxVersion != cfg.MinVersion {
		versions += "-" + tlsparams.VersionString(cfg.MaxVersion)
	}
	tickets := "on"
	if cfg.DisableTickets {
		tickets = "off"
	}
	fmt.Fprintf(w, "mtlsbench serve: built-in mTLS target listening on %s (mode %s, TLS %s, session tickets %s)\n", srv.Addr(), cfg.Mode, versions, tickets)
	if info.dir != "" {
		note := ""
		switch {
		case info.temporary:
			note = fmt.Sprintf(" (generated %s; removed when serve stops, keep it with --pki-out DIR)", info.generated)
		case info.generated != "":
			note = fmt.Sprintf(" (generated %s)", info.generated)
		}
		ca := filepath.Join(info.dir, pki.RootCertFile)
		cert := filepath.Join(info.dir, pki.ClientCertFile(1))
		key := filepath.Join(info.dir, pki.ClientKeyFile(1))
		fmt.Fprintf(w, "PKI: %s%s\n", info.dir, note)
		fmt.Fprintf(w, "  CA %s, client certificate %s, client key %s\n", ca, cert, key)
		if cfg.Mode == targets.ModeHTTP || cfg.Mode == targets.ModeHTTP2 {
			http2 := ""
			if cfg.Mode == targets.ModeHTTP2 {
				http2 = "--http2 "
			}
			fmt.Fprintf(w, "Try: curl %s--cacert %s --cert %s --key %s https://%s/\n", http2, ca, cert, key, serveURLHost(srv.Addr()))
		} else {
			fmt.Fprintf(w, "Try: openssl s_client -connect %s -servername localhost -CAfile %s -cert %s -key %s\n", srv.Addr(), ca, cert, key)
		}
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop and print the counts.")
}

// serveURLHost names the server as its certificate does when it listens on
// loopback, so that curl's name check passes.
func serveURLHost(addr string) string {
	if strings.HasPrefix(addr, "127.0.0.1:") {
		return "localhost:" + strings.TrimPrefix(addr, "127.0.0.1:")
	}
	return addr
}

func printServeCounts(w io.Writer, c targets.Counts) {
	fmt.Fprintf(w, "handshakes %d (resumed %d), failed %d (client certificate rejected %d), HTTP requests %d\n",
		c.Handshakes, c.Resumed, c.Failed, c.VerifyFailures, c.Requests)
	for _, m := range []struct {
		title string
		m     map[string]int64
	}{{"TLS versions", c.Versions}, {"cipher suites", c.Ciphers}} {
		if len(m.m) == 0 {
			continue
		}
		keys := make([]string, 0, len(m.m))
		for k := range m.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, m.m[k])
		}
		fmt.Fprintf(w, "  %s: %s\n", m.title, strings.Join(parts, ", "))
	}
}

// serveList splits a comma-separated flag value, dropping empty items.
func serveList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
