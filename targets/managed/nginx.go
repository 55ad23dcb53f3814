package managed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// nginx runs nginx. Handshake mode uses a stream{} server (TLS
// terminated, `return ""`), whose access log has one line per connection,
// failed handshakes included; HTTP mode an http{} server answering 200,
// whose access log has one line per request (a connection's first request,
// $connection_requests = 1, stands for its handshake) and whose error log,
// at level info, has the handshakes that failed. Every access log line
// carries its connection's accept time to the millisecond; the error log's
// lines the second they were written (see window.go).
//
// nginx checks the client certificate after the TLS handshake: its OpenSSL
// verify callback accepts every chain and nginx refuses the connection
// afterwards (400 in HTTP mode, a close in handshake mode), logging
// $ssl_client_verify = FAILED:reason or NONE. A client therefore sees a
// completed handshake; the cross-check counts it as a verify failure.
// Config.ClientCAs go into ssl_client_certificate, whose names nginx sends
// in its CertificateRequest; Config.CRLs into ssl_crl (nginx checks every
// CA of the chain against them).
type nginx struct{}

var _ program = nginx{}

func (nginx) kind() targets.Kind    { return targets.KindNginx }
func (nginx) command() string       { return "nginx" }
func (nginx) debianPackage() string { return "nginx" }
func (nginx) versionArgs() []string { return []string{"-V"} }

var (
	nginxVersionRE = regexp.MustCompile(`nginx version: (\S+)`)
	nginxRunningRE = regexp.MustCompile(`running with (OpenSSL \d+\.\d+\.\d+[a-z]?)`)
	nginxBuiltRE   = regexp.MustCompile(`built with (\S+ \d+\.\d+\.\d+[a-z]?)`)
	nginxModulesRE = regexp.MustCompile(`--modules-path=(\S+)`)
	nginxPrefixRE  = regexp.MustCompile(`--prefix=(\S+)`)
)

// nginxBuild is how nginx was built, as `nginx -V` says (binary.build).
type nginxBuild struct {
	// stream is how the stream module is built: "static", "dynamic" or ""
	// for absent; modules is where dynamic modules live.
	stream  string
	modules string
}

func (nginx) identify(text string, b *binary) {
	if m := nginxVersionRE.FindStringSubmatch(text); m != nil {
		b.version = m[1]
	}
	if m := nginxRunningRE.FindStringSubmatch(text); m != nil {
		b.library = m[1]
	} else if m := nginxBuiltRE.FindStringSubmatch(text); m != nil {
		b.library = m[1]
	}
	var build nginxBuild
	switch {
	case strings.Contains(text, "--with-stream=dynamic"):
		build.stream = "dynamic"
	case strings.Contains(text, "--with-stream "), strings.HasSuffix(strings.TrimSpace(text), "--with-stream"):
		build.stream = "static"
	}
	if m := nginxModulesRE.FindStringSubmatch(text); m != nil {
		build.modules = m[1]
	} else if m := nginxPrefixRE.FindStringSubmatch(text); m != nil {
		build.modules = filepath.Join(m[1], "modules")
	} else {
		build.modules = "/usr/lib/nginx/modules"
	}
	b.build = build
}

func (nginx) capability(c *targets.Capability) {
	c.Modes = append(c.Modes, targets.ModeHTTP2)
	c.RecordsRequestsOnly = true
	c.ClientVerifyInHandshake = false
	c.Plaintext = true
	c.Rotate = true
	// Resumption by session ID: ssl_session_tickets off and the shared
	// session cache on; $ssl_session_reused says "r" for it as for a
	// ticket, so the log's resumed count cross-checks it.
	c.TLS.Features = append(c.TLS.Features, tlsparams.SessionIDResumption)
	c.TLS.Lacks = map[tlsparams.Feature]string{tlsparams.EarlyData: earlyDataAsRequest("nginx"), tlsparams.PSKKE: pskKEOpenSSL30}
	c.CrossCheck = "access log, timed at accept: stream{} per connection (handshake mode), http{} per request (http mode); error log for TLS failures in http mode"
}

// nginxLog is nginx's record: its access log, and in HTTP mode its error
// log.
type nginxLog struct {
	http   bool
	auth   tlsparams.Auth // what a served connection's verify status must be
	tally  logTally       // what the logs said so far
	access *logTail
	errors *logTail // HTTP mode only
}

// nginxLogFormat is the access log line, the same in both contexts but for
// AGE and CONN_REQUESTS. MSEC ($msec) is when the line was written and AGE
// the connection's age then ($session_time in stream{}, $connection_time in
// http{}, nginx 1.19.10 or later), both in seconds to the millisecond:
// MSEC - AGE is when nginx accepted the connection. The verify status goes
// last because it contains spaces ("FAILED:unable to verify the first
// certificate").
//
//	mtlsbench/2 MSEC AGE STATUS CONN_REQUESTS PROTOCOL CIPHER REUSED SNI VERIFY...
const (
	nginxLogFormat = `mtlsbench/2 $msec %s $status %s $ssl_protocol $ssl_cipher $ssl_session_reused $ssl_server_name $ssl_client_verify`
	nginxLogTag    = "mtlsbench/2"
)

// nginxLogFormatH2 is the access log line in HTTP/2 mode: nginxLogFormat
// with the request's protocol ($server_protocol, "HTTP/2.0") after
// CONN_REQUESTS, so that the cross-check counts the requests nginx
// answered over HTTP/2.
//
//	mtlsbench/3 MSEC AGE STATUS CONN_REQUESTS HTTP_PROTOCOL PROTOCOL CIPHER REUSED SNI VERIFY...
const (
	nginxLogFormatH2 = `mtlsbench/3 $msec $connection_time $status $connection_requests $server_protocol $ssl_protocol $ssl_cipher $ssl_session_reused $ssl_server_name $ssl_client_verify`
	nginxLogTagH2    = "mtlsbench/3"
)

var nginxConfTemplate = template.Must(template.New("nginx.conf").Parse(`# Written by mtlsbench for one case; removed when the target stops.
{{if .LoadStream}}load_module {{.LoadStream}};
{{end -}}
daemon off;
master_process on;
worker_processes {{.Workers}};
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log {{.ErrorLevel}};

events {
    worker_connections {{.WorkerConnections}};
}

{{if .HTTP}}http{{else}}stream{{end}} {
    log_format mtlsbench '{{.LogFormat}}';
    access_log {{.Dir}}/access.log mtlsbench;
{{- if .HTTP}}
    default_type text/plain;
    server_tokens off;
    keepalive_requests 1000000;
    client_header_timeout {{.HandshakeTimeout}};
    client_body_temp_path {{.Dir}}/tmp/body;
    proxy_temp_path {{.Dir}}/tmp/proxy;
    fastcgi_temp_path {{.Dir}}/tmp/fastcgi;
    uwsgi_temp_path {{.Dir}}/tmp/uwsgi;
    scgi_temp_path {{.Dir}}/tmp/scgi;
{{- end}}

    server {
{{- if not .TLS}}
        listen {{.Listen}};
{{- else}}
        listen {{.Listen}} ssl{{if .HTTP2Listen}} http2{{end}};
{{- if .HTTP2On}}
        http2 on;
{{- end}}
        ssl_certificate {{.Chain}};
        ssl_certificate_key {{.Key}};
{{- if .Mutual}}
        ssl_client_certificate {{.ClientCA}};
        ssl_verify_client on;
        ssl_verify_depth 8;
{{- if .CRL}}
        ssl_crl {{.CRL}};
{{- end}}
{{- else}}
        ssl_verify_client off;
{{- end}}
        ssl_protocols {{.Protocols}};
{{- if .Ciphers}}
        ssl_ciphers {{.Ciphers}};
{{- end}}
{{- if .Ciphersuites}}
        ssl_conf_command Ciphersuites {{.Ciphersuites}};
{{- end}}
{{- if .Curves}}
        ssl_ecdh_curve {{.Curves}};
{{- end}}
{{- if .ServerOrder}}
        ssl_prefer_server_ciphers on;
{{- end}}
{{- if .Tickets}}
        ssl_session_tickets on;
        ssl_session_cache shared:mtlsbench:16m;
{{- else if .SessionIDs}}
        ssl_session_tickets off;
        ssl_session_cache shared:mtlsbench:16m;
{{- else}}
        ssl_session_tickets off;
        ssl_session_cache off;
        ssl_conf_command NumTickets 0;
{{- end}}
{{- end}}
{{- if .HTTP}}

        location / {
            return 200 "ok\n";
        }
{{- else}}
{{- if .TLS}}
        ssl_handshake_timeout {{.HandshakeTimeout}};
{{- end}}
        return "";
{{- end}}
    }
}
`))

func (nginx) configure(dir string, cfg targets.Config, addr string, bin binary) (runPlan, error) {
	h2 := cfg.Mode == targets.ModeHTTP2
	s := &nginxLog{http: cfg.Mode == targets.ModeHTTP || h2, auth: cfg.Auth}
	files, err := writePKI(dir, cfg)
	if err != nil {
		return runPlan{}, err
	}
	loadStream := ""
	if !s.http {
		build, _ := bin.build.(nginxBuild)
		switch build.stream {
		case "static":
		case "dynamic":
			loadStream = filepath.Join(build.modules, "ngx_stream_module.so")
			if _, err := os.Stat(loadStream); err != nil {
				return runPlan{}, fmt.Errorf("managed: nginx: handshake mode needs the stream module, and %s is missing: install the Debian package libnginx-mod-stream", loadStream)
			}
		default:
			return runPlan{}, fmt.Errorf("managed: nginx: handshake mode needs the stream module, which %s was built without (install the Debian package nginx with libnginx-mod-stream)", bin.path)
		}
	}
	protocols := versionName(cfg.MinVersion)
	if cfg.MaxVersion != cfg.MinVersion {
		protocols += " " + versionName(cfg.MaxVersion)
	}
	curves, serverOrder := groupList(cfg)
	age, connRequests := "$session_time", "1"
	level := "notice"
	if s.http {
		if !nginxVersionAtLeast(bin.version, 1, 19, 10) {
			return runPlan{}, &targets.UnsupportedError{Kind: targets.KindNginx, What: "http mode",
				Reason: bin.version + " lacks $connection_time (nginx 1.19.10 or later), which dates each request's connection in the cross-check; handshake mode works"}
		}
		age, connRequests = "$connection_time", "$connection_requests"
		level = "info" // where nginx logs a failed handshake in http{}
	}
	logFormat := fmt.Sprintf(nginxLogFormat, age, connRequests)
	if h2 {
		logFormat = nginxLogFormatH2
	}
	// nginx 1.25.1 made HTTP/2 a server directive (`http2 on`) and
	// deprecated the listen parameter, which older versions need.
	http2On := h2 && nginxVersionAtLeast(bin.version, 1, 25, 1)
	data := map[string]any{
		"HTTP2Listen":       h2 && !http2On,
		"HTTP2On":           http2On,
		"LoadStream":        loadStream,
		"Workers":           cfg.Workers,
		"Dir":               dir,
		"ErrorLevel":        level,
		"WorkerConnections": nginxWorkerConnections(),
		"HTTP":              s.http,
		"LogFormat":         logFormat,
		"Listen":            addr,
		"Chain":             files.chain,
		"Key":               files.key,
		"ClientCA":          files.clientCA,
		"CRL":               files.crl,
		"Protocols":         protocols,
		"Ciphers":           suiteNames(cfg.CipherSuites),
		"Ciphersuites":      suiteNames(cfg.CipherSuitesTLS13),
		"Curves":            curves,
		"ServerOrder":       serverOrder,
		"Tickets":           !cfg.DisableTickets && !cfg.SessionIDs,
		"SessionIDs":        cfg.SessionIDs,
		"HandshakeTimeout":  nginxDuration(cfg.HandshakeTimeout),
		"TLS":               cfg.Auth.TLS(),
		"Mutual":            cfg.Auth.Mutual(),
	}
	var conf strings.Builder
	if err := nginxConfTemplate.Execute(&conf, data); err != nil {
		return runPlan{}, fmt.Errorf("managed: nginx: write config: %w", err)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		return runPlan{}, fmt.Errorf("managed: nginx: %w", err)
	}
	if s.http {
		if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
			return runPlan{}, fmt.Errorf("managed: nginx: %w", err)
		}
	}
	s.access = &logTail{path: filepath.Join(dir, "access.log"), parse: s.parseAccess}
	s.errors = &logTail{path: filepath.Join(dir, "error.log"), parse: s.parseError}
	return runPlan{
		// -e: errors before the config is read go here too, not to the
		// compiled-in /var/log/nginx/error.log.
		args: []string{"-p", dir + "/", "-c", confPath, "-e", filepath.Join(dir, "error.log")},
		// SIGTERM is nginx's fast shutdown: the master stops its workers
		// and exits after them.
		stop:   syscall.SIGTERM,
		logs:   []string{filepath.Join(dir, "stderr.log"), filepath.Join(dir, "error.log")},
		quote:  nginxQuote,
		record: s,
		// SIGHUP is nginx's graceful reload: the master reads the
		// configuration and the certificate files again, starts new
		// workers with them and lets the old ones finish their
		// connections.
		reload: &reloader{files: files, signal: syscall.SIGHUP, stopped: nginxWorkerStopped},
	}, nil
}

// nginxWorkerStopped says whether an nginx worker from before a reload
// has stopped accepting: it has exited, or retitled itself "worker
// process is shutting down", which it does as it closes its listening
// sockets.
func nginxWorkerStopped(pid int) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err != nil || bytes.Contains(cmdline, []byte("shutting down"))
}

// nginxQuote keeps what explains a failure: lines at level warn and above,
// failed handshakes, and anything that is not an error log line (stderr).
func nginxQuote(line string) bool {
	for _, chatty := range []string{"[notice]", "[info]", "[debug]"} {
		if strings.Contains(line, chatty) {
			return strings.Contains(line, "SSL")
		}
	}
	return true
}

// nginxWorkerConnections leaves each worker most of the open-file limit.
func nginxWorkerConnections() int {
	var lim unix.Rlimit
	n := 4096
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil && lim.Cur > 0 {
		n = int(min(lim.Cur, 1<<20)) - 64
	}
	return max(512, min(n, 65536))
}

// nginxDuration writes d in nginx's time syntax (milliseconds).
func nginxDuration(d time.Duration) string {
	return strconv.FormatInt(max(d.Milliseconds(), 1), 10) + "ms"
}

// nginxVersionAtLeast reports whether version ("nginx/1.22.1") is at least
// major.minor.patch; a version it cannot read passes (nginx itself then
// says what it lacks).
func nginxVersionAtLeast(version string, major, minor, patch int) bool {
	_, v, _ := strings.Cut(version, "/")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) != 3 {
		return true
	}
	var got [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return true
		}
		got[i] = n
	}
	want := [3]int{major, minor, patch}
	for i := range got {
		if got[i] != want[i] {
			return got[i] > want[i]
		}
	}
	return true
}

func (s *nginxLog) tails() []*logTail {
	if s.http {
		return []*logTail{s.access, s.errors}
	}
	return []*logTail{s.access}
}

func (s *nginxLog) counts(ctx context.Context, m *Server) (targets.Counts, error) {
	return logCounts(ctx, m.kind, &s.tally, s.tails()...)
}

func (s *nginxLog) logs() (*logTally, []*logTail) {
	return &s.tally, s.tails()
}

// parseAccess counts one access log line (see nginxLogFormat).
func (s *nginxLog) parseAccess(line string) {
	var f []string
	httpProtocol := ""
	if strings.HasPrefix(line, nginxLogTagH2+" ") {
		// The HTTP/2 line: take HTTP_PROTOCOL out, and it is the other.
		f = strings.SplitN(line, " ", 11)
		if len(f) < 11 {
			return
		}
		httpProtocol = f[5]
		f = append(f[:5], f[6:]...)
	} else {
		f = strings.SplitN(line, " ", 10)
	}
	if len(f) < 10 || (f[0] != nginxLogTag && f[0] != nginxLogTagH2) || f[8] == probeSNI {
		return
	}
	at := nginxAcceptTime(f[1], f[2])
	status, connRequests, verify := f[3], f[4], f[9]
	rec := logRecord{version: parseProtocol(f[5]), cipher: parseCipher(f[6]), resumed: f[7] == "r"}
	// verified: nginx served the connection as the case's auth says it
	// must (with ssl_verify_client on it refuses one whose verify status is
	// not SUCCESS; with it off, every status is NONE unless nginx was
	// configured otherwise, which the cross-check then shows).
	verified := verify == targets.ClientVerifySuccess
	switch s.auth {
	case tlsparams.AuthServer:
		verified = verify == targets.ClientVerifyNone || verify == targets.ClientVerifySuccess
		rec.verify = verify
	case tlsparams.AuthNone:
		verified = true // no TLS: the status (and, in http{}, the request) decides
	default:
		rec.verify = verify
	}
	var request eventFlags
	if s.http && verified && status == "200" {
		request = flagRequest
		if httpProtocol == "HTTP/2.0" {
			request |= flagHTTP2
		}
	}
	var k eventKind
	switch {
	case s.http && connRequests != "1":
		// A later request on a connection already counted.
		k.flags = request
	case verified && (s.http || status == "200"):
		k = handshakeKind(rec)
		k.flags |= request
	case rec.cipher != "" && (strings.HasPrefix(verify, "FAILED") || verify == "NONE"):
		// The handshake completed and nginx refused the certificate.
		k = failKind(true)
	default:
		k = failKind(false)
	}
	if k.flags != 0 {
		s.tally.add(at, k, line)
	}
}

// nginxAcceptTime is MSEC - AGE (see nginxLogFormat).
func nginxAcceptTime(msec, age string) acceptTime {
	written, ok1 := parseMillis(msec)
	d, ok2 := parseMillis(age)
	if !ok1 || !ok2 || d > written {
		return acceptTime{}
	}
	return acceptTime{ms: written - d, ok: true}
}

// nginxErrorTimeLayout is how nginx's error log dates a line, in local
// time, to the second.
const nginxErrorTimeLayout = "2006/01/02 15:04:05"

// parseError counts handshakes nginx logged as failed in http{} (where
// they never reach the access log). The line's time, to the second, is
// when the handshake failed: close to the accept, within the handshake
// timeout.
func (s *nginxLog) parseError(line string) {
	if !strings.Contains(line, "while SSL handshaking") {
		return
	}
	var at acceptTime
	if len(line) >= len(nginxErrorTimeLayout) {
		if t, err := time.ParseInLocation(nginxErrorTimeLayout, line[:len(nginxErrorTimeLayout)], time.Local); err == nil {
			at = acceptTime{ms: t.UnixMilli(), coarse: true, ok: true}
		}
	}
	s.tally.add(at, failKind(isVerifyError(line)), line)
}
