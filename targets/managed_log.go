package targets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/tlsparams"
)

// A server writes a connection's log line when the connection ends, a
// moment after the client closed it, and may be behind under load. So a
// snapshot of a log is taken only once the log has gone unwritten for
// managedLogQuiet, counted from the later of its last write and the start
// of the snapshot (a line for a connection the client just closed may not
// be written yet). A log still growing after managedLogMaxWait is counted
// as it stands: load is still running.
const (
	managedLogQuiet   = 150 * time.Millisecond
	managedLogMaxWait = 5 * time.Second
	managedLogPoll    = 25 * time.Millisecond
)

// managedLogTail reads a log file incrementally, handing each complete new
// line to parse. Not safe for concurrent use (Managed.mu serializes it).
type managedLogTail struct {
	path   string
	parse  func(line string)
	offset int64
}

// poll parses the lines written since the last poll and returns the file's
// modification time. A missing file is an empty log.
func (t *managedLogTail) poll() (time.Time, error) {
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

// managedSettle polls tails until all of them have been quiet (see
// managedLogQuiet), the maximum wait passes or ctx ends.
func managedSettle(ctx context.Context, tails ...*managedLogTail) error {
	start := time.Now()
	timer := time.NewTimer(managedLogPoll)
	defer timer.Stop()
	for {
		last := start
		for _, t := range tails {
			mtime, err := t.poll()
			if err != nil {
				return fmt.Errorf("targets: read %s: %w", t.path, err)
			}
			if mtime.After(last) {
				last = mtime
			}
		}
		now := time.Now()
		if now.Sub(last) >= managedLogQuiet || now.Sub(start) >= managedLogMaxWait {
			return nil
		}
		timer.Reset(managedLogPoll)
		select {
		case <-ctx.Done():
			return fmt.Errorf("targets: waiting for the server's log: %w", ctx.Err())
		case <-timer.C:
		}
	}
}

// managedRecord is what one log line says about one connection or request.
type managedRecord struct {
	version string // "1.2", "1.3" or ""
	cipher  string // IANA name (OpenSSL's when tlsparams does not know it)
	resumed bool
}

// add counts a successful handshake.
func (c *Counts) managedAdd(r managedRecord) {
	c.Handshakes++
	if r.resumed {
		c.Resumed++
	}
	if r.version != "" {
		if c.Versions == nil {
			c.Versions = map[string]int64{}
		}
		c.Versions[r.version]++
	}
	if r.cipher != "" {
		if c.Ciphers == nil {
			c.Ciphers = map[string]int64{}
		}
		c.Ciphers[r.cipher]++
	}
}

// managedFail counts a failed handshake.
func (c *Counts) managedFail(verify bool) {
	c.Failed++
	if verify {
		c.VerifyFailures++
	}
}

// managedClone copies c so a snapshot handed out is not changed by later
// counting.
func (c Counts) managedClone() Counts {
	out := c
	out.Versions = managedCloneMap(c.Versions)
	out.Ciphers = managedCloneMap(c.Ciphers)
	return out
}

func managedCloneMap(m map[string]int64) map[string]int64 {
	if m == nil {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// managedProtocol turns OpenSSL's "TLSv1.3" into "1.3" ("" if unknown).
func managedProtocol(s string) string {
	switch s {
	case "TLSv1.2":
		return "1.2"
	case "TLSv1.3":
		return "1.3"
	}
	return ""
}

// managedCipher turns an OpenSSL cipher name into its IANA name; "" for
// none.
func managedCipher(s string) string {
	switch s {
	case "", "-", "(NONE)", "NONE":
		return ""
	}
	if su, err := tlsparams.ParseSuite(s); err == nil {
		return su.Name
	}
	return s
}

// managedVerifyError reports whether OpenSSL error text is about the
// client's certificate: a chain that does not verify, or none sent.
func managedVerifyError(s string) bool {
	return strings.Contains(s, "certificate verify failed") ||
		strings.Contains(s, "peer did not return a certificate")
}
