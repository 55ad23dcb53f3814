package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

func init() { register(newBareClientCmd) }

// bareClientOptions are the flags of mtlsbench bare-client.
type bareClientOptions struct {
	target, ca, cert, key, serverName string
	version, request                  string
	groups                            []string
	resume                            bool
	concurrency                       int
	duration                          time.Duration
	count                             int64
}

func newBareClientCmd(env *cliEnv) *cobra.Command {
	var o bareClientOptions
	c := &cobra.Command{
		Use:   "bare-client --target HOST:PORT --ca FILE --cert FILE --key FILE [flags]",
		Short: "baseline for 'make bench-peers': the plain crypto/tls client loop mtlsbench is compared with",
		Long: "The baseline mtlsbench's own cost is measured against: the same mTLS handshakes\n" +
			"made by a plain crypto/tls loop (crypto/tls verifies the server chain, presents\n" +
			"the client certificate, and in TLS 1.3 the server's ticket is received before\n" +
			"closing), with no timing, counting or checks. It prints how many it made; measure\n" +
			"its CPU from outside (scripts/bench-peers.sh does).",
		Example: "  mtlsbench bare-client --target 127.0.0.1:8443 --ca pki/ca.pem --cert pki/client-1.pem --key pki/client-1-key.pem -c 4 -d 10s",
		Args:    noArgs("bare-client takes only flags"),
		RunE: func(c *cobra.Command, args []string) error {
			return runBareClient(c.Context(), env, &o)
		},
	}
	fs := c.Flags()
	fs.SortFlags = false
	fs.StringVar(&o.target, "target", "", "`HOST:PORT` of the server")
	fs.StringVar(&o.ca, "ca", "", "CA `file` that signed the server's certificate")
	fs.StringVar(&o.cert, "cert", "", "client certificate chain `file`")
	fs.StringVar(&o.key, "key", "", "client private key `file`")
	fs.StringVar(&o.serverName, "server-name", "localhost", "`name` to send in SNI and verify the server against")
	fs.StringVar(&o.version, "tls", "1.3", "TLS `version`: 1.2 or 1.3")
	fs.StringSliceVar(&o.groups, "groups", []string{"x25519"}, "key-exchange `groups` offered, in order (in TLS 1.2 an OpenSSL server also wants the curve of its ECDSA certificate listed, e.g. x25519,p256)")
	fs.BoolVar(&o.resume, "resume", false, "resume the last session on every handshake after the first")
	fs.StringVar(&o.request, "request", "", "after the handshake send 'GET `PATH` HTTP/1.0' and read the response until the server closes (as openssl s_time -www does)")
	fs.IntVarP(&o.concurrency, "concurrency", "c", 1, "connections in flight")
	fs.DurationVarP(&o.duration, "duration", "d", 5*time.Second, "how long to run")
	fs.Int64VarP(&o.count, "count", "n", 0, "stop after this many handshakes instead")
	return c
}

func runBareClient(ctx context.Context, env *cliEnv, o *bareClientOptions) error {
	if o.target == "" || o.ca == "" || o.cert == "" || o.key == "" {
		return usagef("--target, --ca, --cert and --key are required")
	}
	switch {
	case o.concurrency < 1 || o.concurrency > scenarios.MaxConcurrency:
		return usagef("--concurrency %d: out of range: 1 to %d", o.concurrency, scenarios.MaxConcurrency)
	case o.duration < scenarios.MinWindow || o.duration > scenarios.MaxWindow:
		return usagef("--duration %s: out of range: %s to %s", o.duration, scenarios.MinWindow, scenarios.MaxWindow)
	case o.count < 0 || o.count > scenarios.MaxCount:
		return usagef("--count %d: out of range: 1 to %d (0: stop by --duration)", o.count, scenarios.MaxCount)
	}
	version, err := tlsparams.ParseVersion(o.version)
	if err != nil {
		return usagef("--tls: %v", err)
	}
	var groups []tls.CurveID
	for _, name := range o.groups {
		g, err := tlsparams.ParseGroup(name)
		if err != nil {
			return usagef("--groups: %v", err)
		}
		groups = append(groups, g.ID)
	}
	roots, err := pki.LoadCertPool(o.ca)
	if err != nil {
		return err
	}
	id, err := pki.LoadKeyPair(o.cert, o.key)
	if err != nil {
		return err
	}
	cfg := loadgen.BareConfig{
		Addr: o.target,
		TLS: &tls.Config{
			RootCAs: roots, ServerName: o.serverName,
			MinVersion: uint16(version), MaxVersion: uint16(version),
			CurvePreferences: groups,
		},
		Identity:    id,
		Resume:      o.resume,
		Concurrency: o.concurrency,
		Duration:    o.duration,
		Count:       o.count,
	}
	if o.count > 0 {
		cfg.Duration = 0
	}
	if o.request != "" {
		cfg.Request = []byte("GET " + o.request + " HTTP/1.0\r\n\r\n")
	}
	res, err := loadgen.RunBare(ctx, cfg)
	// The figures come first: a run cut short by an error still reports
	// what it did.
	fmt.Fprintf(env.stdout, "handshakes=%d resumed=%d seconds=%.3f rate=%.1f\n",
		res.Handshakes, res.Resumed, res.Elapsed.Seconds(), float64(res.Handshakes)/max(res.Elapsed.Seconds(), 1e-9))
	return err
}
