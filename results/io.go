package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
)

// SchemaError reports a result file whose schema this version cannot read.
type SchemaError struct {
	Source string
	Got    string
}

func (e *SchemaError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("results: %s has no \"schema\" field: it is not an mtlsbench result file", e.Source)
	}
	return fmt.Sprintf("results: %s has schema %q; this mtlsbench reads %q (use the mtlsbench version that wrote it)", e.Source, e.Got, Schema)
}

// Write encodes run as indented JSON.
func Write(w io.Writer, run *Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(run); err != nil {
		return fmt.Errorf("results: encode: %w", err)
	}
	return nil
}

// WriteLine writes run as one line of compact JSON, for a stream that
// carries other lines too (a pod's log).
func WriteLine(w io.Writer, run *Run) error {
	if err := json.NewEncoder(w).Encode(run); err != nil {
		return fmt.Errorf("results: encode: %w", err)
	}
	return nil
}

// WriteFile writes run to path atomically (see WriteFileAtomic), so an
// interrupted write never leaves half a result.
func WriteFile(path string, run *Run) error {
	return WriteFileAtomic(path, func(w io.Writer) error { return Write(w, run) })
}

// WriteFileAtomic writes what write produces to path, mode 0644, through
// internal/outfile: a temporary file in the same directory (created if
// needed), renamed into place once complete, over nothing or a regular
// file only. It never writes through or replaces a symbolic link, a
// directory or a special file such as /dev/null (a *outfile.PathError
// says which). An interrupted or failed write leaves what was there
// before. Errors from write are returned as they are.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	return outfile.Write(path, outfile.Options{Mode: 0o644}, write)
}

// ReadError reports a result that could not be read: a missing file, bad
// JSON, a field of the wrong type, or (wrapped) a *SchemaError. Callers
// treat it as bad input.
type ReadError struct {
	Source string
	Err    error
}

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// Read decodes a result. Every failure is a *ReadError; an unknown schema
// version wraps a *SchemaError. source names the input in messages.
func Read(r io.Reader, source string) (*Run, error) {
	run, err := read(r, source)
	if err != nil {
		return nil, &ReadError{Source: source, Err: err}
	}
	return run, nil
}

func read(r io.Reader, source string) (*Run, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", source, err)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("results: %s is not valid JSON: %w", source, err)
	}
	if head.Schema != Schema {
		return nil, &SchemaError{Source: source, Got: head.Schema}
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("results: %s: field %q has the wrong type (%s, want %s)", source, te.Field, te.Value, te.Type)
		}
		return nil, fmt.Errorf("results: %s: %w", source, err)
	}
	return &run, nil
}

// ReadFile reads a result file; failures are *ReadError as for Read.
func ReadFile(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ReadError{Source: path, Err: fmt.Errorf("results: %w", err)}
	}
	defer f.Close()
	return Read(f, path)
}
