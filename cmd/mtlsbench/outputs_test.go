package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// outputPlaces makes, in a new directory, the places an output must not
// go: a directory, a link to a file that must stay as it is (victim), a
// FIFO, a regular file (to put a path under) and, as root, a character
// device like /dev/null.
type outputPlaces struct {
	dir, subdir, victim, link, fifo, file, device string
	// stdout is a link to /dev/stdout: a test never names the machine's
	// own, which a regression would replace.
	stdout string
}

func newOutputPlaces(t *testing.T) outputPlaces {
	t.Helper()
	dir := t.TempDir()
	p := outputPlaces{
		dir: dir, subdir: filepath.Join(dir, "subdir"), victim: filepath.Join(dir, "victim"),
		link: filepath.Join(dir, "link.json"), fifo: filepath.Join(dir, "fifo"), file: filepath.Join(dir, "file"),
		stdout: filepath.Join(dir, "stdout"),
	}
	if err := os.Mkdir(p.subdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.file, []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(p.victim, p.link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/stdout", p.stdout); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, p.fifo)
	if err := unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err == nil {
		p.device = filepath.Join(dir, "null")
	}
	return p
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

// intact fails the test when anything planted was replaced or written.
func (p outputPlaces) intact(t *testing.T) {
	t.Helper()
	if data, err := os.ReadFile(p.victim); err != nil || string(data) != "keep" {
		t.Errorf("the link's target was written: %q %v", data, err)
	}
	for path, typ := range map[string]os.FileMode{p.link: os.ModeSymlink, p.stdout: os.ModeSymlink, p.fifo: os.ModeNamedPipe, p.subdir: os.ModeDir, p.device: os.ModeCharDevice} {
		if path == "" {
			continue
		}
		if fi, err := os.Lstat(path); err != nil || fi.Mode()&typ == 0 {
			t.Errorf("%s was replaced: %v %v", filepath.Base(path), fi.Mode(), err)
		}
	}
}

// run and capacity refuse a bad output path with exit 2, naming the flag
// and the path, before any load: within a second, though the run asked
// for two seconds against a refused external target (a started load would
// run them, then fail the run: exit 1).
func TestRunRefusesOutputPathsBeforeLoad(t *testing.T) {
	p := newOutputPlaces(t)
	pkiDir := filepath.Join(t.TempDir(), "pki")
	if code, _, errOut := runCommand(t, "pki", "gen", "--out", pkiDir); code != 0 {
		t.Fatal(errOut)
	}
	load := []string{"-q", "--target", "127.0.0.1:1", "--pki", pkiDir, "--server-name", "localhost", "--tls", "1.3", "--resume", "none"}
	good := filepath.Join(p.dir, "r.json")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"run -o dir", []string{"run", "-d", "2s", "-o", p.subdir}, "-o " + p.subdir + ": is a directory; give a file name in it"},
		{"run -o dir/", []string{"run", "-d", "2s", "-o", p.dir + "/new/"}, "-o " + p.dir + "/new/: names a directory; give a file name"},
		{"run -o link", []string{"run", "-d", "2s", "-o", p.link}, "-o " + p.link + ": is a symbolic link to " + p.victim + "; mtlsbench never writes through or replaces a link"},
		{"run -o a link to /dev/stdout", []string{"run", "-d", "2s", "-o", p.stdout}, "-o " + p.stdout + ": is a symbolic link to /dev/stdout; use - for standard output"},
		{"run -o under a file", []string{"run", "-d", "2s", "-o", filepath.Join(p.file, "r.json")}, p.file + " is not a directory"},
		{"run -o unwritable", []string{"run", "-d", "2s", "-o", "/sys/mtlsbench-r.json"}, "-o /sys/mtlsbench-r.json: cannot create files in /sys"},
		{"run --hdr-log fifo", []string{"run", "-d", "2s", "-o", good, "--hdr-log", p.fifo}, "--hdr-log " + p.fifo + ": is a named pipe (FIFO); mtlsbench writes only regular files"},
		{"run --cpuprofile link", []string{"run", "-d", "2s", "-o", good, "--cpuprofile", p.link}, "--cpuprofile " + p.link + ": is a symbolic link"},
		{"run -o and --hdr-log alike", []string{"run", "-d", "2s", "-o", good, "--hdr-log", good}, "-o and --hdr-log both name " + good},
		{"capacity -o dir", []string{"capacity", "--step-duration", "2s", "-o", p.subdir}, "-o " + p.subdir + ": is a directory"},
		{"capacity --hdr-log link", []string{"capacity", "--step-duration", "2s", "-o", good, "--hdr-log", p.link}, "--hdr-log " + p.link + ": is a symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, _, errOut := runCommand(t, append(tc.args, load...)...)
			took := time.Since(start)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tc.want)
			}
			if took > time.Second {
				t.Errorf("took %v: the check must come before any load", took.Round(time.Millisecond))
			}
			if _, err := os.Stat(good); err == nil {
				t.Errorf("a result was written")
			}
		})
	}
	p.intact(t)
}

// report, compare, merge and k8s collect refuse a bad -o before reading
// or rendering anything, and replace nothing.
func TestResultCommandsRefuseOutputPaths(t *testing.T) {
	p := newOutputPlaces(t)
	in := writeResult(t, t.TempDir(), "r.json", "gate", 1, 1, 0)
	base := writeResult(t, t.TempDir(), "base.json", "gate", 3, 1, 0)
	a := writeRun(t, t.TempDir(), "a.json", shardResult(t, "a.json", 0, 2, 1))
	b := writeRun(t, t.TempDir(), "b.json", shardResult(t, "b.json", 1, 2, 2))
	type check struct {
		name string
		args []string
		want string
	}
	checks := []check{
		{"report -o fifo", []string{"report", in, "-o", p.fifo}, "-o " + p.fifo + ": is a named pipe (FIFO)"},
		{"report -o link", []string{"report", in, "--format", "json", "-o", p.link}, "-o " + p.link + ": is a symbolic link to " + p.victim},
		{"report -o dir", []string{"report", in, "-o", p.subdir}, "-o " + p.subdir + ": is a directory"},
		{"compare -o link", []string{"compare", base, base, "-o", p.link}, "-o " + p.link + ": is a symbolic link"},
		{"compare -o fifo", []string{"compare", base, base, "--format", "markdown", "-o", p.fifo}, "is a named pipe"},
		{"merge -o dir", []string{"merge", a, b, "-o", p.subdir}, "-o " + p.subdir + ": is a directory"},
		{"merge -o link", []string{"merge", a, b, "-o", p.link}, "is a symbolic link"},
		// kubectl is never called: the output is refused first.
		{"k8s collect -o dir", []string{"k8s", "collect", "job", "--kubectl", filepath.Join(p.dir, "no-kubectl"), "-o", p.subdir}, "-o " + p.subdir + ": is a directory"},
	}
	if p.device != "" {
		checks = append(checks, check{"report -o device", []string{"report", in, "-o", p.device}, "-o " + p.device + ": is a character device; mtlsbench writes only regular files"})
	} else {
		t.Log("no character device: mknod needs CAP_MKNOD")
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCommand(t, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tc.want)
			}
		})
	}
	p.intact(t)
}

// k8s render's manifest holds client keys: it is never written through a
// link (it used to be, with O_TRUNC).
func TestK8sRenderRefusesOutputLink(t *testing.T) {
	p := newOutputPlaces(t)
	code, _, errOut := runCommand(t, "k8s", "render", "--shards", "2", "--image", "mtlsbench:dev", "--pki", pkiDir(t),
		"--target", "10.0.0.5:8443", "-o", p.link)
	if code != exitUsage || !strings.Contains(errOut, "-o "+p.link+": is a symbolic link") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming -o and the link", code, errOut)
	}
	p.intact(t)
}

// pki gen --force never writes through a link planted at ca-key.pem (or a
// FIFO at another name): it refuses before generating, naming the file,
// and writes nothing.
func TestPKIGenRefusesPlantedFiles(t *testing.T) {
	p := newOutputPlaces(t)
	for _, tc := range []struct {
		name, planted string
		plant         func(path string) error
		want          string
	}{
		{"link at ca-key.pem", "ca-key.pem", func(path string) error { return os.Symlink(p.victim, path) },
			"ca-key.pem is a symbolic link to " + p.victim + "; move it away or choose another directory"},
		{"FIFO at client-2-key.pem", "client-2-key.pem", func(path string) error { mkfifo(t, path); return nil },
			"client-2-key.pem is a named pipe (FIFO)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "pki")
			os.Mkdir(out, 0o700)
			if err := tc.plant(filepath.Join(out, tc.planted)); err != nil {
				t.Fatal(err)
			}
			code, stdout, errOut := runCommand(t, "pki", "gen", "--out", out, "--clients", "2", "--force")
			if code != exitUsage || !strings.Contains(errOut, "--out "+out+": "+tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tc.want)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 1 || stdout != "" {
				t.Errorf("wrote %v, said %q", entries, stdout)
			}
		})
	}
	code, _, errOut := runCommand(t, "pki", "gen", "--out", p.file)
	if code != exitUsage || !strings.Contains(errOut, "--out "+p.file+": is not a directory; give a directory") {
		t.Errorf("--out a file: exit %d, stderr %q", code, errOut)
	}
	p.intact(t)
}

// serve --pki-out refuses a link planted at a key's name before starting.
// Bounded: were it to start, the context ends it within two seconds.
func TestServeRefusesPlantedPKIOut(t *testing.T) {
	p := newOutputPlaces(t)
	out := filepath.Join(t.TempDir(), "pki")
	os.Mkdir(out, 0o700)
	if err := os.Symlink(p.victim, filepath.Join(out, "server-key.pem")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := runCLI(ctx, &cliEnv{stdout: &stdout, stderr: &stderr}, []string{"serve", "--listen", "127.0.0.1:0", "--pki-out", out, "--force"})
	if code != exitUsage || !strings.Contains(stderr.String(), "--pki-out "+out+": server-key.pem is a symbolic link") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming server-key.pem", code, stderr.String())
	}
	p.intact(t)
}
