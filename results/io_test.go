package results_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

func TestWriteReadRoundTrip(t *testing.T) {
	run := resultstest.DefaultRun()
	path := filepath.Join(t.TempDir(), "sub", "result.json")
	if err := results.WriteFile(path, run); err != nil {
		t.Fatal(err)
	}
	back, err := results.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The encoder indents the embedded scenario spec; compare it compacted.
	for _, r := range []*results.Run{run, back} {
		var buf bytes.Buffer
		if err := json.Compact(&buf, r.Scenario.Spec); err != nil {
			t.Fatal(err)
		}
		r.Scenario.Spec = buf.Bytes()
	}
	if !reflect.DeepEqual(run, back) {
		t.Errorf("result read back differs from the one written")
	}
	var first, second bytes.Buffer
	if err := results.Write(&first, run); err != nil {
		t.Fatal(err)
	}
	if err := results.Write(&second, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("writing the read-back result gives different bytes")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
}

func TestReadRejects(t *testing.T) {
	for _, tc := range []struct {
		name, input, want string
		schema            bool
	}{
		{"unknown schema", `{"schema":"mtlsbench/result/v9","cases":[]}`, `schema "mtlsbench/result/v9"`, true},
		{"no schema", `{"cases":[]}`, "not an mtlsbench result", true},
		{"not JSON", `schema: v1`, "not valid JSON", false},
		{"wrong type", `{"schema":"mtlsbench/result/v1","cases":[{"name":7}]}`, `field "cases.name" has the wrong type`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := results.Read(strings.NewReader(tc.input), "in.json")
			var re *results.ReadError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a *ReadError containing %q", err, tc.want)
			}
			var se *results.SchemaError
			if errors.As(err, &se) != tc.schema {
				t.Errorf("errors.As(*SchemaError) = %v, want %v", !tc.schema, tc.schema)
			}
		})
	}
	_, err := results.ReadFile(filepath.Join(t.TempDir(), "missing.json"))
	var re *results.ReadError
	if !errors.As(err, &re) {
		t.Errorf("missing file: err = %v, want *ReadError", err)
	}
}

// A result file replaces only a regular file: never a symbolic link (nor
// what it points to) or a device, whatever wrote the path (run -o,
// report, compare, merge all come here).
func TestWriteFileReplacesOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "r.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// A reader held open: a writer opening the FIFO by mistake fails the
	// test instead of blocking it.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	run := resultstest.DefaultRun()
	for _, path := range []string{link, fifo} {
		err := results.WriteFile(path, run)
		var pe *outfile.PathError
		if !errors.As(err, &pe) || pe.Path != path {
			t.Errorf("WriteFile(%s) = %v, want a *outfile.PathError naming it", filepath.Base(path), err)
		}
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced")
	}
	if data, _ := os.ReadFile(target); string(data) != "keep" {
		t.Errorf("written through the link: %q", data)
	}
}

// A histogram of another geometry is refused before it is decoded: a
// short string naming a wide range made the decoder allocate tens of
// megabytes.
func TestDecodeHDRRefusesOtherGeometry(t *testing.T) {
	wide := hdrhistogram.New(1, 1<<50, 5)
	wide.RecordValue(42)
	s := results.EncodeHDR(wide)
	if _, err := results.DecodeHDR(s); err == nil || !strings.Contains(err.Error(), "significant digits") {
		t.Fatalf("a %d-byte histogram of 1–2^50 at 5 digits: %v", len(s), err)
	}
	h := results.NewHistogram()
	h.RecordValue(42)
	if back, err := results.DecodeHDR(results.EncodeHDR(h)); err != nil || back.TotalCount() != 1 {
		t.Fatalf("the shared geometry: %v", err)
	}
}
