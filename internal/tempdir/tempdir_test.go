package tempdir

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/cleanup"
)

// helperEnv makes the test binary a process that creates a directory with
// New, prints its path and waits to be killed.
const helperEnv = "TEMPDIR_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		d, err := New("helper")
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		os.Stdout.WriteString(d.Path() + "\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// private points TMPDIR at a directory of the test's own.
func private(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	t.Setenv("TMPDIR", root)
	return root
}

func TestNewMarksAndRemoves(t *testing.T) {
	root := private(t)
	before := cleanup.Pending()
	d, err := New("nginx")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(d.Path()) != root || !strings.HasPrefix(filepath.Base(d.Path()), "mtlsbench-nginx-") {
		t.Fatalf("made %s, want mtlsbench-nginx-* in %s", d.Path(), root)
	}
	fi, err := os.Stat(d.Path())
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("stat %s: %v, %v; want a 0700 directory", d.Path(), fi, err)
	}
	o, err := readMarker(filepath.Join(d.Path(), MarkerFile), os.Geteuid())
	if err != nil {
		t.Fatal(err)
	}
	me, _ := Self()
	if o != me || o.PID != os.Getpid() || o.Start == 0 || o.Boot == "" || !strings.HasPrefix(o.PIDNamespace, "pid:[") {
		t.Fatalf("marker says %+v, want this process %+v", o, me)
	}
	if o.Gone() {
		t.Fatal("this process's own marker reads as gone")
	}
	if cleanup.Pending() != before+1 {
		t.Fatalf("New registered %d cleanups, want 1", cleanup.Pending()-before)
	}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(d.Path()); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Remove: %v", d.Path(), err)
	}
	if cleanup.Pending() != before {
		t.Fatal("Remove left its cleanup registered")
	}
	if err := d.Remove(); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
}

// A path that skips Remove (a second interrupt) still removes it.
func TestCleanupRunRemoves(t *testing.T) {
	private(t)
	d, err := New("serve-pki")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Path(), "server-key.pem"), []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	cleanup.Run()
	if _, err := os.Lstat(d.Path()); !os.IsNotExist(err) {
		t.Fatalf("%s still there after cleanup.Run: %v", d.Path(), err)
	}
}

func TestOwnerRoundTrip(t *testing.T) {
	me, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseOwner([]byte(me.String()))
	if err != nil || got != me {
		t.Fatalf("ParseOwner(String()) = %+v, %v; want %+v", got, err, me)
	}
	for _, bad := range []string{
		"",
		"mtlsbench temporary directory\n",
		strings.Replace(me.String(), "pid ", "pid -", 1),
		strings.Replace(me.String(), "pid ", "pid x", 1),
		strings.Replace(me.String(), "start ", "start -", 1),
		strings.TrimSuffix(me.String(), "\n"),
		me.String() + "extra\n",
		strings.Replace(me.String(), "boot ", "boot a b", 1),
	} {
		if o, err := ParseOwner([]byte(bad)); err == nil {
			t.Errorf("ParseOwner(%q) = %+v, want an error", bad, o)
		}
	}
}

// mkdir makes root/name holding marker (none when marker is "").
func mkdir(t *testing.T, root, name, marker string) string {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if marker != "" {
		if err := os.WriteFile(filepath.Join(p, MarkerFile), []byte(marker), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// deadPID is the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestSweepRemovesOnlyWhatIsCertainlyStale(t *testing.T) {
	root := private(t)
	me, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(o *Owner)) string {
		o := me
		f(&o)
		return o.String()
	}
	stale := []string{
		// The PID no longer exists.
		mkdir(t, root, "mtlsbench-nginx-1", with(func(o *Owner) { o.PID = deadPID(t) })),
		// The PID is alive but is another process (reused): another start.
		mkdir(t, root, "mtlsbench-nginx-2", with(func(o *Owner) { o.Start++ })),
		// Made before the last boot.
		mkdir(t, root, "mtlsbench-haproxy-3", with(func(o *Owner) { o.Boot = "00000000-0000-0000-0000-000000000000" })),
	}
	kept := []string{
		// Its owner is alive (this process).
		mkdir(t, root, "mtlsbench-nginx-4", me.String()),
		// Another PID namespace: its PID means nothing here.
		mkdir(t, root, "mtlsbench-nginx-5", with(func(o *Owner) { o.PID = deadPID(t); o.PIDNamespace = "pid:[1]" })),
		// No marker: being made, or not ours.
		mkdir(t, root, "mtlsbench-nginx-6", ""),
		// A marker that is not one.
		mkdir(t, root, "mtlsbench-nginx-7", "pid 1\n"),
		// Not named as ours.
		mkdir(t, root, "other-8", with(func(o *Owner) { o.PID = deadPID(t) })),
	}
	// A marker that is a link to a valid stale marker elsewhere.
	target := filepath.Join(t.TempDir(), "marker")
	if err := os.WriteFile(target, []byte(with(func(o *Owner) { o.PID = deadPID(t) })), 0o600); err != nil {
		t.Fatal(err)
	}
	linked := mkdir(t, root, "mtlsbench-nginx-9", "")
	if err := os.Symlink(target, filepath.Join(linked, MarkerFile)); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, linked)
	// A FIFO as the marker: read without blocking, and refused.
	fifo := mkdir(t, root, "mtlsbench-nginx-10", "")
	if err := syscall.Mkfifo(filepath.Join(fifo, MarkerFile), 0o600); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, fifo)
	// A link named as ours to a stale directory elsewhere: not followed.
	elsewhere := mkdir(t, t.TempDir(), "mtlsbench-x-11", with(func(o *Owner) { o.PID = deadPID(t) }))
	link := filepath.Join(root, "mtlsbench-link-12")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, link, elsewhere)
	// A regular file named as ours.
	file := filepath.Join(root, "mtlsbench-file-13")
	if err := os.WriteFile(file, []byte(with(func(o *Owner) { o.PID = deadPID(t) })), 0o600); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, file)

	done := make(chan struct{})
	var removed []string
	go func() {
		defer close(done)
		removed, err = Sweep(root)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Sweep blocked (on the FIFO?)")
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	slices.Sort(stale)
	if !slices.Equal(removed, stale) {
		t.Errorf("Sweep removed %v, want %v", removed, stale)
	}
	for _, p := range stale {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("stale %s still there: %v", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("Sweep removed %s, which it must keep: %v", p, err)
		}
	}
}

// The case the marker is for: its owner killed with SIGKILL.
func TestSweepAfterSIGKILL(t *testing.T) {
	root := private(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper said nothing: %v", err)
	}
	dir := strings.TrimSpace(line)
	if filepath.Dir(dir) != root {
		t.Fatalf("helper made %s, want it in %s", dir, root)
	}
	// While it lives, its directory stays.
	if removed, err := Sweep(root); err != nil || len(removed) != 0 {
		t.Fatalf("Sweep with the owner alive: removed %v, %v", removed, err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	removed, err := Sweep(root)
	if err != nil || !slices.Equal(removed, []string{dir}) {
		t.Fatalf("Sweep after SIGKILL: removed %v, %v; want [%s]", removed, err, dir)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there: %v", dir, err)
	}
}

func FuzzParseOwner(f *testing.F) {
	me, err := Self()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(me.String()))
	f.Add([]byte("mtlsbench temporary directory\npid 1\nstart 2\nboot b\npidns pid:[3]\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOwner(data)
		if err != nil {
			return
		}
		// What it accepts it writes back the same.
		if o.String() != string(data) {
			t.Fatalf("ParseOwner(%q) = %+v, which writes %q", data, o, o.String())
		}
	})
}
