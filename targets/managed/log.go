package managed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// A server writes a connection's log line when the connection ends, a
// moment after the client closed it, and may be behind under load. So the
// log is read once it has gone unwritten for logQuiet, counted from
// the later of its last write and the start of the wait (a line for a
// connection the client just closed may not be written yet). How long to
// wait for that depends on the caller:
//
//   - Counts, a snapshot the harness may take while load runs, when the log
//     is never quiet: at most snapshotMaxWait, then the log is read
//     as it stands.
//   - CountsBetween, called after the load: until the log is quiet, at most
//     windowMaxWait (a log written for that long is fed by load that
//     has not stopped).
const (
	logQuiet        = 150 * time.Millisecond
	snapshotMaxWait = 250 * time.Millisecond
	windowMaxWait   = 30 * time.Second
	logPoll         = 25 * time.Millisecond
)

// logTail reads a log file incrementally, handing each complete new
// line to parse. Not safe for concurrent use (Server.mu serializes it).
type logTail struct {
	path   string
	parse  func(line string)
	offset int64
}

// poll parses the lines written since the last poll and returns the file's
// modification time. A missing file is an empty log.
func (t *logTail) poll() (time.Time, error) {
	f, err := os.Open(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return time.Time{}, err
	}
	if st.Size() < t.offset {
		t.offset = 0 // truncated or replaced: start over
	}
	if st.Size() == t.offset {
		return st.ModTime(), nil
	}
	data, err := io.ReadAll(io.NewSectionReader(f, t.offset, st.Size()-t.offset))
	if err != nil {
		return time.Time{}, err
	}
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return st.ModTime(), nil // only a partial line so far
	}
	for _, line := range strings.Split(string(data[:end]), "\n") {
		if line != "" {
			t.parse(line)
		}
	}
	t.offset += int64(end + 1)
	return st.ModTime(), nil
}

// settle polls tails until all of them have been quiet for logQuiet,
// counted from the latest of their last write, the start of the wait and
// notBefore, and, when openConns is not nil, until it says the server holds
// no connection any more (it logs one when it ends it: a server the
// machine starves of CPU can take longer than logQuiet to notice a close).
// It returns settled=false, having read the logs as they stand, once
// maxWait has passed since the later of the start and notBefore, and an
// error when ctx ends first.
func settle(ctx context.Context, notBefore time.Time, maxWait time.Duration, openConns func() (int, error), tails ...*logTail) (settled bool, err error) {
	start := time.Now()
	if notBefore.After(start) {
		start = notBefore
	}
	timer := time.NewTimer(logPoll)
	defer timer.Stop()
	for {
		// The connections first, then the logs: a server writes a
		// connection's line before it closes it, so once none is open, the
		// poll that follows has every line it wrote to its file itself
		// (HAProxy's lines take a way of their own: see logFlusher).
		open := 0
		if openConns != nil {
			if open, err = openConns(); err != nil {
				return false, err
			}
		}
		last := start
		for _, t := range tails {
			mtime, err := t.poll()
			if err != nil {
				return false, fmt.Errorf("read %s: %w", t.path, err)
			}
			if mtime.After(last) {
				last = mtime
			}
		}
		now := time.Now()
		if now.Sub(last) >= logQuiet && open == 0 {
			return true, nil
		}
		if now.Sub(start) >= maxWait {
			return false, nil
		}
		timer.Reset(max(min(logPoll, maxWait-now.Sub(start)), time.Millisecond))
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("waiting for the server's log: %w", ctx.Err())
		case <-timer.C:
		}
	}
}

// logRecord is what one log line says about one connection or request.
type logRecord struct {
	version string // "1.2", "1.3" or ""
	cipher  string // IANA name (OpenSSL's when tlsparams does not know it)
	resumed bool
	// verify is the server's verdict on the client certificate
	// (targets.ClientVerifySuccess or ClientVerifyNone); "" when the log
	// does not say, or without TLS.
	verify string
}

// cloneCounts copies c so a snapshot handed out is not changed by later
// counting.
func cloneCounts(c targets.Counts) targets.Counts {
	c.Versions = maps.Clone(c.Versions)
	c.Ciphers = maps.Clone(c.Ciphers)
	c.ClientVerify = maps.Clone(c.ClientVerify)
	return c
}

// parseProtocol turns OpenSSL's "TLSv1.3" into "1.3" ("" if unknown).
func parseProtocol(s string) string {
	switch s {
	case "TLSv1.2":
		return "1.2"
	case "TLSv1.3":
		return "1.3"
	}
	return ""
}

// parseCipher turns an OpenSSL cipher name into its IANA name; "" for
// none.
func parseCipher(s string) string {
	switch s {
	case "", "-", "(NONE)", "NONE":
		return ""
	}
	if su, err := tlsparams.ParseSuite(s); err == nil {
		return su.Name
	}
	return s
}

// isVerifyError reports whether OpenSSL error text is about the
// client's certificate: a chain that does not verify, or none sent.
func isVerifyError(s string) bool {
	return strings.Contains(s, "certificate verify failed") ||
		strings.Contains(s, "peer did not return a certificate")
}
