package outfile

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// specials makes, in dir, one of everything that is not a regular file,
// keyed by what Check must say of it. Devices need root (CAP_MKNOD);
// without it they are left out.
func specials(t *testing.T, dir string) map[string]string {
	t.Helper()
	target := filepath.Join(dir, "target.json")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	add := func(name, want string) { m[filepath.Join(dir, name)] = want }

	os.Mkdir(filepath.Join(dir, "adir"), 0o755)
	add("adir", "is a directory; give a file name in it")
	os.Symlink(target, filepath.Join(dir, "link.json"))
	add("link.json", "is a symbolic link to "+target+"; mtlsbench never writes through or replaces a link: give the file it points to ("+target+")")
	os.Symlink(filepath.Join(dir, "missing.json"), filepath.Join(dir, "dangling.json"))
	add("dangling.json", "is a symbolic link to "+filepath.Join(dir, "missing.json")+"; mtlsbench never writes through or replaces a link: give another name")
	os.Symlink("/dev/stdout", filepath.Join(dir, "stdout"))
	add("stdout", "is a symbolic link to /dev/stdout; use - for standard output")
	mkfifo(t, filepath.Join(dir, "fifo"))
	add("fifo", "is a named pipe (FIFO); mtlsbench writes only regular files")
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	add("sock", "is a socket")
	if unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))) == nil {
		add("null", "is a character device; mtlsbench writes only regular files")
	}
	if unix.Mknod(filepath.Join(dir, "blk"), unix.S_IFBLK|0o600, int(unix.Mkdev(7, 200))) == nil {
		add("blk", "is a block device")
	}
	return m
}

// mkfifo makes a FIFO at path and holds a reader open on it until the
// test ends, so that a writer opening it by mistake fails the test
// instead of blocking it forever.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
}

func TestCheckRefusesAllButRegularFiles(t *testing.T) {
	dir := t.TempDir()
	for path, want := range specials(t, dir) {
		err := Check(path)
		var pe *PathError
		if !errors.As(err, &pe) || pe.Path != path || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%s) = %v; want a *PathError saying %q", filepath.Base(path), err, want)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "target.json")); string(data) != "keep" {
		t.Errorf("a link's target changed: %q", data)
	}
}

func TestCheckAccepts(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.json")
	os.WriteFile(existing, []byte("x"), 0o644)
	linkedDir := filepath.Join(dir, "via-link")
	os.Mkdir(filepath.Join(dir, "real"), 0o755)
	os.Symlink(filepath.Join(dir, "real"), linkedDir)
	for _, path := range []string{
		"-",                                    // standard output: the caller's
		existing,                               // replaced on write
		filepath.Join(dir, "new.json"),         // created
		filepath.Join(dir, "a", "b", "c.json"), // directories created on write
		filepath.Join(linkedDir, "r.json"),     // only the last component is held to the rules
	} {
		if err := Check(path); err != nil {
			t.Errorf("Check(%s): %v", path, err)
		}
	}
	// Check writes nothing: no directory made, no probe left.
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check created a directory: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("Check left files behind: %v", entries)
	}
}

func TestCheckRefusesBadPlaces(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.json")
	os.WriteFile(file, []byte("x"), 0o644)
	os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "deadlink"))
	for _, tc := range []struct{ path, want string }{
		{"", "is empty; give a file name, or - for standard output"},
		{dir + "/", "names a directory; give a file name"},
		{dir + "/.", "names a directory"},
		{filepath.Join(file, "r.json"), file + " is not a directory"},
		{filepath.Join(file, "a", "r.json"), file + " is not a directory"},
		{filepath.Join(dir, "deadlink", "r.json"), "deadlink is a symbolic link to a missing directory"},
		// Root may write anywhere a permission bit allows; /sys refuses
		// everyone.
		{"/sys/mtlsbench-result.json", "cannot create files in /sys: "},
	} {
		err := Check(tc.path)
		var pe *PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%q) = %v; want a *PathError saying %q", tc.path, err, tc.want)
		}
	}
	if err := CheckDir(file); err == nil || err.Error() != "outfile: "+file+": is not a directory; give a directory" {
		t.Errorf("CheckDir(a file) = %v", err)
	}
	if err := CheckDir(filepath.Join(dir, "new", "dir")); err != nil {
		t.Errorf("CheckDir(a directory to create) = %v", err)
	}
}

func TestWriteCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	path := filepath.Join(dir, "sub", "r.json")
	if err := WriteFile(path, []byte("one"), Options{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, path, "one", 0o644)
	// A hard link elsewhere keeps the old content: the file is replaced,
	// not truncated and written through.
	other := filepath.Join(dir, "other-name")
	if err := os.Link(path, other); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o666)
	if err := WriteFile(path, []byte("two"), Options{Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, path, "two", 0o600)
	assertFile(t, other, "one", 0o666)
	assertNoTemp(t, filepath.Join(dir, "sub"))
}

func TestWriteRefusesAllButRegularFiles(t *testing.T) {
	dir := t.TempDir()
	for path, want := range specials(t, dir) {
		before, _ := os.Lstat(path)
		err := WriteFile(path, []byte("new"), Options{})
		var pe *PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
			t.Errorf("WriteFile(%s) = %v; want a *PathError saying %q", filepath.Base(path), err, want)
		}
		after, lerr := os.Lstat(path)
		if lerr != nil || !os.SameFile(before, after) {
			t.Errorf("%s was replaced", filepath.Base(path))
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "target.json")); string(data) != "keep" {
		t.Errorf("written through a link: target holds %q", data)
	}
	assertNoTemp(t, dir)
}

func TestNoReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	if err := WriteFile(path, []byte("k1"), Options{Mode: 0o600, NoReplace: true}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, path, "k1", 0o600)
	err := WriteFile(path, []byte("k2"), Options{Mode: 0o600, NoReplace: true})
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("second write: %v, want fs.ErrExist", err)
	}
	assertFile(t, path, "k1", 0o600)

	// A file that appears between Create and Commit is not replaced either.
	late := filepath.Join(dir, "late.pem")
	f, err := Create(late, Options{Mode: 0o600, NoReplace: true})
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("mine"))
	os.WriteFile(late, []byte("theirs"), 0o644)
	if err := f.Commit(); !errors.Is(err, fs.ErrExist) {
		t.Errorf("commit over a file created meanwhile: %v, want fs.ErrExist", err)
	}
	assertFile(t, late, "theirs", 0o644)
	assertFile(t, path, "k1", 0o600)
	assertNoTemp(t, dir)
}

// A link planted after Create's look is refused at Commit.
func TestCommitLooksAgain(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	path := filepath.Join(dir, "r.json")
	os.WriteFile(path, []byte("old"), 0o644)
	f, err := Create(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "new")
	os.Remove(path)
	os.Symlink(target, path)
	var pe *PathError
	if err := f.Commit(); !errors.As(err, &pe) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Commit over a link planted meanwhile: %v", err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link was replaced")
	}
	assertFile(t, target, "keep", 0o644)
	assertNoTemp(t, dir)
}

// exchange puts back what it swapped out when that is not a regular file:
// the last defence when a link is planted between install's look and its
// rename.
func TestExchangePutsBack(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	tmp := filepath.Join(dir, ".tmp")
	os.WriteFile(tmp, []byte("new"), 0o644)
	path := filepath.Join(dir, "r.json")
	os.Symlink(target, path)
	err := exchange(tmp, path)
	var pe *PathError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("exchange with a link at the path: %v", err)
	}
	if to, err := os.Readlink(path); err != nil || to != target {
		t.Errorf("link not put back: %q %v", to, err)
	}
	assertFile(t, tmp, "new", 0o644)
	assertFile(t, target, "keep", 0o644)
}

// A failed write leaves what was there and no temporary file.
func TestFailedWriteKeepsTheOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	os.WriteFile(path, []byte("old"), 0o644)
	boom := errors.New("boom")
	err := Write(path, Options{}, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if err != boom {
		t.Errorf("Write returned %v, want write's own error", err)
	}
	assertFile(t, path, "old", 0o644)
	assertNoTemp(t, dir)
}

func assertFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != mode || string(data) != content {
		t.Errorf("%s: %v %q, want regular %v %q", filepath.Base(path), fi.Mode(), data, mode, content)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".mtlsbench-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
