package results_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

// FuzzRead feeds arbitrary bytes to Read, the reader behind report,
// compare and merge. It must never panic; every error must be a
// *ReadError; a result it accepts must write and read back to the same
// bytes; and what report and merge do next with it (decode every HDR
// histogram, merge it with another shard) must return, not panic.
func FuzzRead(f *testing.F) {
	// The other shard of the seed shard below, read afresh for each input
	// so that nothing a merge does to it carries over to the next.
	var partnerJSON bytes.Buffer
	if err := results.WriteLine(&partnerJSON, resultstest.ShardRun("gen-1", 1, 2, 2, 500*time.Millisecond, 360)); err != nil {
		f.Fatal(err)
	}
	for _, run := range []*results.Run{
		resultstest.DefaultRun(),
		resultstest.ShardRun("gen-0", 0, 2, 1, 0, 300),
		resultstest.CapacityRun(),
	} {
		var buf bytes.Buffer
		if err := results.WriteLine(&buf, run); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `schema: v1`,
		`{"schema":"mtlsbench/result/v9","cases":[]}`,
		`{"cases":[]}`,
		`{"schema":"` + results.Schema + `","cases":[{"name":7}]}`,
		`{"schema":"` + results.Schema + `","cases":[null]}`,
		`{"schema":"` + results.Schema + `","cases":[{"latency":{"handshake":{"count":1,"hdr":"HISTFAAAAA=="}}}]}`,
		`{"schema":"` + results.Schema + `","start":"10000-01-01T00:00:00Z"}`,
		`{"schema":"` + results.Schema + `","scenario":{"spec":{"a":[1,2,{"b":null}]}}}`,
		`{"schema":"` + results.Schema + `","shard":{"index":0,"count":2},"run_id":"x","cases":[{"key":"k","latency":{"handshake":{"count":1,"hdr":""}}}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := results.Read(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			var re *results.ReadError
			if !errors.As(err, &re) || re.Source != "fuzz.json" || err.Error() == "" {
				t.Fatalf("error %v (%T): want a *ReadError naming the source", err, err)
			}
			return
		}
		var first bytes.Buffer
		if err := results.Write(&first, run); err != nil {
			t.Fatalf("a result Read accepted cannot be written: %v", err)
		}
		back, err := results.Read(bytes.NewReader(first.Bytes()), "written.json")
		if err != nil {
			t.Fatalf("a written result does not read back: %v\n%s", err, first.Bytes())
		}
		var second bytes.Buffer
		if err := results.Write(&second, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("write → read → write changed the result:\n%s\n---\n%s", first.Bytes(), second.Bytes())
		}
		for _, c := range run.Cases {
			l := c.Latency
			for _, s := range []*results.Summary{l.Connect, l.Handshake, l.FirstByte, l.Verify, l.Sign, l.Requests, l.Total, l.TotalUncorrected, l.ScheduleLag} {
				if s != nil {
					_, _ = s.Histogram()
				}
			}
			for _, iv := range c.Intervals {
				if iv.HDR != "" {
					_, _ = results.DecodeHDR(iv.HDR)
				}
			}
		}
		partner, err := results.Read(bytes.NewReader(partnerJSON.Bytes()), "partner.json")
		if err != nil {
			t.Fatal(err)
		}
		merged, err := results.MergeShards([]results.MergeInput{{Name: "fuzz.json", Run: run}, {Name: "partner.json", Run: partner}})
		if err != nil {
			var me *results.MergeError
			if !errors.As(err, &me) {
				t.Fatalf("merge error %v (%T): want a *MergeError", err, err)
			}
			return
		}
		if len(merged.Shards) != 2 {
			t.Fatalf("merged %d shards, want 2", len(merged.Shards))
		}
	})
}

// FuzzDecodeHDR feeds arbitrary text to DecodeHDR, which every reader of
// a result's histograms (report's plots and HDR logs, merge) goes
// through. It must never panic, and a histogram it accepts must encode
// and decode back equal.
func FuzzDecodeHDR(f *testing.F) {
	h := results.NewHistogram()
	for _, v := range []int64{1, 250, 2400, 2400, 9000, 3_600_000_000} {
		_ = h.RecordValue(v)
	}
	f.Add(results.EncodeHDR(h))
	f.Add(results.EncodeHDR(results.NewHistogram()))
	for _, c := range resultstest.DefaultRun().Cases[:2] {
		f.Add(c.Latency.Handshake.HDR)
	}
	for _, seed := range []string{"", "HISTFAAAAA==", "HISTFAAAACB4nJNpmSzMwMDAzAABMJoRTAMAC/oBAA==", "!!!", "AAAAAAAAAAAAAAAA"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := results.DecodeHDR(s)
		if err != nil {
			return
		}
		back, err := results.DecodeHDR(results.EncodeHDR(h))
		if err != nil {
			t.Fatalf("an accepted histogram does not encode and decode back: %v", err)
		}
		if !back.Equals(h) {
			t.Fatal("an accepted histogram changed in an encode and decode")
		}
	})
}
