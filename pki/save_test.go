package pki

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
)

// Save with Overwrite never writes through a link planted at a key's name,
// nor replaces it or a FIFO: it refuses before writing anything, naming
// the file.
func TestSaveRefusesLinksAndSpecialFiles(t *testing.T) {
	b, err := Generate(Options{Clients: 2})
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		plant func(path string) error
		want  string
	}{
		{RootKeyFile, func(p string) error { return os.Symlink(target, p) }, "is a symbolic link to " + target},
		{ClientKeyFile(2), func(p string) error { return os.Symlink(target, p) }, "is a symbolic link"},
		{ServerCertFile, func(p string) error { return mkfifo(t, p) }, "is a named pipe"},
		{IntermediateKeyFile, func(p string) error { return os.Mkdir(p, 0o700) }, ""}, // not a file this bundle writes
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			planted := filepath.Join(dir, tc.name)
			if err := tc.plant(planted); err != nil {
				t.Fatal(err)
			}
			err := b.Save(dir, SaveOptions{Overwrite: true})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Save beside a file it does not write: %v", err)
				}
				return
			}
			var pe *outfile.PathError
			if !errors.As(err, &pe) || pe.Path != planted || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "move it away") {
				t.Fatalf("Save = %v; want a *outfile.PathError naming %s and saying %q", err, planted, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("Save wrote files before refusing: %v", entries)
			}
			if data, _ := os.ReadFile(target); string(data) != "keep" {
				t.Errorf("written through the link: %q", data)
			}
		})
	}
}

// mkfifo makes a FIFO at path and holds a reader open on it until the
// test ends, so that a writer opening it by mistake fails the test
// instead of blocking it forever.
func mkfifo(t *testing.T, path string) error {
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		return err
	}
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	t.Cleanup(func() { r.Close() })
	return nil
}

// --force replaces a key by rename: a hard link elsewhere keeps the old
// key, and the new file is 0600 whatever the old one's mode.
func TestSaveOverwriteReplacesByRename(t *testing.T) {
	dir := t.TempDir()
	first, err := Generate(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Save(dir, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, RootKeyFile)
	oldKey, _ := os.ReadFile(key)
	saved := filepath.Join(t.TempDir(), "kept-key.pem")
	if err := os.Link(key, saved); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	second, err := Generate(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Save(dir, SaveOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	newKey, _ := os.ReadFile(key)
	if kept, _ := os.ReadFile(saved); string(kept) != string(oldKey) || string(newKey) == string(oldKey) {
		t.Errorf("the old key was written through (hard link now holds the new key: %v) or not replaced (%v)", string(kept) != string(oldKey), string(newKey) == string(oldKey))
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced key: %v %v, want 0600", fi.Mode(), err)
	}
}

// CheckSave looks at the directory once, whatever the number of clients,
// and knows exactly which names Save writes.
func TestCheckSave(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "client-05.pem"), nil, 0o644) // not a name Save writes
	os.WriteFile(filepath.Join(dir, "client-3.pem.bak"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, IntermediateCertFile), nil, 0o644)
	start := time.Now()
	if err := CheckSave(dir, 100_000_000, false, SaveOptions{}); err != nil {
		t.Errorf("CheckSave with unrelated files: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("CheckSave of 10^8 clients took %v: it must not list them", d)
	}
	if err := CheckSave(dir, 1, true, SaveOptions{}); err == nil || !strings.Contains(err.Error(), IntermediateCertFile+" already exists") {
		t.Errorf("CheckSave with an intermediate: %v, want the existing intermediate.pem named", err)
	}
	os.WriteFile(filepath.Join(dir, ClientKeyFile(7)), nil, 0o600)
	if err := CheckSave(dir, 6, false, SaveOptions{}); err != nil {
		t.Errorf("client 7 with 6 clients: %v", err)
	}
	if err := CheckSave(dir, 7, false, SaveOptions{}); err == nil || !strings.Contains(err.Error(), ClientKeyFile(7)+" already exists") {
		t.Errorf("client 7 with 7 clients: %v", err)
	}
	if err := CheckSave(dir, 7, false, SaveOptions{Overwrite: true}); err != nil {
		t.Errorf("with Overwrite: %v", err)
	}
	file := filepath.Join(dir, "client-05.pem")
	var pe *outfile.PathError
	if err := CheckSave(file, 1, false, SaveOptions{}); !errors.As(err, &pe) || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("CheckSave(a file) = %v", err)
	}
}
