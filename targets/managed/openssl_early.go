package managed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
)

// s_server with early data (Config.EarlyData) runs without -www: OpenSSL
// 3.0 refuses -early_data with -www ("Can't use -early_data in combination
// with -www, -WWW, -HTTP, or -rev"), and only its plain mode (sv_body)
// reads early data, with SSL_read_early_data. That mode answers no request
// (bench refuses early data with requests) and has no statistics page, so
// its record is what it prints on stdout for each connection instead:
//
//   - "CIPHER is ..." once per completed handshake (print_connection_info),
//   - "Reused session-id" for each resumption (ticket or session ID),
//   - "Early data received:" for each connection whose early data it read,
//     and the early data itself, written raw to stdout.
//
// The early data is counted as the NUL bytes on stdout: mtlsbench's
// engine sends zeros, and s_server's own text has none. The raw bytes are
// written past stdout's buffer (raw_write_stdout), so they land between
// or inside its buffered text; the text is counted with them taken out.
// That mode quits at the end of standard input, so the harness holds a
// pipe open on it (runPlan.holdStdin). Verify failures still come from
// stderr, and failed handshakes too: its line "ERROR" for each. Each
// read of the counts is a connection of the harness's own that sends a
// token, which s_server echoes to stdout once it has done with every
// connection before it (as the statistics page's request does in -www
// mode).
type opensslEarly struct {
	*opensslStats
	stdout string
	offset int64 // bytes of stdout counted so far
	tally  targets.Counts
	failed int64 // "ERROR" lines on stderr: handshakes that failed
	syncs  int   // the harness's probes that asked for counts
}

// earlyDataPlan is s_server's run plan for a case with early data: args
// with -www replaced by -early_data and -max_early_data.
func earlyDataPlan(dir string, cfg targets.Config, args []string, s *opensslStats) (runPlan, error) {
	if cfg.Mode != targets.ModeHandshake {
		return runPlan{}, &targets.ConfigError{Reason: fmt.Sprintf("openssl: early data in mode %s: s_server reads early data only outside -www, where it answers no request; use handshake mode", cfg.Mode)}
	}
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "-www" })
	args = append(args, "-early_data", "-max_early_data", strconv.Itoa(cfg.EarlyData))
	e := &opensslEarly{opensslStats: s, stdout: filepath.Join(dir, "stdout.log")}
	s.stderr.parse = func(line string) {
		s.parseStderr(line)
		if line == "ERROR" { // sv_body's line for a failed handshake
			e.failed++
		}
	}
	return runPlan{
		args:      args,
		stop:      syscall.SIGTERM,
		logs:      []string{filepath.Join(dir, "stderr.log")},
		probeCert: s.probeCert,
		onProbe:   func() { s.probes++ },
		holdStdin: true,
		record:    e,
	}, nil
}

// Markers of s_server's stdout, one per connection.
var (
	earlyHandshake = []byte("CIPHER is ")
	earlyResumed   = []byte("Reused session-id")
	earlyReceived  = []byte("Early data received:")
)

func (e *opensslEarly) counts(ctx context.Context, m *Server) (targets.Counts, error) {
	// A connection of the harness's own, as the statistics page is in
	// -www mode, which sends a token s_server echoes to stdout: it serves
	// connections in order, so once the token is there, everything about
	// the connections before it is on stdout and stderr.
	e.syncs++
	token := []byte("mtlsbench-sync-" + strconv.Itoa(e.syncs) + "\n")
	conn, err := dialProbe(ctx, m.addr, m.cfg, e.probeCert)
	if err != nil {
		return targets.Counts{}, fmt.Errorf("managed: openssl: a probe connection for its counts: %w", err)
	}
	e.probes++
	_ = conn.SetDeadline(time.Now().Add(probeTimeout))
	_, err = conn.Write(token)
	conn.Close()
	if err != nil {
		return targets.Counts{}, fmt.Errorf("managed: openssl: a probe connection for its counts: %w", err)
	}
	deadline := time.Now().Add(probeTimeout)
	for seen := false; !seen; {
		if seen, err = e.read(token); err != nil {
			return targets.Counts{}, fmt.Errorf("managed: openssl: read s_server's output: %w", err)
		}
		if !seen {
			if time.Now().After(deadline) {
				return targets.Counts{}, fmt.Errorf("managed: openssl: s_server did not echo the harness's probe within %s", probeTimeout)
			}
			if err := ctx.Err(); err != nil {
				return targets.Counts{}, err
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if _, err := e.stderr.poll(); err != nil {
		return targets.Counts{}, fmt.Errorf("managed: openssl: %w", err)
	}
	c := e.tally
	c.Handshakes -= e.probes
	c.VerifyFailures, c.Failed = e.verify, e.failed
	return c, nil
}

// read counts stdout written since the last read, up to its last newline
// (s_server ends each connection's text with one; a marker is never cut),
// and reports whether token was in it.
func (e *opensslEarly) read(token []byte) (bool, error) {
	f, err := os.Open(e.stdout)
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() <= e.offset {
		return false, nil
	}
	data, err := io.ReadAll(io.NewSectionReader(f, e.offset, st.Size()-e.offset))
	if err != nil {
		return false, err
	}
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return false, nil
	}
	e.offset += int64(end + 1)
	countEarlyOutput(&e.tally, data[:end+1])
	return bytes.Contains(data[:end+1], token), nil
}

// countEarlyOutput counts one stretch of s_server's stdout into c: its
// NUL bytes are early data, the rest its text.
func countEarlyOutput(c *targets.Counts, data []byte) {
	nul := int64(bytes.Count(data, []byte{0}))
	text := data
	if nul > 0 {
		text = bytes.ReplaceAll(data, []byte{0}, nil)
	}
	c.EarlyDataBytes += nul
	c.Handshakes += int64(bytes.Count(text, earlyHandshake))
	c.Resumed += int64(bytes.Count(text, earlyResumed))
	c.EarlyData += int64(bytes.Count(text, earlyReceived))
}
