package live

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
)

// records parses an NDJSON stream: one JSON object per line.
func records(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", len(out)+1, err, sc.Text())
		}
		out = append(out, rec)
	}
	return out
}

func TestStreamRecords(t *testing.T) {
	var buf bytes.Buffer
	s := NewStream(&buf)
	c := &Case{Name: "a", Key: "ka", N: 1, Total: 1, Params: results.Params{TLSVersion: "1.3", KeyType: "ed25519"}}
	s.CaseStart(c)
	s.Progress(c, loadgen.Progress{Phase: "measure", OK: 3}) // writes nothing
	s.Interval(c, results.Interval{OffsetS: 0, DurationS: 1, HandshakesPerS: 100, P50Us: 400, P99Us: 900, InFlight: 4})
	s.Interval(c, results.Interval{OffsetS: 1, DurationS: 1, Errors: 5})
	s.CaseEnd(c, &results.Case{Name: "a", Status: results.StatusFailed, Failure: "every handshake failed",
		Counts: results.Counts{OK: 100, Errors: 5}, Errors: map[string]int64{"unknown_ca": 5},
		SLO: &results.SLOVerdict{Objective: "errors<1%", Broken: []string{"errors 4.8% (SLO errors<1%)"}}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	recs := records(t, buf.Bytes())
	var types []string
	for _, r := range recs {
		types = append(types, r["type"].(string))
	}
	if got := strings.Join(types, " "); got != "stream case_start interval interval case_end" {
		t.Fatalf("records %s", got)
	}
	if recs[0]["schema"] != StreamSchema {
		t.Errorf("first record %v", recs[0])
	}
	if p := recs[1]["params"].(map[string]any); p["key_type"] != "ed25519" || recs[1]["case"] != "a" || recs[1]["key"] != "ka" {
		t.Errorf("case_start %v", recs[1])
	}
	if iv := recs[2]; iv["p99_us"] != 900.0 || iv["handshakes_per_s"] != 100.0 || iv["in_flight"] != 4.0 {
		t.Errorf("interval %v", iv)
	}
	// No handshake in the interval: its latencies are null, not 0.
	if iv := recs[3]; iv["p99_us"] != nil || iv["errors"] != 5.0 || iv["offset_s"] != 1.0 {
		t.Errorf("empty interval %v", iv)
	}
	end := recs[4]
	if end["status"] != "failed" || end["failure"] != "every handshake failed" || end["errors_by_class"].(map[string]any)["unknown_ca"] != 5.0 ||
		end["slo"].(map[string]any)["met"] != false {
		t.Errorf("case_end %v", end)
	}
	// Records after Close are dropped, and Close again is harmless.
	s.CaseStart(c)
	if err := s.Close(); err != nil || bytes.Count(buf.Bytes(), []byte("\n")) != 5 {
		t.Errorf("after close: %v, %d lines", err, bytes.Count(buf.Bytes(), []byte("\n")))
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestStreamReportsAWriteError(t *testing.T) {
	s := NewStream(failingWriter{})
	s.CaseStart(&Case{Name: "a"})
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close: %v, want the write's error", err)
	}
}

func TestCreateStream(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.ndjson")
	if err := os.WriteFile(path, []byte("old content that is longer than a record\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := CreateStream(path)
	if err != nil {
		t.Fatal(err)
	}
	s.CaseStart(&Case{Name: "a"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if recs := records(t, data); len(recs) != 2 || strings.Contains(string(data), "old content") {
		t.Errorf("an existing file is truncated, then written: %q", data)
	}

	// A missing directory is created.
	s, err = CreateStream(filepath.Join(dir, "new", "dir", "s.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// What is not a regular file is refused, and left as it was.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, fifo, dir, "/dev/null"} {
		s, err := CreateStream(p)
		if err == nil {
			s.Close()
			t.Errorf("%s: accepted", p)
			continue
		}
		if _, ok := errors.AsType[*outfile.PathError](err); !ok {
			t.Errorf("%s: %v, want an *outfile.PathError", p, err)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Error("the file behind the link was changed")
	}
}
