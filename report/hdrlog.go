package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mtlsbench/mtlsbench/results"
)

// This file writes the HdrHistogram interval log format (version 1.3), the
// format HdrHistogram's own HistogramLogProcessor and plotters read. Every
// histogram line is tagged with its case, so one log holds a whole run.
//
// Values are microseconds, as everywhere in a result. The log format's
// third column (Interval_Max) is written, by HdrHistogram convention, as
// the maximum divided by 1,000,000: here that is seconds. Tell the log
// processor the unit (Java: -outputValueUnitRatio 1000 for milliseconds).

// HDRLogWriter writes a run's handshake-latency histograms as an HdrHistogram
// interval log, one case at a time, so a run can append each case as it
// finishes (run --hdr-log).
type HDRLogWriter struct {
	log *hdrhistogram.HistogramLogWriter
	// baseMs is the log's base time (ms since the epoch, a whole second):
	// each line's timestamp is relative to it.
	baseMs int64
}

// NewHDRLogWriter writes the log's header to w: the format version, the
// start and base time (start truncated to the second), and the legend.
func NewHDRLogWriter(w io.Writer, start time.Time) (*HDRLogWriter, error) {
	baseMs := start.Truncate(time.Second).UnixMilli()
	lw := hdrhistogram.NewHistogramLogWriter(w)
	lw.SetBaseTime(baseMs)
	hw := &HDRLogWriter{log: lw, baseMs: baseMs}
	for _, step := range []func() error{
		func() error {
			return lw.OutputComment("[mtlsbench handshake latency; values in microseconds; Interval_Max in seconds; Tag=case name]")
		},
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputStartTime(baseMs) },
		func() error { return lw.OutputBaseTime(baseMs) },
		lw.OutputLegend,
	} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("report: hdr log: %w", err)
		}
	}
	return hw, nil
}

// HDRLogTag is the tag of a case's lines: its name with characters the log
// format forbids (commas, white space) replaced by "_", and "#N" appended
// for repeats after the first (N is the 1-based repeat).
func HDRLogTag(c *results.Case) string {
	tag := strings.Map(func(r rune) rune {
		if r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return '_'
		}
		return r
	}, c.Name)
	if tag == "" {
		tag = "case"
	}
	if c.Repeat > 0 {
		tag += "#" + strconv.Itoa(c.Repeat+1)
	}
	return tag
}

// WriteCase writes the case's interval histograms (Case.Intervals[].HDR) or,
// when it has none, one histogram for the whole window from
// Latency.Handshake.HDR. A case without either writes nothing.
func (w *HDRLogWriter) WriteCase(c *results.Case) error {
	start := c.Start
	if start.IsZero() {
		start = time.UnixMilli(w.baseMs)
	}
	tag := HDRLogTag(c)
	wrote := false
	for i, iv := range c.Intervals {
		if iv.HDR == "" {
			continue
		}
		from := start.Add(seconds(iv.OffsetS))
		if err := w.write(iv.HDR, tag, from, from.Add(seconds(iv.DurationS))); err != nil {
			return fmt.Errorf("report: hdr log: case %s interval %d: %w", c.Name, i, err)
		}
		wrote = true
	}
	if wrote || c.Latency.Handshake == nil || c.Latency.Handshake.HDR == "" {
		return nil
	}
	if err := w.write(c.Latency.Handshake.HDR, tag, start, start.Add(seconds(c.DurationS))); err != nil {
		return fmt.Errorf("report: hdr log: case %s: %w", c.Name, err)
	}
	return nil
}

func (w *HDRLogWriter) write(encoded, tag string, from, to time.Time) error {
	h, err := results.DecodeHDR(encoded)
	if err != nil {
		return err
	}
	h.SetTag(tag)
	h.SetStartTimeMs(from.UnixMilli())
	h.SetEndTimeMs(to.UnixMilli())
	return w.log.OutputIntervalHistogram(h)
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

// WriteHDRLog writes every case of run as one HdrHistogram interval log.
func WriteHDRLog(w io.Writer, run *results.Run) error {
	hw, err := NewHDRLogWriter(w, runStart(run))
	if err != nil {
		return err
	}
	for i := range run.Cases {
		if err := hw.WriteCase(&run.Cases[i]); err != nil {
			return err
		}
	}
	return nil
}

// WriteHDRLogFile writes run's HDR log to path atomically.
func WriteHDRLogFile(path string, run *results.Run) error {
	return results.WriteFileAtomic(path, func(w io.Writer) error { return WriteHDRLog(w, run) })
}

// runStart is the run's start, or its first case's when the run has none.
func runStart(run *results.Run) time.Time {
	start := run.Start
	for i := range run.Cases {
		if cs := run.Cases[i].Start; !cs.IsZero() && (start.IsZero() || cs.Before(start)) {
			start = cs
		}
	}
	return start
}
