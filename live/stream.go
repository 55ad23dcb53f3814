package live

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
)

// StreamSchema names the stream's format; its first record says it.
const StreamSchema = "mtlsbench/stream/v1"

// The record types of a stream, in its "type" field.
const (
	RecordStream    = "stream"     // the first record: the schema
	RecordCaseStart = "case_start" // a case is about to run: its parameters
	RecordInterval  = "interval"   // one interval of a case's window
	RecordCaseEnd   = "case_end"   // a case's verdict and headline figures
)

// Record fields every record of a case has.
type caseFields struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	Case string    `json:"case"`
	Key  string    `json:"key"`
	// Repeat (from 0), N of Total: as in Case.
	Repeat int `json:"repeat"`
	N      int `json:"n"`
	Total  int `json:"total"`
	// Step and StepRate: a capacity search's step (intervals only).
	Step     int     `json:"step,omitempty"`
	StepRate float64 `json:"step_rate,omitempty"`
}

// StartRecord is a case_start record.
type StartRecord struct {
	caseFields
	Params results.Params `json:"params"`
}

// IntervalRecord is an interval record: the figures of one interval of a
// case's measured window, as the result's intervals have them. Latencies
// are the case's headline latency (the handshake in a closed loop, from
// the intended start in an open one), null for an interval with no
// successful handshake.
type IntervalRecord struct {
	caseFields
	OffsetS        float64 `json:"offset_s"`
	DurationS      float64 `json:"duration_s"`
	HandshakesPerS float64 `json:"handshakes_per_s"`
	P50Us          *int64  `json:"p50_us"`
	P99Us          *int64  `json:"p99_us"`
	Errors         int64   `json:"errors"`
	Resumed        int64   `json:"resumed"`
	InFlight       int64   `json:"in_flight"`
}

// EndRecord is a case_end record: the case's verdict (Status as in the
// result, Failure why; SLO against run --slo) and its headline figures.
type EndRecord struct {
	caseFields
	Status         results.Status `json:"status"`
	Failure        string         `json:"failure,omitempty"`
	DurationS      float64        `json:"duration_s"`
	HandshakesPerS float64        `json:"handshakes_per_s"`
	// HandshakeP50Us and HandshakeP99Us: the handshake's latency over
	// the window, as the table shows it (null when none succeeded).
	HandshakeP50Us *int64           `json:"handshake_p50_us"`
	HandshakeP99Us *int64           `json:"handshake_p99_us"`
	OK             int64            `json:"ok"`
	Errors         int64            `json:"errors"`
	Resumed        int64            `json:"resumed"`
	ErrorsByClass  map[string]int64 `json:"errors_by_class,omitempty"`
	// SLO: the case's verdict against run --slo, as in the result.
	SLO *results.SLOVerdict `json:"slo,omitempty"`
	// Capacity: a capacity search's answer.
	Capacity *CapacityVerdict `json:"capacity,omitempty"`
}

// CapacityVerdict is a capacity case's answer in its case_end record.
type CapacityVerdict struct {
	Verdict            string  `json:"verdict"`
	MaxSustainableRate float64 `json:"max_sustainable_rate"`
}

// Stream is a Watcher that writes one JSON object per line: a "stream"
// record first, then per case a case_start, an interval record per
// interval and a case_end. Records are written as they happen, each with
// one write (so 'tail -f' shows them), by a goroutine of the Stream's own:
// a slow reader never holds the engine's controller up. Close writes what
// is queued and stops it.
type Stream struct {
	w      io.Writer
	closer io.Closer // the file, when the stream opened it

	mu     sync.Mutex // guards queue, closed and err
	queue  [][]byte
	closed bool
	err    error
	wake   chan struct{} // a record was queued (capacity 1)
	done   chan struct{} // closed when the writer has returned
}

// NewStream starts a stream to w; Close does not close w.
func NewStream(w io.Writer) *Stream {
	s := &Stream{w: w, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.enqueue(struct {
		Type   string    `json:"type"`
		Schema string    `json:"schema"`
		Time   time.Time `json:"time"`
	}{RecordStream, StreamSchema, time.Now()})
	go s.write()
	return s
}

// CreateStream opens path for a stream, once, for the whole run: a new
// file (in a directory created if missing), or a regular file truncated. Like every output of mtlsbench it
// refuses what is not a regular file (a symbolic link, a directory, a
// device, a FIFO: internal/outfile's rules) with an *outfile.PathError,
// before any load. Unlike the others it is written in place, not
// replaced at the end: a reader follows it as it grows. Close closes it.
func CreateStream(path string) (*Stream, error) {
	if err := outfile.Check(path); err != nil {
		return nil, err
	}
	// Like the other outputs, a missing directory is created (Check
	// proved that it can be).
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("live: stream %s: %w", path, err)
	}
	// O_NOFOLLOW: never through a link planted since the check;
	// O_NONBLOCK: a FIFO planted since would otherwise block the open.
	// Nothing is truncated before it is known to be a regular file.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return nil, fmt.Errorf("live: stream %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &outfile.PathError{Path: path, Reason: "is not a regular file (" + fi.Mode().Type().String() + ")", Fix: "give the name of a file to write"}
	}
	if err == nil {
		err = f.Truncate(0)
	}
	if err != nil {
		f.Close()
		if _, ok := errors.AsType[*outfile.PathError](err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("live: stream %s: %w", path, err)
	}
	s := NewStream(f)
	s.closer = f
	return s, nil
}

func (s *Stream) enqueue(rec any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "p99<20ms", not "p99\u003c20ms": read by people too
	if err := enc.Encode(rec); err != nil {
		// Every record is of a type above: plain fields, no cycles.
		panic("live: stream record: " + err.Error())
	}
	b := buf.Bytes()
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, b)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// write is the stream's goroutine: it writes queued records in order
// until the stream is closed and its queue empty. After a failed write
// it keeps the error for Close and drops the rest.
func (s *Stream) write() {
	defer close(s.done)
	for {
		s.mu.Lock()
		batch, closed := s.queue, s.closed
		s.queue = nil
		s.mu.Unlock()
		for _, b := range batch {
			if s.err != nil {
				break
			}
			if _, err := s.w.Write(b); err != nil {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
			}
		}
		if closed {
			return
		}
		<-s.wake
	}
}

// Close writes the records queued, stops the stream's goroutine, closes
// the file it opened, and returns the first error writing or closing.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-s.done
	err := s.err
	if s.closer != nil {
		if cerr := s.closer.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("live: stream: %w", err)
	}
	return nil
}

func fields(typ string, c *Case) caseFields {
	return caseFields{Type: typ, Time: time.Now(), Case: c.Name, Key: c.Key, Repeat: c.Repeat, N: c.N, Total: c.Total, Step: c.Step, StepRate: c.StepRate}
}

// latency is a latency figure of a record: null when nothing was measured.
func latency(us int64, measured bool) *int64 {
	if !measured {
		return nil
	}
	return &us
}

func (s *Stream) CaseStart(c *Case) {
	s.enqueue(StartRecord{caseFields: fields(RecordCaseStart, c), Params: c.Params})
}

func (s *Stream) Interval(c *Case, iv results.Interval) {
	measured := iv.HandshakesPerS > 0
	s.enqueue(IntervalRecord{
		caseFields: fields(RecordInterval, c),
		OffsetS:    iv.OffsetS, DurationS: iv.DurationS, HandshakesPerS: iv.HandshakesPerS,
		P50Us: latency(iv.P50Us, measured), P99Us: latency(iv.P99Us, measured),
		Errors: iv.Errors, Resumed: iv.Resumed, InFlight: iv.InFlight,
	})
}

// Progress writes nothing: the stream is of intervals.
func (s *Stream) Progress(*Case, loadgen.Progress) {}

func (s *Stream) CaseEnd(c *Case, out *results.Case) {
	rec := EndRecord{
		caseFields: fields(RecordCaseEnd, c),
		Status:     out.Status, Failure: out.Failure, DurationS: out.DurationS, HandshakesPerS: out.HandshakesPerS,
		OK: out.Counts.OK, Errors: out.Counts.Errors, Resumed: out.Counts.Resumed,
	}
	if len(out.Errors) > 0 {
		rec.ErrorsByClass = out.Errors
	}
	if hs := out.HandshakeLatency(); hs != nil {
		rec.HandshakeP50Us, rec.HandshakeP99Us = latency(hs.P50Us, true), latency(hs.P99Us, true)
	}
	rec.SLO = out.SLO
	if cp := out.Capacity; cp != nil {
		rec.Capacity = &CapacityVerdict{Verdict: cp.Verdict, MaxSustainableRate: cp.MaxSustainableRate}
	}
	s.enqueue(rec)
}

var _ Watcher = (*Stream)(nil)
