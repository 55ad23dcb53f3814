package managed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/procstat"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// reloader is how a server that can rotate its certificate while it
// serves does it (runPlan.reload): the files it reads rewritten, and the
// signal its master process takes to read them again.
type reloader struct {
	files  pemFiles
	signal syscall.Signal
	// runtime, when set, hands the new identity to the running server
	// instead of a signal (HAProxy's runtime API).
	runtime func(ctx context.Context, cfg targets.Config) error
	// stopped, when set, says whether a worker process of the server
	// from before the reload has stopped accepting connections (it may
	// still finish those it has): the reload is complete once every old
	// worker has, and a probe was served the new certificate.
	stopped func(pid int) bool
}

// rotateSettle is how long after the last old worker stopped accepting a
// rotation is taken as complete: a connection that worker accepted just
// before may have begun its handshake on the client's side a moment
// later.
const rotateSettle = 5 * time.Millisecond

// rotateTimeout bounds a rotation: the reload, until a probe sees the new
// certificate.
const rotateTimeout = 10 * time.Second

// Rotate makes the server serve id the way its operators do it. nginx
// has its certificate and key files replaced (each written beside itself
// and renamed over the old one, so the server never reads half a file)
// and its master process sent SIGHUP, a graceful reload: new workers start
// with the new certificate, the old ones stop accepting and finish the
// connections they have. HAProxy takes it through its runtime API ('set
// ssl cert', 'commit ssl cert'), in the running process. Rotate returns
// once a probe handshake (which the server's record leaves out, see
// probeSNI) is served the new certificate and, for nginx, every worker
// from before the reload has stopped accepting (until then, a new
// connection may still reach one and be served the old certificate, as
// nginx does), and rotateSettle has passed. A server that cannot reload
// (openssl s_server) returns a *targets.UnsupportedError;
// Capability.CheckRotate refuses it before any load.
func (m *Server) Rotate(ctx context.Context, id pki.Identity) error {
	r := m.plan.reload
	if r == nil {
		c, err := capabilities(mustProgram(m.kind))
		if err != nil {
			return err
		}
		return c.CheckRotate(1)
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return fmt.Errorf("managed: %s: rotate: the server is closed", m.kind)
	}
	cfg := m.cfg
	cfg.Identity = id
	if err := writeServerIdentity(r.files, cfg); err != nil {
		return err
	}
	var old []int
	if r.stopped != nil {
		tree, err := procstat.Tree(m.pid)
		if err != nil {
			return fmt.Errorf("managed: %s: rotate: list the worker processes: %w", m.kind, err)
		}
		old = tree[1:]
	}
	ctx, cancel := context.WithTimeout(ctx, rotateTimeout)
	defer cancel()
	if r.runtime != nil {
		if err := r.runtime(ctx, cfg); err != nil {
			return err
		}
	} else if err := syscall.Kill(m.pid, r.signal); err != nil {
		return fmt.Errorf("managed: %s: rotate: signal the master process %d: %w", m.kind, m.pid, err)
	}
	const interval = 5 * time.Millisecond
	t := time.NewTimer(interval)
	defer t.Stop()
	var last error
	for {
		err := probe(ctx, m.addr, cfg, m.plan.probeCert)
		if err == nil {
			old = slices.DeleteFunc(old, r.stopped)
			if len(old) == 0 {
				time.Sleep(rotateSettle)
				return nil
			}
			err = fmt.Errorf("%d worker processes from before the reload still accept connections (pids %v)", len(old), old)
		}
		last = err
		select {
		case <-m.exited:
			return &ServerError{Kind: m.kind, Op: "rotate", Err: fmt.Errorf("exited while reloading: %v", m.exitStatus()), Log: m.lastLines(logLines)}
		default:
		}
		t.Reset(interval)
		select {
		case <-ctx.Done():
			why := "still presented the old certificate"
			if !errors.Is(last, errWrongServer) {
				why = "last probe: " + last.Error()
			}
			return &ServerError{Kind: m.kind, Op: "rotate", Err: fmt.Errorf("not serving the new certificate %s after its reload (%s): %w", rotateTimeout, why, ctx.Err()), Log: m.lastLines(logLines)}
		case <-t.C:
		}
	}
}

var _ targets.Rotator = (*Server)(nil)

// mustProgram is the program of a kind this package started.
func mustProgram(kind targets.Kind) program {
	p, err := programFor(kind)
	if err != nil {
		panic(err)
	}
	return p
}

// writeServerIdentity replaces the server's chain and key files with
// cfg.Identity's, each through a temporary file renamed over it.
func writeServerIdentity(f pemFiles, cfg targets.Config) error {
	keyPEM, err := pki.EncodeKeyPEM(cfg.Identity.Key, pki.PKCS8)
	if err != nil {
		return fmt.Errorf("managed: rotate: %w", err)
	}
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.chain, pki.EncodeCertsPEM(cfg.Identity.Chain...), 0o644},
		{f.leaf, pki.EncodeCertsPEM(cfg.Identity.Chain[0]), 0o644},
		{f.key, keyPEM, 0o600},
	}
	for _, file := range files {
		tmp := filepath.Join(filepath.Dir(file.path), "."+filepath.Base(file.path)+".new")
		if err := os.WriteFile(tmp, file.data, file.mode); err != nil {
			return fmt.Errorf("managed: rotate: write %s: %w", tmp, err)
		}
		if err := os.Rename(tmp, file.path); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("managed: rotate: %w", err)
		}
	}
	return nil
}
