package managed

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/targets"
)

// Counting over a time window, for the servers whose log has a time on
// every record (nginx and HAProxy).
//
// A record is anchored at the accept time of its connection, not at the
// time it was written: a server writes a connection's line when the
// connection ends, so a connection held open for 30 s is logged 30 s after
// it was accepted, and a request line is written when the request ends.
// Each record therefore carries the accept time (nginx: $msec minus
// $session_time or $connection_time; HAProxy: the date at accept, kept in a
// session variable), in milliseconds. A record counts in [from, to) when
// its millisecond is in [from, to) truncated to milliseconds: a record in
// the millisecond of `from` is in, one in the millisecond of `to` is out,
// so adjacent windows share every record out exactly once. An empty window
// (to not after from) holds nothing.
//
// nginx's error log, where http{} mode finds the handshakes that failed,
// has times to the second only, and they are when the failure was logged
// (within the handshake timeout of the accept). Such a record counts when
// its second overlaps the window, i.e. in [from, to) rounded outwards to
// whole seconds: a failure up to a second outside the window may be
// counted in it.

// eventFlags say what one log record counts.
type eventFlags uint8

const (
	// flagHandshake is a successful handshake (a verified client).
	flagHandshake eventFlags = 1 << iota
	// flagResumed marks a flagHandshake that was a resumption.
	flagResumed
	// flagRequest is an HTTP request answered 200 to a verified client.
	flagRequest
	// flagFailed is a failed handshake, flagVerifyFailed one that
	// failed on the client's certificate.
	flagFailed
	flagVerifyFailed
	// flagCoarse marks a time known to the second only.
	flagCoarse
	// flagHTTP2 marks a flagRequest answered over HTTP/2.
	flagHTTP2
)

// eventKind is what a record counts; a case has only a few kinds.
type eventKind struct {
	flags   eventFlags
	version string // "1.2", "1.3" or ""
	cipher  string // IANA name, or OpenSSL's; "" for none
	verify  string // the client certificate's verdict (logRecord.verify)
}

// handshakeKind is the kind of a successful handshake's record.
func handshakeKind(r logRecord) eventKind {
	k := eventKind{flags: flagHandshake, version: r.version, cipher: r.cipher, verify: r.verify}
	if r.resumed {
		k.flags |= flagResumed
	}
	return k
}

// failKind is the kind of a failed handshake's record.
func failKind(verify bool) eventKind {
	k := eventKind{flags: flagFailed}
	if verify {
		k.flags |= flagVerifyFailed
	}
	return k
}

// event is one record, 8 bytes: a million handshakes cost 8 MB.
type event struct {
	at   int32  // accept time, milliseconds after logTally.base
	kind uint32 // index into logTally.kinds
}

// acceptTime is when a record's connection was accepted.
type acceptTime struct {
	ms     int64 // Unix milliseconds; for a coarse time, its second's start
	coarse bool  // known to the second only
	ok     bool  // false: the record had no usable time
}

// logTally is what a log-based server recorded: the running counts
// (Counts) and every record with its connection's accept time
// (CountsBetween). Server.mu guards it.
type logTally struct {
	seen   targets.Counts
	base   int64 // Unix ms the events' times are relative to (the first's)
	events []event
	kinds  []eventKind
	kindOf map[eventKind]uint32
	// undated counts records without a usable time, which no window can
	// hold; undatedExample is the first of them.
	undated        int64
	undatedExample string
}

// add counts one record of kind k for a connection accepted at `at`. line
// is quoted if the record has no time.
func (t *logTally) add(at acceptTime, k eventKind, line string) {
	if at.coarse {
		k.flags |= flagCoarse
	}
	k.apply(&t.seen, 1)
	if !at.ok {
		t.undatedRecord(line)
		return
	}
	if len(t.events) == 0 {
		t.base = at.ms
	}
	d := at.ms - t.base
	if d < math.MinInt32 || d > math.MaxInt32 {
		t.undatedRecord(line) // 24 days from the first record: not a time of this run
		return
	}
	i, ok := t.kindOf[k]
	if !ok {
		if t.kindOf == nil {
			t.kindOf = map[eventKind]uint32{}
		}
		i = uint32(len(t.kinds))
		t.kinds = append(t.kinds, k)
		t.kindOf[k] = i
	}
	t.events = append(t.events, event{at: int32(d), kind: i})
}

func (t *logTally) undatedRecord(line string) {
	t.undated++
	if t.undatedExample == "" {
		t.undatedExample = line
	}
}

// apply adds n records of kind k to c.
func (k eventKind) apply(c *targets.Counts, n int64) {
	if k.flags&flagHandshake != 0 {
		c.Handshakes += n
		if k.flags&flagResumed != 0 {
			c.Resumed += n
		}
		if k.version != "" {
			addCount(&c.Versions, k.version, n)
		}
		if k.cipher != "" {
			addCount(&c.Ciphers, k.cipher, n)
		}
		if k.verify != "" {
			addCount(&c.ClientVerify, k.verify, n)
		}
	}
	if k.flags&flagRequest != 0 {
		c.Requests += n
		if k.flags&flagHTTP2 != 0 {
			c.HTTP2Requests += n
		}
	}
	if k.flags&flagFailed != 0 {
		c.Failed += n
		if k.flags&flagVerifyFailed != 0 {
			c.VerifyFailures += n
		}
	}
}

// addCount adds n to (*m)[k], making the map if needed.
func addCount(m *map[string]int64, k string, n int64) {
	if *m == nil {
		*m = map[string]int64{}
	}
	(*m)[k] += n
}

// between counts the records of connections accepted in [from, to) (see
// the top of this file for the rounding).
func (t *logTally) between(from, to time.Time) targets.Counts {
	if !from.Before(to) {
		return targets.Counts{}
	}
	lo, hi := from.UnixMilli(), to.UnixMilli()
	// The whole seconds the window overlaps, from its exact edges.
	loSecond := floorSecond(lo)
	hiSecond := floorSecond(hi)
	if to.After(time.UnixMilli(hiSecond)) {
		hiSecond += 1000
	}
	n := make([]int64, len(t.kinds))
	for _, e := range t.events {
		at := t.base + int64(e.at)
		if t.kinds[e.kind].flags&flagCoarse != 0 {
			if at >= loSecond && at < hiSecond {
				n[e.kind]++
			}
		} else if at >= lo && at < hi {
			n[e.kind]++
		}
	}
	var c targets.Counts
	for i, k := range t.kinds {
		if n[i] > 0 {
			k.apply(&c, n[i])
		}
	}
	return c
}

// floorSecond rounds Unix milliseconds down to a whole second.
func floorSecond(ms int64) int64 {
	s := ms / 1000
	if ms < 0 && ms%1000 != 0 {
		s--
	}
	return s * 1000
}

// parseMillis reads a non-negative decimal number of seconds with at
// most three decimals, as nginx writes $msec ("1795495778.856") and
// $session_time ("0.301"), as milliseconds.
func parseMillis(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 3 || !allDigits(whole) || !allDigits(frac) || len(whole) > 12 {
		return 0, false
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	ms := int64(0)
	for i := range 3 {
		ms *= 10
		if i < len(frac) {
			ms += int64(frac[i] - '0')
		}
	}
	return sec*1000 + ms, true
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LoggedServer is a managed server whose record is a log with a time on
// every line: nginx and HAProxy. Besides the snapshot Counts of every
// Server it implements targets.WindowCounter, which is what a harness
// should use under load.
type LoggedServer struct {
	*Server
}

var (
	_ targets.WindowCounter = (*LoggedServer)(nil)
	_ Target                = (*LoggedServer)(nil)
)

// CountsBetween returns what the server logged for the connections it
// accepted in [from, to) (wall-clock times: the server runs on this
// machine's clock). Records are anchored at their connection's accept time
// to the millisecond; nginx's failed handshakes in http{} mode, logged to
// the second, count if their second overlaps the window (see
// window.go). Probes of the harness are left out.
//
// A server logs a connection when it ends, so CountsBetween first waits
// until `to` has passed, the server holds no connection on its address and
// the log has then been quiet for 150 ms: call it after the load has
// stopped and its connections have closed. A server whose lines reach the
// file by a way of their own (HAProxy: a logFlusher) is then flushed. The
// wait is bounded by ctx and by 30 s; a log still being written then gives
// an error. So does a record without a usable time, which no window could
// hold.
func (m *LoggedServer) CountsBetween(ctx context.Context, from, to time.Time) (targets.Counts, error) {
	if to.Before(from) {
		return targets.Counts{}, fmt.Errorf("managed: %s: counts between %s and %s: the window ends before it starts",
			m.kind, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return targets.Counts{}, fmt.Errorf("managed: %s: counts: %w", m.kind, errClosed)
	}
	tally, tails := m.plan.record.(logRecorder).logs()
	settled, err := settle(ctx, to, windowMaxWait, m.openConnections(), tails...)
	if err != nil {
		return targets.Counts{}, fmt.Errorf("managed: %s: %w", m.kind, err)
	}
	if !settled {
		return targets.Counts{}, fmt.Errorf("managed: %s: the server's log was still being written %s after the window ended: count after the load has stopped",
			m.kind, windowMaxWait)
	}
	if f, ok := m.plan.record.(logFlusher); ok {
		if err := f.flush(ctx, windowMaxWait); err != nil {
			return targets.Counts{}, fmt.Errorf("managed: %s: %w", m.kind, err)
		}
	}
	if tally.undated > 0 {
		return targets.Counts{}, fmt.Errorf("managed: %s: %d log records have no usable accept time, so no window can hold them; the first: %q",
			m.kind, tally.undated, clip(tally.undatedExample))
	}
	return tally.between(from, to), nil
}

// openConnections counts the connections the server still holds on its
// listening address (see procstat.OpenConnections); nil when the address
// is not an IP and port, and the log's quiet is all there is to go by.
func (m *LoggedServer) openConnections() func() (int, error) {
	local, err := netip.ParseAddrPort(m.addr)
	if err != nil {
		return nil
	}
	return func() (int, error) { return procstat.OpenConnections(local) }
}

// logCounts is Counts for a log-based server: the tally after a
// short settle (see snapshotMaxWait), never blocking for long.
func logCounts(ctx context.Context, kind targets.Kind, t *logTally, tails ...*logTail) (targets.Counts, error) {
	if _, err := settle(ctx, time.Time{}, snapshotMaxWait, nil, tails...); err != nil {
		return targets.Counts{}, fmt.Errorf("managed: %s: %w", kind, err)
	}
	return cloneCounts(t.seen), nil
}

// clip shortens a quoted log line.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
