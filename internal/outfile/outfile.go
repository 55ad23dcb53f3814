// Package outfile owns where mtlsbench may write. It checks an output path
// before any work (Check, CheckDir), and writes files (Write, WriteFile,
// Create) under these rules:
//
//   - Only a regular file is written or replaced: never a directory, a
//     symbolic link (neither through it nor the link itself), a device, a
//     FIFO or a socket.
//   - A file is written whole to a new temporary file in the target's
//     directory (created O_CREATE|O_EXCL, so never through a link), then
//     renamed into place: an interrupted or failed write leaves what was
//     there before.
//   - The rename cannot replace what was planted after the last look:
//     with nothing at the path it is RENAME_NOREPLACE, which fails if
//     anything appeared; over a regular file it is RENAME_EXCHANGE followed
//     by a look at what came out, which is put back unless it is a regular
//     file. A file that must not exist yet (Options.NoReplace: a private
//     key without --force) is only ever created by RENAME_NOREPLACE: the
//     semantics of O_CREATE|O_EXCL|O_NOFOLLOW, written whole.
//   - The file has exactly the mode asked for (0644 unless told, 0600 for
//     private keys), whatever the umask and whatever a replaced file had.
//
// Only the last component of a path is held to these rules: a directory
// reached through a symbolic link is written in like any other.
package outfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// PathError is an output path mtlsbench will not write, or found it could
// not write when it looked: Reason says what is there, Fix what to give
// instead. Err is the underlying error when there is one (fs.ErrExist for
// a file where none may be, a syscall.Errno for a directory that cannot be
// written).
type PathError struct {
	Path   string
	Reason string
	Fix    string
	Err    error
}

func (e *PathError) Error() string { return "outfile: " + e.Path + ": " + e.Problem() }

// Problem is the message without the package and the path, for a caller
// that names the path its own way (a flag and its value).
func (e *PathError) Problem() string {
	if e.Fix == "" {
		return e.Reason
	}
	return e.Reason + "; " + e.Fix
}

func (e *PathError) Unwrap() error { return e.Err }

// Options say how a file is written.
type Options struct {
	// Mode is the file's permission bits, exactly. Zero means 0644.
	Mode fs.FileMode
	// NoReplace refuses a path where anything exists, also when it
	// appears while the file is being written (O_EXCL semantics). Zero
	// (false) replaces an existing regular file.
	NoReplace bool
}

func (o Options) mode() fs.FileMode {
	if o.Mode == 0 {
		return 0o644
	}
	return o.Mode.Perm()
}

// Check reports whether path can be written as an output file, without
// writing it: it is not empty and does not name a directory; nothing is
// there or a regular file (which will be replaced); and files can be
// created in its directory, or, when the directory does not exist yet, in
// the nearest one above it that does (the rest is created on write). It
// proves the last by creating and removing a temporary file there. "-"
// (standard output, which callers write themselves) is not checked. Every
// refusal is a *PathError.
func Check(path string) error {
	if path == "-" {
		return nil
	}
	if err := checkName(path); err != nil {
		return err
	}
	fi, err := os.Lstat(path)
	switch {
	case err == nil:
		if err := notRegular(path, fi); err != nil {
			return err
		}
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		// Nothing there, or a file where a directory should be, which the
		// directory check names.
	default:
		return &PathError{Path: path, Reason: "cannot be looked at: " + cause(err), Fix: "give a path you can reach", Err: err}
	}
	return writableDir(path, filepath.Dir(path))
}

// CheckDir reports whether files can be created in dir, an output
// directory: it is a directory (possibly reached through a symbolic link)
// where files can be created, or it does not exist and can be created.
// Refusals are *PathError.
func CheckDir(dir string) error {
	if dir == "" {
		return &PathError{Path: dir, Reason: "is empty", Fix: "give a directory"}
	}
	return writableDir(dir, dir)
}

// checkName refuses a path that cannot name a file whatever is there.
func checkName(path string) error {
	if path == "" {
		return &PathError{Path: path, Reason: "is empty", Fix: "give a file name, or - for standard output"}
	}
	if base := filepath.Base(path); strings.HasSuffix(path, "/") || base == "." || base == ".." || base == "/" {
		return &PathError{Path: path, Reason: "names a directory", Fix: "give a file name"}
	}
	return nil
}

// notRegular is a *PathError saying what is at path when fi (path's
// Lstat) is not a regular file, else nil.
func notRegular(path string, fi fs.FileInfo) error {
	const onlyRegular = "mtlsbench writes only regular files: give a file name"
	m := fi.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return &PathError{Path: path, Reason: "is a directory", Fix: "give a file name in it"}
	case m&fs.ModeSymlink != 0:
		return symlinkError(path)
	case m&fs.ModeCharDevice != 0:
		return &PathError{Path: path, Reason: "is a character device", Fix: onlyRegular}
	case m&fs.ModeDevice != 0:
		return &PathError{Path: path, Reason: "is a block device", Fix: onlyRegular}
	case m&fs.ModeNamedPipe != 0:
		return &PathError{Path: path, Reason: "is a named pipe (FIFO)", Fix: onlyRegular}
	case m&fs.ModeSocket != 0:
		return &PathError{Path: path, Reason: "is a socket", Fix: onlyRegular}
	default:
		return &PathError{Path: path, Reason: fmt.Sprintf("is not a regular file (mode %v)", m), Fix: onlyRegular}
	}
}

// symlinkError says where the link at path points and what to give
// instead: "-" for a link to standard output or error (/dev/stdout), the
// file it points to otherwise.
func symlinkError(path string) error {
	to, _ := os.Readlink(path)
	reason := "is a symbolic link"
	if to != "" {
		reason += " to " + to
	}
	abs, _ := filepath.Abs(path)
	resolved, err := filepath.EvalSymlinks(path)
	switch {
	case isStdStream(abs) || isStdStream(to) || isStdStream(resolved):
		return &PathError{Path: path, Reason: reason, Fix: "use - for standard output"}
	case err == nil:
		return &PathError{Path: path, Reason: reason, Fix: "mtlsbench never writes through or replaces a link: give the file it points to (" + resolved + ") or another name"}
	default:
		return &PathError{Path: path, Reason: reason, Fix: "mtlsbench never writes through or replaces a link: give another name"}
	}
}

// isStdStream reports whether p names a process's standard stream or file
// descriptor (/dev/stdout, /dev/fd/1, /proc/self/fd/1, pipe:[…] ...).
func isStdStream(p string) bool {
	switch p {
	case "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty":
		return true
	}
	return strings.HasPrefix(p, "/dev/fd/") || strings.HasPrefix(p, "/proc/self/fd/") ||
		strings.HasPrefix(p, "/dev/pts/") || strings.HasPrefix(p, "pipe:[") ||
		(strings.HasPrefix(p, "/proc/") && strings.Contains(p, "/fd/"))
}

// writableDir checks that files can be created in dir, or, when dir does
// not exist, in the nearest directory above it that does. path is the
// output path named in refusals.
func writableDir(path, dir string) error {
	for d := dir; ; {
		fi, err := os.Stat(d)
		switch {
		case err == nil && !fi.IsDir() && d == path:
			return &PathError{Path: path, Reason: "is not a directory", Fix: "give a directory"}
		case err == nil && !fi.IsDir():
			return &PathError{Path: path, Reason: d + " is not a directory", Fix: "give a path inside a directory"}
		case err == nil:
			return probe(path, d)
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			if _, lerr := os.Lstat(d); lerr == nil {
				// A link to nothing where a directory would be created.
				return &PathError{Path: path, Reason: d + " is a symbolic link to a missing directory", Fix: "create its target or give another directory", Err: err}
			}
		default:
			return &PathError{Path: path, Reason: "cannot look at " + d + ": " + cause(err), Fix: "give a path you can reach", Err: err}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return &PathError{Path: path, Reason: "no directory of it exists", Fix: "give a path inside a directory", Err: fs.ErrNotExist}
		}
		d = parent
	}
}

// probe creates and removes a temporary file in dir, proving what a
// permission bit cannot (a read-only file system, a full one, root).
func probe(path, dir string) error {
	f, err := os.CreateTemp(dir, ".mtlsbench-check-*")
	if err != nil {
		return &PathError{Path: path, Reason: "cannot create files in " + dir + ": " + cause(err), Fix: "choose a directory you can write to", Err: err}
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// cause is err's innermost message ("permission denied"), without the
// operation and path os errors repeat.
func cause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// File is an output file being written: a temporary file in its
// directory until Commit puts it in place. Abort, or a failed Commit,
// removes it. It is not safe for concurrent use.
type File struct {
	tmp  *os.File
	path string
	opts Options
	done bool
}

// Create starts writing path: it refuses at once what Check refuses at
// path itself (a directory, a link, a special file; with
// Options.NoReplace, anything), creates path's directory if needed (0755)
// and a temporary file there (0600 until Commit).
func Create(path string, opts Options) (*File, error) {
	if err := checkName(path); err != nil {
		return nil, err
	}
	fi, err := os.Lstat(path)
	switch {
	case err == nil:
		if err := notRegular(path, fi); err != nil {
			return nil, err
		}
		if opts.NoReplace {
			return nil, existsError(path)
		}
	case errors.Is(err, syscall.ENOTDIR):
		if derr := writableDir(path, filepath.Dir(path)); derr != nil {
			return nil, derr
		}
		return nil, &PathError{Path: path, Reason: "cannot be looked at: " + cause(err), Fix: "give a path inside a directory", Err: err}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, &PathError{Path: path, Reason: "cannot be looked at: " + cause(err), Fix: "give a path you can reach", Err: err}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("outfile: create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".mtlsbench-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("outfile: write %s: %w", path, err)
	}
	return &File{tmp: tmp, path: path, opts: opts}, nil
}

// Write writes p to the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if f.done {
		return 0, fmt.Errorf("outfile: write %s: %w", f.path, fs.ErrClosed)
	}
	n, err := f.tmp.Write(p)
	if err != nil {
		err = fmt.Errorf("outfile: write %s: %w", f.path, err)
	}
	return n, err
}

// Commit gives the file its mode, syncs and closes it, and renames it to
// its path, which must then hold nothing or (unless Options.NoReplace) a
// regular file. On failure the temporary file is removed and whatever was
// at the path is left as it was.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("outfile: write %s: %w", f.path, fs.ErrClosed)
	}
	f.done = true
	name := f.tmp.Name()
	err := f.tmp.Chmod(f.opts.mode())
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("outfile: write %s: %w", f.path, err)
	}
	if err := install(name, f.path, f.opts.NoReplace); err != nil {
		// name holds this file, unless a thing planted at the path could
		// not be put back after an exchange: then it is that, kept.
		if fi, lerr := os.Lstat(name); lerr == nil && fi.Mode().IsRegular() {
			os.Remove(name)
		}
		return err
	}
	return nil
}

// Abort removes the temporary file; after Commit it does nothing.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// Write writes what write produces to path (see File): an interrupted or
// failed write leaves what was there before. Errors from write are
// returned as they are.
func Write(path string, opts Options, write func(io.Writer) error) error {
	f, err := Create(path, opts)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Abort()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// WriteFile writes data to path as Write does.
func WriteFile(path string, data []byte, opts Options) error {
	return Write(path, opts, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func existsError(path string) error {
	return &PathError{Path: path, Reason: "already exists", Fix: "remove it or choose another name", Err: fs.ErrExist}
}

// installAttempts bounds how often install looks again when the path
// changes between its look and its rename.
const installAttempts = 3

// install renames tmp to path without ever replacing anything but a
// regular file (nor that, when noReplace).
func install(tmp, path string, noReplace bool) error {
	for range installAttempts {
		fi, err := os.Lstat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			err := renameNoReplace(tmp, path)
			if errors.Is(err, unix.EEXIST) {
				continue // something appeared since the look: look again
			}
			if err != nil {
				return fmt.Errorf("outfile: write %s: %w", path, err)
			}
			return nil
		case err != nil:
			return &PathError{Path: path, Reason: "cannot be looked at: " + cause(err), Fix: "give a path you can reach", Err: err}
		}
		if err := notRegular(path, fi); err != nil {
			return err
		}
		if noReplace {
			return existsError(path)
		}
		err = exchange(tmp, path)
		if errors.Is(err, unix.ENOENT) {
			continue // removed since the look: look again
		}
		return err
	}
	return fmt.Errorf("outfile: write %s: the path kept changing while the file was written; try again", path)
}

// unsupported reports a file system (or a system) without renameat2's
// flags, or renameatx_np's on macOS.
func unsupported(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.ENOTSUP)
}

// renameNoReplace renames tmp to path, failing with EEXIST when anything
// is at path. Where the file system cannot, it renames after the caller's
// look.
func renameNoReplace(tmp, path string) error {
	err := renameExclusive(tmp, path)
	if unsupported(err) {
		return os.Rename(tmp, path)
	}
	return err
}

// exchange swaps tmp and path atomically, then looks at what came out to
// tmp: anything but a regular file (planted after the caller's look) is
// put back and refused; a regular file is removed. Where the file system
// cannot exchange, it renames after the caller's look.
func exchange(tmp, path string) error {
	err := renameSwap(tmp, path)
	if unsupported(err) {
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("outfile: write %s: %w", path, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("outfile: write %s: %w", path, err)
	}
	old, err := os.Lstat(tmp)
	if err != nil || old.Mode().IsRegular() {
		os.Remove(tmp)
		return nil
	}
	if err := renameSwap(tmp, path); err != nil {
		return fmt.Errorf("outfile: write %s: a %v appeared there while the file was written, and putting it back failed (it is at %s): %w", path, old.Mode().Type(), tmp, err)
	}
	return notRegular(path, old)
}
