package managed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// haproxy runs HAProxy in the foreground (-db), one process with
// Config.Workers threads. It logs into a ring that a collector in the
// harness empties into a file (see haproxy_log.go): with several threads,
// `log stdout` drops lines.
//
// Handshake mode is a tcp frontend that holds each connection until the
// client closes it (an inspect-delay rule waiting for the end of input) and
// logs one line per connection; HTTP mode an http frontend answering 200
// (`http-request return`), one line per request, where a session variable
// marks a connection's first request. Failed handshakes are logged with
// error-log-format, including the certificate verify error. Every line
// carries its connection's accept time to the millisecond. Config.ClientCAs
// are the bind's ca-file (whose names HAProxy sends in its
// CertificateRequest), Config.CRLs its crl-file.
type haproxy struct{}

var _ program = haproxy{}

func (haproxy) kind() targets.Kind    { return targets.KindHAProxy }
func (haproxy) command() string       { return "haproxy" }
func (haproxy) debianPackage() string { return "haproxy" }
func (haproxy) versionArgs() []string { return []string{"-vv"} }

var (
	haproxyVersionRE = regexp.MustCompile(`(?m)^HA-?Proxy version (\S+)`)
	haproxyRunningRE = regexp.MustCompile(`Running on OpenSSL version : (OpenSSL \d+\.\d+\.\d+[a-z]?)`)
)

func (haproxy) identify(text string, b *binary) {
	if m := haproxyVersionRE.FindStringSubmatch(text); m != nil {
		b.version = "HAProxy " + m[1]
	}
	if m := haproxyRunningRE.FindStringSubmatch(text); m != nil {
		b.library = m[1]
	}
}

func (haproxy) capability(c *targets.Capability) {
	c.Plaintext = true
	c.Rotate = true
	c.Modes = append(c.Modes, targets.ModeHTTP2)
	// Resumption by session ID: no-tls-tickets, and its session cache
	// (tune.ssl.cachesize) stays on.
	c.TLS.Features = append(c.TLS.Features, tlsparams.SessionIDResumption)
	c.TLS.Lacks = map[tlsparams.Feature]string{tlsparams.EarlyData: earlyDataAsRequest("HAProxy"), tlsparams.PSKKE: pskKEOpenSSL30}
	c.CrossCheck = "log (a ring buffer mtlsbench drains), timed at accept: one line per connection (tcp mode) or request (http mode), error-log-format lines for failed handshakes"
}

// haproxyLog is HAProxy's record: the log its collector writes.
type haproxyLog struct {
	http      bool
	tls       bool     // false: a plaintext listener, no client verdict to count
	tally     logTally // what the log said so far
	log       *logTail
	collector *haproxyCollector
	// markSocket is the Unix socket of the mark frontend (see flush);
	// marks counts the mark lines read from the log so far, sent those
	// flush asked for.
	markSocket  string
	marks, sent int64
}

// haproxyLogFormat and haproxyErrorFormat are the log lines:
//
//	mtlsbench/2 ok  ACCEPTED SNI PROTOCOL CIPHER RESUMED VERIFY FIRST STATUS CERT
//	mtlsbench/2 err ACCEPTED SNI PROTOCOL CIPHER RESUMED FC_ERR C_ERR CA_ERR SSL_ERR_STR...
//
// ACCEPTED is when HAProxy accepted the connection, in Unix milliseconds:
// the date taken by a `tcp-request connection` rule, which runs at accept
// (before the handshake), into a session variable. Not %Ts/%ms: in HTTP
// mode HAProxy resets that "accept date" for each later request on a
// connection to the end of the previous one. FIRST is 1 on a connection's
// first request (always 1 in tcp mode); STATUS the HTTP status (-1 in tcp
// mode); CERT is ssl_c_used, 1 when the session has a client certificate
// (resumed ones too), 0 when it has none.
const (
	haproxyLogFormat   = `mtlsbench/2 ok %%[var(sess.mtlsbench_accepted)] %%[ssl_fc_sni] %%[ssl_fc_protocol] %%[ssl_fc_cipher] %%[ssl_fc_is_resumed] %%[ssl_c_verify] %s %%ST %%[ssl_c_used]`
	haproxyErrorFormat = `mtlsbench/2 err %[var(sess.mtlsbench_accepted)] %[ssl_fc_sni] %[ssl_fc_protocol] %[ssl_fc_cipher] %[ssl_fc_is_resumed] %[fc_err] %[ssl_c_err] %[ssl_c_ca_err] %[ssl_fc_err_str]`
	haproxyLogTag      = "mtlsbench/2"
	// haproxyMarkFormat is the line of a connection to the mark frontend.
	haproxyMarkFormat = "mtlsbench/2 mark"
	// haproxyLogH2Suffix ends an ok line in HTTP/2 mode with the request's
	// HTTP version (%HV: "HTTP/2.0"), so that the cross-check counts the
	// requests HAProxy answered over HTTP/2.
	haproxyLogH2Suffix = ` %HV`
)

var haproxyConfTemplate = template.Must(template.New("haproxy.cfg").Parse(`# Written by mtlsbench for one case; removed when the target stops.
global
    log ring@mtlsbench format raw local0 info
    nbthread {{.Workers}}
    tune.ssl.cachesize {{if .Cache}}20000{{else}}0{{end}}
{{- if .TLS}}
    stats socket {{.AdminSocket}} mode 600 level admin
{{- end}}

ring mtlsbench
    format raw
    maxlen 2048
    size {{.RingSize}}
    timeout connect 5s
    timeout server 24h
    server collector {{.Collector}} log-proto legacy

defaults
    log global
    timeout connect 5s
    timeout client {{.HandshakeTimeout}}
    timeout server 5s
    timeout http-request {{.HandshakeTimeout}}
    timeout http-keep-alive {{.HandshakeTimeout}}

frontend mtlsbench
    mode {{if .HTTP}}http{{else}}tcp{{end}}
    bind {{.Bind}}{{if .TLS}} ssl crt {{.Crt}}{{if .Mutual}} ca-file {{.ClientCA}}{{if .CRL}} crl-file {{.CRL}}{{end}} verify required{{else}} verify none{{end}}{{if .ALPN}} alpn h2{{end}} ssl-min-ver {{.MinVersion}} ssl-max-ver {{.MaxVersion}}{{if .Ciphers}} ciphers {{.Ciphers}}{{end}}{{if .Ciphersuites}} ciphersuites {{.Ciphersuites}}{{end}}{{if .Curves}} curves {{.Curves}}{{end}}{{if not .Tickets}} no-tls-tickets{{end}}{{end}}
    log-format "{{.LogFormat}}"
    error-log-format "{{.ErrorFormat}}"
    tcp-request connection set-var(sess.mtlsbench_accepted) date(0,ms)
{{- if .HTTP}}
    tcp-request session set-var(sess.mtlsbench_first) int(1)
    http-request set-var(txn.mtlsbench_first) var(sess.mtlsbench_first)
    http-request unset-var(sess.mtlsbench_first)
    http-request return status 200 content-type text/plain string "ok\n"
{{- else}}
    # Hold the connection, answering nothing, until the client closes it
    # (or stays idle for the client timeout); then log it.
    tcp-request inspect-delay {{.HandshakeTimeout}}
    tcp-request content reject if WAIT_END
{{- end}}

# The harness's marks: a connection here is refused and logged, through the
# same ring, after every line logged before it.
frontend mtlsbench-mark
    mode tcp
    bind unix@{{.MarkSocket}} mode 600
    log-format "{{.MarkFormat}}"
    tcp-request content reject
`))

func (haproxy) configure(dir string, cfg targets.Config, addr string, _ binary) (plan runPlan, err error) {
	h2 := cfg.Mode == targets.ModeHTTP2
	s := &haproxyLog{http: cfg.Mode == targets.ModeHTTP || h2, tls: cfg.Auth.TLS(), markSocket: filepath.Join(dir, "mark.sock")}
	logPath := filepath.Join(dir, "haproxy.log")
	s.collector, err = startHAProxyCollector(logPath)
	if err != nil {
		return runPlan{}, fmt.Errorf("managed: haproxy: %w", err)
	}
	defer func() {
		if err != nil {
			s.collector.close()
		}
	}()
	files, err := writePKI(dir, cfg)
	if err != nil {
		return runPlan{}, err
	}
	// HAProxy reads the chain and the key from one file.
	crt := filepath.Join(dir, "server-crt.pem")
	chain, err := os.ReadFile(files.chain)
	if err != nil {
		return runPlan{}, fmt.Errorf("managed: haproxy: %w", err)
	}
	key, err := os.ReadFile(files.key)
	if err != nil {
		return runPlan{}, fmt.Errorf("managed: haproxy: %w", err)
	}
	if err := os.WriteFile(crt, append(chain, key...), 0o600); err != nil {
		return runPlan{}, fmt.Errorf("managed: haproxy: %w", err)
	}
	host, port, _ := net.SplitHostPort(addr)
	bind := addr
	if strings.Contains(host, ":") {
		bind = "ipv6@" + host + ":" + port
	}
	first := "1"
	if s.http {
		first = "%[var(txn.mtlsbench_first)]"
	}
	logFormat := fmt.Sprintf(haproxyLogFormat, first)
	if h2 {
		logFormat += haproxyLogH2Suffix
	}
	// HAProxy chooses ciphers and groups in its own order by default (see
	// groupList).
	curves, _ := groupList(cfg)
	data := map[string]any{
		"Workers":          cfg.Workers,
		"Tickets":          !cfg.DisableTickets && !cfg.SessionIDs,
		"Cache":            !cfg.DisableTickets,
		"HandshakeTimeout": strconv.FormatInt(max(cfg.HandshakeTimeout.Milliseconds(), 1), 10) + "ms",
		"HTTP":             s.http,
		"Bind":             bind,
		"Crt":              crt,
		"AdminSocket":      filepath.Join(dir, "admin.sock"),
		"ClientCA":         files.clientCA,
		"CRL":              files.crl,
		"MinVersion":       versionName(cfg.MinVersion),
		"MaxVersion":       versionName(cfg.MaxVersion),
		"Ciphers":          suiteNames(cfg.CipherSuites),
		"Ciphersuites":     suiteNames(cfg.CipherSuitesTLS13),
		"Curves":           curves,
		"LogFormat":        logFormat,
		"ALPN":             h2,
		"ErrorFormat":      haproxyErrorFormat,
		"RingSize":         haproxyRingSize,
		"Collector":        s.collector.addr(),
		"MarkSocket":       s.markSocket,
		"MarkFormat":       haproxyMarkFormat,
		"TLS":              cfg.Auth.TLS(),
		"Mutual":           cfg.Auth.Mutual(),
	}
	var conf strings.Builder
	if err := haproxyConfTemplate.Execute(&conf, data); err != nil {
		return runPlan{}, fmt.Errorf("managed: haproxy: write config: %w", err)
	}
	confPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		return runPlan{}, fmt.Errorf("managed: haproxy: %w", err)
	}
	s.log = &logTail{path: logPath, parse: s.parse}
	return runPlan{
		args: []string{"-db", "-f", confPath},
		// SIGTERM stops HAProxy at once (SIGUSR1 would wait for clients).
		stop:    syscall.SIGTERM,
		logs:    []string{filepath.Join(dir, "stderr.log")},
		release: s.collector.close,
		record:  s,
		// A certificate rotation goes through the runtime API, as
		// HAProxy's operators rotate certificates: 'set ssl cert' and
		// 'commit ssl cert' swap it in the running process, no reload
		// (a master-worker reload, -W and SIGUSR2, would start a new
		// process with new session-ticket keys and leave the old one
		// serving its connections).
		reload: &reloader{files: files, runtime: haproxyRuntimeRotate(filepath.Join(dir, "admin.sock"), crt)},
	}, nil
}

// haproxyRuntimeRotate returns how a rotation reaches HAProxy: the crt
// file rewritten (so that a restart would serve what the process serves),
// then, on its admin socket, 'set ssl cert' with the new chain and key and
// 'commit ssl cert', one command per connection.
func haproxyRuntimeRotate(socket, crt string) func(ctx context.Context, cfg targets.Config) error {
	return func(ctx context.Context, cfg targets.Config) error {
		keyPEM, err := pki.EncodeKeyPEM(cfg.Identity.Key, pki.PKCS8)
		if err != nil {
			return fmt.Errorf("managed: haproxy: rotate: %w", err)
		}
		bundle := append(pki.EncodeCertsPEM(cfg.Identity.Chain...), keyPEM...)
		tmp := crt + ".new"
		if err := os.WriteFile(tmp, bundle, 0o600); err != nil {
			return fmt.Errorf("managed: haproxy: rotate: %w", err)
		}
		if err := os.Rename(tmp, crt); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("managed: haproxy: rotate: %w", err)
		}
		payload := strings.TrimRight(string(bundle), "\n")
		out, err := haproxyCommand(ctx, socket, "set ssl cert "+crt+" <<\n"+payload+"\n\n")
		if err != nil || !strings.Contains(out, "Transaction") {
			return fmt.Errorf("managed: haproxy: rotate: set ssl cert: %q %v", strings.TrimSpace(out), err)
		}
		out, err = haproxyCommand(ctx, socket, "commit ssl cert "+crt+"\n")
		if err != nil || !strings.Contains(out, "Success!") {
			return fmt.Errorf("managed: haproxy: rotate: commit ssl cert: %q %v", strings.TrimSpace(out), err)
		}
		return nil
	}
}

// haproxyCommand sends one command to HAProxy's admin socket and returns
// its whole answer (HAProxy closes the connection after it).
func haproxyCommand(ctx context.Context, socket, cmd string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", err
	}
	out, err := io.ReadAll(conn)
	return string(out), err
}

func (s *haproxyLog) counts(ctx context.Context, m *Server) (targets.Counts, error) {
	// A snapshot, perhaps under load or of a server that has died: the
	// lines still on their way are waited for briefly, then the log is read
	// as it stands (reading it again reports what flush could not do).
	_ = s.flush(ctx, snapshotMaxWait)
	return logCounts(ctx, m.kind, &s.tally, s.log)
}

// flush returns once every line HAProxy logged before it was called is in
// the log file, read. A line leaves HAProxy through its ring and the ring's
// forwarder, after the connection it records has closed and perhaps after
// the file has been quiet for a while (a busy machine): no connection open
// and a quiet file do not mean every line is in. So flush connects to the
// mark frontend, whose line HAProxy logs into the same ring after every
// line logged before, and reads the log until that mark is in: errFlushTimeout
// if it is not within maxWait.
func (s *haproxyLog) flush(ctx context.Context, maxWait time.Duration) error {
	if s.markSocket == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", s.markSocket)
	if err != nil {
		return fmt.Errorf("mark the log: %w", err)
	}
	conn.Close()
	s.sent++
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return errFlushTimeout
			}
			return fmt.Errorf("waiting for the log's mark: %w", ctx.Err())
		case <-timer.C:
		}
		if _, err := s.log.poll(); err != nil {
			return fmt.Errorf("read %s: %w", s.log.path, err)
		}
		if s.marks >= s.sent {
			return nil
		}
		timer.Reset(logPoll / 5)
	}
}

// errFlushTimeout is flush's error when its mark did not arrive in time.
var errFlushTimeout = errors.New("the log did not reach the harness's mark in time: HAProxy's log is behind, or its ring's forwarder is stuck")

func (s *haproxyLog) logs() (*logTally, []*logTail) {
	return &s.tally, []*logTail{s.log}
}

// parse counts one log line (see haproxyLogFormat).
func (s *haproxyLog) parse(line string) {
	if line == haproxyMarkFormat {
		s.marks++
		return
	}
	f := strings.SplitN(line, " ", 11)
	if len(f) < 9 || f[0] != haproxyLogTag || f[3] == probeSNI {
		return
	}
	at := haproxyAcceptTime(f[2])
	rec := logRecord{version: parseProtocol(f[4]), cipher: parseCipher(f[5]), resumed: f[6] == "1"}
	var k eventKind
	switch f[1] {
	case "ok":
		// An ok line has no free text: CERT at 10, the HTTP version at 11.
		f = strings.Split(line, " ")
		if s.tls && len(f) > 10 {
			switch f[10] {
			case "1":
				rec.verify = targets.ClientVerifySuccess
			case "0":
				rec.verify = targets.ClientVerifyNone
			}
		}
		if f[8] == "1" {
			k = handshakeKind(rec)
		}
		if s.http && len(f) > 9 && f[9] == "200" {
			k.flags |= flagRequest
			if len(f) > 11 && f[11] == "HTTP/2.0" {
				k.flags |= flagHTTP2
			}
		}
	case "err":
		if len(f) < 10 {
			return
		}
		if f[7] == "0" && rec.cipher != "" {
			// No connection error: the handshake completed and the client
			// left without a request (HTTP mode logs such a connection
			// here).
			k = handshakeKind(rec)
			break
		}
		errText := ""
		if len(f) == 11 {
			errText = f[10]
		}
		k = failKind((f[8] != "0" && f[8] != "-") || (f[9] != "0" && f[9] != "-") || isVerifyError(errText))
	}
	if k.flags != 0 {
		s.tally.add(at, k, line)
	}
}

// haproxyAcceptTime reads ACCEPTED (see haproxyLogFormat).
func haproxyAcceptTime(s string) acceptTime {
	if !allDigits(s) || s == "" || len(s) > 15 {
		return acceptTime{}
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return acceptTime{}
	}
	return acceptTime{ms: ms, ok: true}
}
