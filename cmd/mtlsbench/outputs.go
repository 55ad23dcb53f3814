package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
)

// output is a file a command will write and the flag that names it.
type output struct{ flag, path string }

// checkOutputs checks every file a command will write before it does any
// load or long work (internal/outfile.Check): a refusal is a usage error
// (exit 2) naming the flag and the path, e.g.
// "-o /tmp: is a directory; give a file name in it". A path that is empty
// (not given) or "-" (standard output) is not checked. Two flags naming
// one file are refused: the second write would replace the first.
func checkOutputs(outs ...output) error {
	seen := map[string]string{}
	for _, o := range outs {
		if o.path == "" || o.path == "-" {
			continue
		}
		if err := outfile.Check(o.path); err != nil {
			if pe, ok := errors.AsType[*outfile.PathError](err); ok {
				return &usageError{err: &outputError{flag: o.flag, err: pe}}
			}
			return &usageError{err: fmt.Errorf("%s %s: %w", o.flag, o.path, err)}
		}
		key, err := filepath.Abs(o.path)
		if err != nil {
			key = filepath.Clean(o.path)
		}
		if first, ok := seen[key]; ok {
			return usagef("%s and %s both name %s: give each its own file", first, o.flag, o.path)
		}
		seen[key] = o.flag
	}
	return nil
}

// outputDirError is the usage error (exit 2) of an output directory a
// check refused (pki.CheckSave), naming the flag, the directory and, when
// the refusal is of a file in it, that file.
func outputDirError(flag, dir string, err error) error {
	if pe, ok := errors.AsType[*outfile.PathError](err); ok {
		oe := &outputError{flag: flag, err: pe}
		if pe.Path != dir && filepath.Dir(pe.Path) == filepath.Clean(dir) {
			oe.dir = dir
		}
		return &usageError{err: oe}
	}
	return &usageError{err: fmt.Errorf("%s %s: %w", flag, dir, err)}
}

// outputError is an output path refused before any work, named by its
// flag: "-o /tmp: is a directory; ...", or, for a file in the directory
// the flag names, "--out DIR: ca-key.pem is a symbolic link ...".
type outputError struct {
	flag string
	dir  string // the flag's directory when err is of a file in it
	err  *outfile.PathError
}

func (e *outputError) Error() string {
	if e.dir != "" {
		return e.flag + " " + e.dir + ": " + filepath.Base(e.err.Path) + " " + e.err.Problem()
	}
	return e.flag + " " + e.err.Path + ": " + e.err.Problem()
}

func (e *outputError) Unwrap() error { return e.err }
