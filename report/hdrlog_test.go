package report

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

// TestHDRLogRoundTrip reads the log back with hdrhistogram-go's own reader:
// every interval histogram (or, for cases without intervals, the case's
// histogram) comes back with its tag, its time and its counts.
func TestHDRLogRoundTrip(t *testing.T) {
	run := resultstest.DefaultRun()
	run.Cases = append(run.Cases, run.Cases[0])
	run.Cases[len(run.Cases)-1].Repeat = 1
	var buf bytes.Buffer
	if err := WriteHDRLog(&buf, run); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		tag     string
		startMs int64
		hdr     string
	}
	var want []entry
	for i := range run.Cases {
		c := &run.Cases[i]
		if len(c.Intervals) == 0 {
			want = append(want, entry{HDRLogTag(c), c.Start.UnixMilli(), c.Latency.Handshake.HDR})
			continue
		}
		for _, iv := range c.Intervals {
			want = append(want, entry{HDRLogTag(c), c.Start.Add(seconds(iv.OffsetS)).UnixMilli(), iv.HDR})
		}
	}
	reader := hdrhistogram.NewHistogramLogReader(&buf)
	for i, w := range want {
		h, err := reader.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if h == nil {
			t.Fatalf("log ends after %d histograms, want %d", i, len(want))
		}
		if h.Tag() != w.tag {
			t.Errorf("entry %d: tag %q, want %q", i, h.Tag(), w.tag)
		}
		if h.StartTimeMs() != w.startMs {
			t.Errorf("entry %d: start %d ms, want %d", i, h.StartTimeMs(), w.startMs)
		}
		orig, err := results.DecodeHDR(w.hdr)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Equals(orig) {
			t.Errorf("entry %d (%s): histogram differs after the round trip", i, w.tag)
		}
	}
	if h, err := reader.NextIntervalHistogram(); h != nil || (err != nil && !errors.Is(err, io.EOF)) {
		t.Errorf("extra entry after the last case: %v, %v", h, err)
	}
	if want[len(want)-1].tag != "tls1.2-full-ecdsa-p256-x25519#2" {
		t.Errorf("repeat tag %q", want[len(want)-1].tag)
	}
}

func TestHDRLogTagSanitises(t *testing.T) {
	c := &results.Case{Name: "odd name,with comma", Repeat: 2}
	if got := HDRLogTag(c); got != "odd_name_with_comma#3" {
		t.Errorf("tag %q", got)
	}
}
