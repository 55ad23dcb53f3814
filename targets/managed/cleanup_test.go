package managed

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/cleanup"
	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/internal/tempdir"
	"github.com/mtlsbench/mtlsbench/targets"
)

// groupGone waits until no process is left in process group pgid.
func groupGone(t *testing.T, pgid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has processes %v after %v", pgid, within, groupMembers(pgid))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// groupMembers lists the live processes whose group is pgid.
func groupMembers(pgid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid := 0
		for _, c := range e.Name() {
			if c < '0' || c > '9' {
				pid = -1
				break
			}
			pid = pid*10 + int(c-'0')
		}
		if pid <= 0 {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
			out = append(out, pid)
		}
	}
	return out
}

// A server's directory carries its owner, and Close takes the server off
// the cleanup list; a path that skips Close (a second interrupt: the CLI
// calls cleanup.Run and exits) still kills every process of the server,
// nginx's workers included, and removes its directory with the key.
func TestCleanupRunKillsAndRemoves(t *testing.T) {
	for _, kind := range []targets.Kind{targets.KindNginx, targets.KindHAProxy, targets.KindOpenSSL, targets.KindNode} {
		t.Run(string(kind), func(t *testing.T) {
			requireServer(t, kind)
			root := t.TempDir()
			t.Setenv("TMPDIR", root)
			before := cleanup.Pending()

			// The normal path: Close undoes everything and unregisters it.
			m := testStart(t, kind, testConfig(t))
			s := baseServer(t, m)
			if filepath.Dir(s.dir) != root || !strings.HasPrefix(filepath.Base(s.dir), tempdir.Prefix+string(kind)+"-") {
				t.Fatalf("directory %s, want %s%s-* in %s", s.dir, tempdir.Prefix, kind, root)
			}
			if _, err := os.Stat(filepath.Join(s.dir, tempdir.MarkerFile)); err != nil {
				t.Fatalf("no owner marker: %v", err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if n := cleanup.Pending(); n != before {
				t.Fatalf("after Close %d cleanups are registered, want %d", n, before)
			}

			// The path that skips Close.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			m2, err := Start(ctx, kind, testConfig(t))
			if err != nil {
				t.Fatal(err)
			}
			s2 := baseServer(t, m2)
			if kind == targets.KindNginx {
				tree, err := procstat.Tree(s2.pid)
				if err != nil || len(tree) < 2 {
					t.Fatalf("nginx tree %v, %v: want a master and its workers", tree, err)
				}
			}
			cleanup.Run()
			groupGone(t, s2.pid, 5*time.Second)
			if _, err := os.Lstat(s2.dir); !os.IsNotExist(err) {
				t.Errorf("%s still there after cleanup.Run: %v", s2.dir, err)
			}
			_ = m2.Close() // reaps; it says the server exited unexpectedly
			if entries, _ := os.ReadDir(root); len(entries) != 0 {
				t.Errorf("left in TMPDIR: %v", entries)
			}
		})
	}
}

// Close stops a frozen (SIGSTOPped) server quickly: its stop signal acts
// once it continues, and what does not exit is killed after stopTimeout.
func TestCloseFrozenServer(t *testing.T) {
	requireServer(t, targets.KindNginx)
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := Start(ctx, targets.KindNginx, testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	s := baseServer(t, m)
	if err := syscall.Kill(-s.pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = m.Close()
	took := time.Since(start)
	t.Logf("Close took %v", took)
	// It continues and acts on its stop signal: no wait for stopTimeout.
	if took > 500*time.Millisecond {
		t.Errorf("Close of a frozen server took %v, want at most 500ms", took)
	}
	groupGone(t, s.pid, time.Second)
	if _, err := os.Lstat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after Close: %v", s.dir, err)
	}
}
