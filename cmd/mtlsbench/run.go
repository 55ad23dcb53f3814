package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/bench"
	"github.com/mtlsbench/mtlsbench/capacity"
	"github.com/mtlsbench/mtlsbench/internal/outfile"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/report"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

func init() { register(newRunCmd) }

const runLong = `Drive concurrent mTLS handshakes against a target and record latency, throughput,
bytes and CPU per handshake. With no flags: the 'quick' scenario against the
built-in target with an ephemeral PKI. Flags override the scenario; a comma list
on a TLS axis flag runs each value as its own case.

A case's window is a time (-d) or a number of handshakes (-n), not both. A flag
set to 0 is refused where 0 would only mean "the default" (-c 0, -d 0s, -n 0,
--timeout 0s, ...): leave the flag out for the default. -r and --steps take
rates as capacity does: 2000, 2000/s, 2k/s.

Flags also answer to the scenario file's names for the same setting:
--cipher, --group, --server-key, --client-key and --client-identities for
the axes spelled otherwise here, and "_" for "-" (--max_in_flight).

Exit status: 0 every case passed, 1 a case failed (every handshake failed, a
wrong negotiation, errors over --error-budget) or broke --slo, 2 bad usage or
input (before any load), 130 interrupted (the partial result is written).`

const runExamples = `  mtlsbench run                                    the 'quick' scenario, built-in target
  mtlsbench run -f key-types -d 5s -c 16           a library scenario, 16 connections, 5 s per case
  mtlsbench run --tls 1.3 --key-type rsa2048,ecdsa-p256 -r 2k/s -d 10s
                                                   an open loop at 2000 handshakes/s, two cases
  mtlsbench run --target nginx --resume none,tickets -n 5000
  mtlsbench run --target 10.0.0.5:8443 --pki ./pki --server-name api.internal
  mtlsbench run -f my.yaml -o result.json --format markdown`

func newRunCmd(env *cliEnv) *cobra.Command {
	var o runOptions
	c := &cobra.Command{
		Use:     "run [-f SCENARIO] [flags]",
		Short:   "run a benchmark scenario (default: the built-in 'quick' scenario)",
		Long:    runLong,
		Example: runExamples,
		Args:    noArgs("use -f to name a scenario"),
		RunE: func(c *cobra.Command, args []string) error {
			return runCmd(c.Context(), env, c.Flags(), &o)
		},
	}
	c.Flags().SortFlags = false
	defineRunFlags(c.Flags(), &o)
	return c
}

// runOptions are run's flags. Axis flags take comma lists: each value
// becomes its own case.
type runOptions struct {
	scenario string
	out      string
	format   string
	quiet    bool
	hdrLog   string
	profile  string

	target, ca, cert, key, serverName string
	targetPIDs                        []int
	targetCPUs, clientCPUs            string
	mode                              string
	handshakeDelay                    time.Duration
	inProcess                         bool
	rotateAt                          []time.Duration
	rotate                            string

	tls, ciphers, groups, keyShares, keyTypes, clientKeyTypes, chains, resume []string
	identities, requests                                                      []string
	auth                                                                      []string
	trustStore, crlEntries                                                    []string
	revokedClients                                                            int
	clients, earlyData, pskModes                                              []string

	concurrency                                       int
	rate                                              rateValue
	maxInFlight                                       int
	rampUp, duration, warmup, interval, hold, timeout time.Duration
	steps                                             rateListValue
	stepDuration                                      time.Duration
	count                                             int64
	repeat                                            int
	linger0, insecure, sendInvalid                    bool
	arrivals, pki, errorBudget, slo                   string
	// sloFlag: --slo is run's (addSLOFlag), not capacity's.
	sloFlag bool
	// streams: HTTP/2 requests in flight per connection (--streams).
	streams int
	// clientSigner: what signs the client certificates (--client-signer).
	clientSigner string

	shard shardOptions
	// overFDLimit runs a closed loop beyond the file-descriptor limit
	// (run only: capacity's steps are open loops).
	overFDLimit bool
	live        liveOptions
}

// runFlags is a flag set with run's flags, parsing into o.
func runFlags(env *cliEnv, o *runOptions) *pflag.FlagSet {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	defineRunFlags(fs, o)
	return fs
}

// defineRunFlags defines run's own flags on fs: every scenario flag, the
// sharding flags and --over-fd-limit.
func defineRunFlags(fs *pflag.FlagSet, o *runOptions) {
	addRunFlags(fs, o)
	addShardFlags(fs, &o.shard)
	addSLOFlag(fs, o)
	addLiveFlags(fs, &o.live)
	fs.BoolVar(&o.overFDLimit, "over-fd-limit", false, "run even when -c needs more connections at once than the file-descriptor limit allows (refused otherwise; those beyond fail as generator_limit)")
	setGroup(fs, "load", "over-fd-limit")
}

// addSLOFlag defines run's --slo (capacity has its own, of another
// meaning: what a rate must meet).
func addSLOFlag(fs *pflag.FlagSet, o *runOptions) {
	o.sloFlag = true
	fs.StringVar(&o.slo, "slo", "", "pass/fail per case: every case must meet this objective or the run exits 1, e.g. 'p99<20ms,errors<0.1%'\n("+capacity.SLOSyntax+"; achieved only in an open loop)")
	setGroup(fs, "load", "slo")
}

// axisAliases are the scenario file's names of the axis flags whose flag
// name differs ("_" is "-" on the command line): the flag also answers to
// them, and its help says so.
var axisAliases = map[string]string{
	"cipher":            "ciphers",
	"group":             "groups",
	"server-key":        "key-type",
	"client-key":        "client-key-type",
	"client-identities": "identities",
}

// scenarioFlagNames lets a flag be written as the scenario file writes its
// key: "_" as "-" (--max_in_flight is --max-in-flight) and an axis by its
// key (--server-key is --key-type).
func scenarioFlagNames(fs *pflag.FlagSet, name string) pflag.NormalizedName {
	name = strings.ReplaceAll(name, "_", "-")
	if to, ok := axisAliases[name]; ok {
		name = to
	}
	return pflag.NormalizedName(name)
}

// addRunFlags defines the flags of a scenario run on fs, parsing into o.
// Other commands that run scenarios (capacity, k8s render) take the same
// flags through it.
func addRunFlags(fs *pflag.FlagSet, o *runOptions) {
	fs.SetNormalizeFunc(scenarioFlagNames)
	fs.StringVarP(&o.scenario, "file", "f", "quick", "scenario: a library name (see 'mtlsbench scenarios list') or a YAML file")
	setGroup(fs, "scenario", "file")

	fs.StringVarP(&o.out, "out", "o", "", "result file (default results/mtlsbench-<time>.json); - writes it to standard output as one JSON line")
	fs.StringVar(&o.format, "format", "table", "what to print: table, json, markdown or csv")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print no progress and no table (the result file is still written)")
	fs.StringVar(&o.hdrLog, "hdr-log", "", "also write the HdrHistogram interval log to this file")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the generator to this file")
	setGroup(fs, "output", "out", "format", "quiet", "hdr-log", "cpuprofile")

	fs.StringVar(&o.target, "target", "", "builtin, nginx, haproxy, openssl, node, or HOST:PORT of an external server")
	fs.StringVar(&o.ca, "ca", "", "external target: CA file that signed the server's certificate")
	fs.StringVar(&o.cert, "cert", "", "external target: client certificate chain file")
	fs.StringVar(&o.key, "key", "", "external target: client private key file")
	fs.StringVar(&o.pki, "pki", "", "external target: a 'pki gen' directory: its ca.pem and every client-N identity (instead of --ca, --cert, --key)")
	fs.StringVar(&o.serverName, "server-name", "", "name to send in SNI and verify the server against")
	fs.IntSliceVar(&o.targetPIDs, "target-pid", nil, "external target running here: its PIDs, for server CPU per handshake")
	fs.StringVar(&o.targetCPUs, "target-cpus", "", "pin managed targets to these CPUs (e.g. 1 or 2-3)")
	fs.StringVar(&o.clientCPUs, "client-cpus", "", "pin the generator to these CPUs (e.g. 0)")
	fs.StringVar(&o.mode, "mode", "", "target mode: handshake, http, or http2 (HTTP/2, ALPN h2 checked; builtin, nginx, haproxy, external) (default: http when --requests > 0)")
	fs.DurationVar(&o.handshakeDelay, "handshake-delay", 0, "built-in target: delay every handshake by this much (to produce a regression on purpose)")
	fs.BoolVar(&o.inProcess, "in-process", false, "run the built-in target inside this process (its CPU then cannot be told apart)")
	fs.BoolVar(&o.sendInvalid, "send-invalid-cert", false, "external target: send client certificates that are expired or not yet valid, on purpose (refused before load otherwise)")
	setGroup(fs, "target", "target", "ca", "cert", "key", "pki", "server-name", "target-pid", "target-cpus", "client-cpus", "mode",
		"handshake-delay", "in-process", "send-invalid-cert")
	fs.DurationSliceVar(&o.rotateAt, "rotate-at", nil, "rotate the target's server certificate at these offsets into the measured window (e.g. 2s or 1s,3s): a new certificate and key under the same CA, while the load runs (builtin: atomic swap; nginx: SIGHUP reload; haproxy: runtime API; openssl is refused)")
	fs.StringVar(&o.rotate, "rotate", "", "what --rotate-at replaces: cert (default: the server certificate and key, same CA) or ca (a new CA issues them; the client trusts both CAs throughout)")
	setGroup(fs, "target", "rotate-at", "rotate")

	fs.StringSliceVar(&o.tls, "tls", nil, "TLS versions: 1.2, 1.3")
	fs.StringSliceVar(&o.ciphers, "ciphers", nil, "cipher suites (IANA or OpenSSL names); also --cipher")
	fs.StringSliceVar(&o.groups, "groups", nil, "key-exchange groups (also --group): x25519, p256, p384, p521, x25519mlkem768, secp256r1mlkem768, secp384r1mlkem1024")
	fs.StringSliceVar(&o.keyShares, "key-share", nil, "group of the client's first key share; differing from --groups measures a HelloRetryRequest")
	fs.StringSliceVar(&o.keyTypes, "key-type", nil, "server certificate key types (also --server-key): rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519")
	fs.StringSliceVar(&o.clientKeyTypes, "client-key-type", nil, "client certificate key types (default: the server's); also --client-key")
	fs.StringSliceVar(&o.chains, "chain", nil, "certificate chain: root or intermediate")
	fs.StringSliceVar(&o.identities, "identities", nil, "distinct client certificates the workers rotate through; also --client-identities")
	fs.StringSliceVar(&o.resume, "resume", nil, "none, tickets, session-id (TLS 1.2 by session ID, tickets off: --client openssl against nginx, haproxy or openssl), or a ratio such as 0.8")
	fs.StringSliceVar(&o.requests, "requests", nil, "HTTP requests per connection (0: handshake only); HTTP/2 with --mode http2")
	fs.StringSliceVar(&o.auth, "auth", nil, "who proves its identity: mutual (default: a client certificate the server verifies), server (one-way TLS), none (plain TCP to the server's plaintext listener)")
	setGroup(fs, "tls", "tls", "ciphers", "groups", "key-share", "key-type", "client-key-type", "chain", "identities", "resume", "requests")
	setGroup(fs, "tls", "auth")
	fs.StringSliceVar(&o.trustStore, "trust-store", nil, "CAs the server trusts for client certificates, 1 to 1000: the case's root and N-1 decoys, all named in its CertificateRequest")
	fs.StringSliceVar(&o.crlEntries, "crl-entries", nil, "entries of the CRL the server checks client certificates against (0: no CRL), up to 1000000")
	fs.IntVar(&o.revokedClients, "revoked-clients", 0, "revoke the last K client identities on purpose (on the CRL; needs --crl-entries >= K): their refusals count as certificate_revoked")
	setGroup(fs, "tls", "trust-store", "crl-entries", "revoked-clients")
	fs.StringSliceVar(&o.clients, "client", nil, "client TLS stacks, each its own case: go (default, Go's crypto/tls), openssl (the system's libssl, in a binary built with it)")
	fs.StringSliceVar(&o.earlyData, "early-data", nil, "bytes of TLS 1.3 early data (0-RTT) each resumed handshake sends, up to 16384 (0: none); --client openssl --tls 1.3 --resume tickets against --target openssl (s_server -early_data) in handshake mode")
	fs.StringSliceVar(&o.pskModes, "psk-mode", nil, "TLS 1.3 resumption's key exchange: dhe (default, psk_dhe_ke) or ke (psk_ke, no (EC)DHE): --client openssl against a server that picks psk_ke (an external OpenSSL 3.3+ server with SSL_OP_PREFER_NO_DHE_KEX, e.g. s_server -allow_no_dhe_kex -prefer_no_dhe_kex; no managed target picks it)")
	setGroup(fs, "tls", "client", "early-data", "psk-mode")
	fs.StringVar(&o.clientSigner, "client-signer", "", "what makes the Go client's certificate signatures: go (Go's crypto, as a Go client; the default) or openssl (OpenSSL's libcrypto: RSA-2048 costs the generator about a third; results say so)")
	setGroup(fs, "tls", "client-signer")

	fs.IntVarP(&o.concurrency, "concurrency", "c", 0, "closed loop: connections in flight (default 2 per core; 0 is refused)")
	fs.VarP(&o.rate, "rate", "r", "open loop: handshakes started per second, whatever is in flight: 2000, 2000/s or 2k/s")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 0, fmt.Sprintf("open loop: cap on connections in flight (default %d)", loadgen.DefaultMaxInFlight))
	fs.DurationVar(&o.rampUp, "ramp-up", 0, "open loop: grow the rate linearly from 0 over this time")
	fs.StringVar(&o.arrivals, "arrivals", "", "open loop: uniform (evenly spaced, the default) or poisson (exponential gaps)")
	fs.Var(&o.steps, "steps", "open loop: successive rates, e.g. 500,1000,2000 or 1k/s,2k/s")
	fs.DurationVar(&o.stepDuration, "step-duration", 0, "open loop: how long each --steps rate is held")
	fs.DurationVarP(&o.duration, "duration", "d", 0, "measured window per case (default the scenario's, else "+loadgen.DefaultDuration.String()+"); not with -n")
	fs.Int64VarP(&o.count, "count", "n", 0, "stop each case after this many handshakes instead of after -d")
	fs.DurationVar(&o.warmup, "warmup", 0, "load before the window, counted in no figure")
	fs.DurationVar(&o.interval, "interval", 0, "time-series resolution (default "+loadgen.DefaultInterval.String()+")")
	fs.DurationVar(&o.hold, "hold", 0, "keep each connection open this long after its handshake")
	fs.DurationVar(&o.timeout, "timeout", 0, "bound on connect and on handshake (default "+loadgen.DefaultTimeout.String()+")")
	fs.IntVar(&o.repeat, "repeat", 0, "run every case this many times (spread for compare)")
	fs.BoolVar(&o.linger0, "linger0", false, "close with SO_LINGER 0 (RST: no TIME_WAIT on the generator; the server sees resets)")
	fs.BoolVar(&o.insecure, "insecure-skip-verify", false, "do not verify the server's chain (cheaper than a real client; results say so)")
	fs.StringVar(&o.errorBudget, "error-budget", "", "share of a case's attempts that may fail before the case fails and the run exits 1: 1% (default), 0 (any error), 100% (never)")
	setGroup(fs, "load", "concurrency", "rate", "max-in-flight", "ramp-up", "arrivals", "steps", "step-duration", "duration", "count",
		"warmup", "interval", "hold", "timeout", "repeat", "linger0", "insecure-skip-verify", "error-budget")
	fs.IntVar(&o.streams, "streams", 0, "--mode http2: requests in flight on each connection (default 1)")
	setGroup(fs, "load", "streams")
}

func runCmd(ctx context.Context, env *cliEnv, fs *pflag.FlagSet, o *runOptions) error {
	if err := checkWindowFlags(fs); err != nil {
		return err
	}
	format, err := report.ParseFormat(o.format)
	if err != nil || (format != report.FormatTable && format != report.FormatJSON && format != report.FormatMarkdown && format != report.FormatCSV) {
		return usagef("--format %q: accepted: table, json, markdown, csv (use 'mtlsbench report' for html)", o.format)
	}
	if o.out == "-" && format != report.FormatTable {
		return usagef("--format %s with -o -: standard output carries the result (the table goes to standard error)", o.format)
	}
	spec, err := scenarios.Load(o.scenario)
	if err != nil {
		return err
	}
	if err := spec.Apply(runOverrides(fs, o)); err != nil {
		return forFlags(err, fs, spec.Source())
	}
	if err := checkInputFiles(fs); err != nil {
		return err
	}
	cases, skipped, err := scenarios.Expand(*spec)
	if err != nil {
		return forFlags(err, fs, spec.Source())
	}
	for _, s := range skipped {
		fmt.Fprintf(env.stderr, "mtlsbench: skipping %s: %s\n", s.Case.Name, s.Reason)
	}
	sh, err := sharding(fs, &o.shard, spec.Name, os.Getenv)
	if err != nil {
		return err
	}
	out := resultPath(o.out, "mtlsbench-")
	toStdout := out == "-"
	if err := checkOutputs(output{"-o", out}, output{"--hdr-log", o.hdrLog}, output{"--cpuprofile", o.profile}); err != nil {
		return err
	}
	lv, err := o.live.open(env, out, string(format)) // --metrics-addr, --stream: before any load
	if err != nil {
		return err
	}
	defer lv.close()
	env = lv.env // with --stream -, what run prints goes to standard error
	stop, err := startProfile(o.profile)
	if err != nil {
		return err
	}
	defer stop()
	bench.Version = version()
	opts := bench.Options{
		Scenario: results.Scenario{Name: spec.Name, Source: spec.Source(), Spec: bench.SpecJSON(spec)},
		Cases:    cases,
		Repeat:   spec.Repeat,
		Log:      env.stderr,
		// A partial result survives an interrupt or a crash of a later case.
		OnCase: func(run *results.Run) {
			if !toStdout {
				_ = results.WriteFile(out, run)
			}
		},
		Sharding:    sh,
		OverFDLimit: o.overFDLimit,
		Watchers:    lv.watchers,
		Width:       lv.width,
	}
	if !o.quiet {
		opts.Progress, opts.Live = env.stderr, env.stderrIsTerminal
		fmt.Fprintf(env.stderr, "mtlsbench: scenario %s: %d cases%s\n", spec.Name, len(cases), repeatNote(spec.Repeat))
	}
	run, err := bench.Run(ctx, opts)
	if err != nil {
		return err
	}
	if !toStdout {
		if err := results.WriteFile(out, run); err != nil {
			return err
		}
	}
	if o.hdrLog != "" {
		if err := report.WriteHDRLogFile(o.hdrLog, run); err != nil {
			return err
		}
	}
	switch {
	case toStdout:
		if !o.quiet {
			// The table goes where the progress went, before the result.
			if err := report.Render(env.stderr, run, report.FormatTable, report.RenderOptions{}); err != nil {
				return err
			}
		}
		// One line, written last, so a log collector (kubectl logs) finds
		// it whole among the lines on standard error.
		if err := results.WriteLine(env.stdout, run); err != nil {
			return err
		}
	default:
		if !o.quiet {
			if err := report.Render(env.stdout, run, format, report.RenderOptions{}); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.stderr, "mtlsbench: result written to %s\n", out)
	}
	return runOutcome(env, run)
}

func repeatNote(n int) string {
	if n > 1 {
		return fmt.Sprintf(" × %d repeats", n)
	}
	return ""
}

// resultPath is out, or by default results/PREFIX<time>.json.
func resultPath(out, prefix string) string {
	if out != "" {
		return out
	}
	return filepath.Join("results", prefix+time.Now().Format("20060102-150405")+".json")
}

// startProfile starts a CPU profile into path (none when path is empty);
// call stop when the work is done, which puts the file in place
// (internal/outfile: never through a link or over a special file).
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := outfile.Create(path, outfile.Options{})
	if err != nil {
		return nil, &usageError{err: fmt.Errorf("--cpuprofile: %w", err)}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Abort()
		return nil, fmt.Errorf("start CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Commit() }, nil
}

// runOutcome turns the run's own verdict into an exit code: 130 when
// interrupted, 1 when any case failed its checks.
func runOutcome(env *cliEnv, run *results.Run) error {
	if run.Interrupted {
		fmt.Fprintln(env.stderr, "mtlsbench: interrupted; the partial result is marked \"interrupted\": true")
		return &silentError{code: exitInterrupted}
	}
	var failed []string
	for _, c := range run.Cases {
		if c.Status == results.StatusFailed || c.Status == results.StatusCrosscheckFailed {
			failed = append(failed, fmt.Sprintf("  %s: %s: %s", c.Name, c.Status, c.Failure))
		}
	}
	var broke []string
	for _, c := range run.Cases {
		if c.SLO != nil && !c.SLO.Met {
			broke = append(broke, fmt.Sprintf("  %s: %s", c.Name, strings.Join(c.SLO.Broken, "; ")))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(env.stderr, "mtlsbench: %d of %d cases failed:\n%s\n", len(failed), len(run.Cases), strings.Join(failed, "\n"))
	}
	if len(broke) > 0 {
		fmt.Fprintf(env.stderr, "mtlsbench: %d of %d cases broke the SLO (--slo %s):\n%s\n", len(broke), len(run.Cases), run.Cases[0].SLO.Objective, strings.Join(broke, "\n"))
	}
	if len(failed) > 0 || len(broke) > 0 {
		return &silentError{code: exitFailed}
	}
	return nil
}

// runOverrides are the scenario overrides of every run flag the user set;
// scenarios.Spec.Apply owns what they mean.
func runOverrides(fs *pflag.FlagSet, o *runOptions) scenarios.Overrides {
	ov := scenarios.Overrides{Names: map[string]string{}}
	for _, a := range []struct {
		flag, axis string
		values     []string
	}{
		{"tls", "tls", o.tls}, {"ciphers", "cipher", o.ciphers}, {"groups", "group", o.groups},
		{"key-share", "key_share", o.keyShares}, {"key-type", "server_key", o.keyTypes},
		{"client-key-type", "client_key", o.clientKeyTypes}, {"chain", "chain", o.chains},
		{"identities", "client_identities", o.identities}, {"resume", "resume", o.resume},
		{"requests", "requests", o.requests},
		{"auth", "auth", o.auth},
		{"trust-store", "trust_store", o.trustStore}, {"crl-entries", "crl_entries", o.crlEntries},
		{"client", "client", o.clients}, {"early-data", "early_data", o.earlyData}, {"psk-mode", "psk_mode", o.pskModes},
	} {
		ov.Names["matrix."+a.axis] = "--" + a.flag
		if fs.Changed(a.flag) {
			ov.Axes = append(ov.Axes, scenarios.AxisOverride{Axis: a.axis, Values: a.values})
		}
	}
	for path, flag := range map[string]string{
		"target": "target", "repeat": "repeat",
		"load.concurrency": "concurrency", "load.rate": "rate", "load.max_in_flight": "max-in-flight",
		"load.steps": "steps", "load.count": "count", "load.ramp_up": "ramp-up", "load.step_duration": "step-duration",
		"load.duration": "duration", "load.warmup": "warmup", "load.interval": "interval", "load.hold": "hold",
		"load.timeout": "timeout", "load.arrivals": "arrivals", "load.error_budget": "error-budget", "load.slo": "slo",
		"target.handshake_delay": "handshake-delay", "target.mode": "mode", "target.server_name": "server-name",
		"target.cpus": "target-cpus", "target.client_cpus": "client-cpus",
		"target.revoked_clients": "revoked-clients",
		"load.streams":           "streams",
		"target.rotate_at":       "rotate-at",
		"target.rotate":          "rotate",
		"load.client_signer":     "client-signer",
	} {
		ov.Names[path] = "--" + flag
	}
	ov.Target = changed(fs, "target", o.target)
	ov.CA = changed(fs, "ca", o.ca)
	ov.Cert = changed(fs, "cert", o.cert)
	ov.Key = changed(fs, "key", o.key)
	ov.PKI = changed(fs, "pki", o.pki)
	ov.ServerName = changed(fs, "server-name", o.serverName)
	ov.TargetCPUs = changed(fs, "target-cpus", o.targetCPUs)
	ov.ClientCPUs = changed(fs, "client-cpus", o.clientCPUs)
	ov.Mode = changed(fs, "mode", o.mode)
	ov.PIDs = changed(fs, "target-pid", o.targetPIDs)
	ov.HandshakeDelay = changed(fs, "handshake-delay", o.handshakeDelay)
	ov.InProcess = changed(fs, "in-process", o.inProcess)
	l := &ov.Load
	l.Concurrency = changed(fs, "concurrency", o.concurrency)
	l.Rate = changed(fs, "rate", float64(o.rate))
	l.MaxInFlight = changed(fs, "max-in-flight", o.maxInFlight)
	l.Steps = changed(fs, "steps", []float64(o.steps))
	l.Count = changed(fs, "count", o.count)
	l.RampUp = changed(fs, "ramp-up", o.rampUp)
	l.StepDuration = changed(fs, "step-duration", o.stepDuration)
	l.Duration = changed(fs, "duration", o.duration)
	l.Warmup = changed(fs, "warmup", o.warmup)
	l.Interval = changed(fs, "interval", o.interval)
	l.Hold = changed(fs, "hold", o.hold)
	l.Timeout = changed(fs, "timeout", o.timeout)
	l.Linger0 = changed(fs, "linger0", o.linger0)
	l.InsecureSkipVerify = changed(fs, "insecure-skip-verify", o.insecure)
	l.Arrivals = changed(fs, "arrivals", o.arrivals)
	l.ErrorBudget = changed(fs, "error-budget", o.errorBudget)
	l.Streams = changed(fs, "streams", o.streams)
	l.ClientSigner = changed(fs, "client-signer", o.clientSigner)
	if o.sloFlag {
		l.SLO = changed(fs, "slo", o.slo)
	}
	ov.SendInvalidCert = changed(fs, "send-invalid-cert", o.sendInvalid)
	ov.RevokedClients = changed(fs, "revoked-clients", o.revokedClients)
	ov.RotateAt = changed(fs, "rotate-at", o.rotateAt)
	ov.Rotate = changed(fs, "rotate", o.rotate)
	ov.Repeat = changed(fs, "repeat", o.repeat)
	return ov
}

// changed is a pointer to v when the user set flag, else nil.
func changed[T any](fs *pflag.FlagSet, flag string, v T) *T {
	if fs.Changed(flag) {
		return &v
	}
	return nil
}
