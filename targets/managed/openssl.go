package managed

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// openssl runs `openssl s_server -www`: one process serving one
// connection at a time. In handshake mode the client sends nothing and
// s_server reads until it closes; in HTTP mode each GET gets the status page
// as HTTP/1.0, and s_server closes the connection after it.
//
// Its cross-check is OpenSSL's own session statistics, which the status
// page prints: "server accepts", "server accepts that finished" and
// "session cache hits" (every resumption, ticket or cache). The harness
// fetches the page over a connection of its own, with a client certificate
// from a throwaway CA that s_server trusts through -verifyCAfile; the
// case's CA alone goes in -CAfile, so the CA names clients see are the
// case's. With Config.CRLs, s_server checks every chain's CAs
// (-crl_check_all, as nginx and HAProxy do) against CRLs it looks up in a
// hashed directory (see opensslCRLDir). Client certificate failures come
// from stderr, where s_server
// prints OpenSSL's error for each failed handshake. s_server reports no
// per-version or per-cipher counts.
type openssl struct{}

var _ program = openssl{}

func (openssl) kind() targets.Kind    { return targets.KindOpenSSL }
func (openssl) command() string       { return "openssl" }
func (openssl) debianPackage() string { return "openssl" }
func (openssl) versionArgs() []string { return []string{"version"} }

var opensslVersionRE = regexp.MustCompile(`OpenSSL \d+\.\d+\.\d+[a-z]?`)

func (openssl) identify(text string, b *binary) {
	if m := opensslVersionRE.FindString(text); m != "" {
		b.version = m
		b.library = m
	}
}

func (openssl) capability(c *targets.Capability) {
	c.MaxWorkers = 1
	c.MaxRequestsPerConn = 1
	c.NoPlaintext = "openssl s_server speaks only TLS"
	c.NoRotate = "openssl s_server reads its certificate once, at start, and has no reload (no signal or command makes it read a new one); restarting it would drop its listener and every connection, which is not a rotation"
	c.CrossCheck = "s_server -www statistics page (accepts, accepts that finished, session cache hits) and verify errors on stderr; with early data, its connection lines on stdout (see openssl_early.go)"
	// Resumption by session ID: -no_ticket, its internal session cache
	// on. Early data: -early_data (see openssl_early.go).
	c.TLS.Features = append(c.TLS.Features, tlsparams.SessionIDResumption, tlsparams.EarlyData)
	c.TLS.Lacks = map[tlsparams.Feature]string{tlsparams.PSKKE: pskKEOpenSSL30}
}

// opensslStats is s_server's record: its statistics page, and its stderr
// for the verify failures.
type opensslStats struct {
	stderr    *logTail
	verify    int64 // verify failures seen on stderr
	probes    int64 // the harness's successful connections (ready checks, statistics)
	probeCert *tls.Certificate
}

func (openssl) configure(dir string, cfg targets.Config, addr string, bin binary) (runPlan, error) {
	s := &opensslStats{}
	files, err := writePKI(dir, cfg)
	if err != nil {
		return runPlan{}, err
	}
	probeCA, probeCert, err := probeIdentity()
	if err != nil {
		return runPlan{}, err
	}
	s.probeCert = probeCert
	verifyCAs := filepath.Join(dir, "verify-ca.pem")
	trusted := pki.EncodeCertsPEM(append(append(cfg.ClientCAs[:0:0], cfg.ClientCAs...), probeCA.Cert)...)
	if err := os.WriteFile(verifyCAs, trusted, 0o644); err != nil {
		return runPlan{}, fmt.Errorf("managed: openssl: %w", err)
	}
	args := []string{"s_server",
		"-accept", addr,
		"-cert", files.leaf, "-key", files.key,
		"-CAfile", files.clientCA, "-verifyCAfile", verifyCAs,
		"-verify_return_error", "-verify_quiet",
		"-min_protocol", versionName(cfg.MinVersion),
		"-max_protocol", versionName(cfg.MaxVersion),
		"-www",
	}
	if cfg.Auth.Mutual() {
		// Require a client certificate (-Verify; -verify would only ask).
		// Without it, one-way TLS: s_server sends no CertificateRequest.
		args = append(args, "-Verify", "8")
	}
	if files.inter != "" {
		args = append(args, "-cert_chain", files.inter)
	}
	if files.crl != "" {
		crlDir, err := opensslCRLDir(dir, bin.path, cfg, probeCA)
		if err != nil {
			return runPlan{}, err
		}
		args = append(args, "-verifyCApath", crlDir, "-crl_check_all")
	}
	if c := suiteNames(cfg.CipherSuites); c != "" {
		args = append(args, "-cipher", c)
	}
	if c := suiteNames(cfg.CipherSuitesTLS13); c != "" {
		args = append(args, "-ciphersuites", c)
	}
	if g, serverOrder := groupList(cfg); g != "" {
		args = append(args, "-groups", g)
		if serverOrder {
			args = append(args, "-serverpref")
		}
	}
	if cfg.DisableTickets {
		args = append(args, "-no_ticket", "-no_cache", "-num_tickets", "0")
	}
	if cfg.SessionIDs {
		args = append(args, "-no_ticket")
	}
	s.stderr = &logTail{path: filepath.Join(dir, "stderr.log"), parse: s.parseStderr}
	if cfg.EarlyData > 0 {
		return earlyDataPlan(dir, cfg, args, s)
	}
	return runPlan{
		args:      args,
		stop:      syscall.SIGTERM,
		logs:      []string{filepath.Join(dir, "stderr.log")},
		probeCert: probeCert,
		onProbe:   func() { s.probes++ },
		record:    s,
	}, nil
}

// opensslCRLDir writes the case's CRLs, and an empty one of the probe CA,
// into a hashed directory (openssl rehash) that s_server's verification
// store looks CRLs up in. s_server's -CRL reads one CRL only, and
// -crl_check_all (the check nginx and HAProxy make) needs one per CA of
// every chain it verifies: the case's root, its intermediate, and the
// probe CA of the harness's own connections.
func opensslCRLDir(dir, opensslPath string, cfg targets.Config, probeCA pki.Authority) (string, error) {
	probeCRL, err := probeCA.IssueCRL(pki.CRLOptions{})
	if err != nil {
		return "", fmt.Errorf("managed: openssl: %w", err)
	}
	crlDir := filepath.Join(dir, "crls")
	if err := os.Mkdir(crlDir, 0o755); err != nil {
		return "", fmt.Errorf("managed: openssl: %w", err)
	}
	for i, crl := range append(append(cfg.CRLs[:0:0], cfg.CRLs...), probeCRL) {
		if err := os.WriteFile(filepath.Join(crlDir, fmt.Sprintf("crl-%d.pem", i+1)), pki.EncodeCRLsPEM(crl), 0o644); err != nil {
			return "", fmt.Errorf("managed: openssl: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), identifyTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, opensslPath, "rehash", crlDir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("managed: openssl: openssl rehash %s: %w: %s", crlDir, err, strings.TrimSpace(string(out)))
	}
	return crlDir, nil
}

// opensslStatRE matches a statistics line of the status page.
var opensslStatRE = regexp.MustCompile(`^\s*(\d+) (server accepts \(SSL_accept\(\)\)|server accepts that finished|session cache hits)\s*$`)

func (s *opensslStats) counts(ctx context.Context, m *Server) (targets.Counts, error) {
	stats, err := s.fetchStats(ctx, m)
	if err != nil {
		return targets.Counts{}, fmt.Errorf("managed: openssl: read s_server's statistics: %w", err)
	}
	// s_server handles connections in order, so every failure before the
	// statistics request has been written to stderr by now.
	if _, err := s.stderr.poll(); err != nil {
		return targets.Counts{}, fmt.Errorf("managed: openssl: %w", err)
	}
	accepts, finished := stats["server accepts (SSL_accept())"], stats["server accepts that finished"]
	return targets.Counts{
		Handshakes:     finished - s.probes,
		Resumed:        stats["session cache hits"],
		Failed:         accepts - finished,
		VerifyFailures: s.verify,
	}, nil
}

// fetchStats GETs the status page over a connection of the harness's own
// and returns its statistics. The page is written during that connection,
// which is counted in it.
func (s *opensslStats) fetchStats(ctx context.Context, m *Server) (map[string]int64, error) {
	conn, err := dialProbe(ctx, m.addr, m.cfg, s.probeCert)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	s.probes++
	deadline := time.Now().Add(probeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		return nil, err
	}
	stats := map[string]int64{}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := opensslStatRE.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			stats[m[2]] = n
		}
	}
	if len(stats) < 3 {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("the status page had no statistics")
	}
	return stats, nil
}

// parseStderr counts client certificate failures: OpenSSL's error line for
// a chain that did not verify or a certificate that was not sent.
func (s *opensslStats) parseStderr(line string) {
	if strings.Contains(line, ":error:") && isVerifyError(line) {
		s.verify++
	}
}
