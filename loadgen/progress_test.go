package loadgen

import (
	"sync"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
)

// progressRecorder keeps the last measure-phase Progress the engine gave.
type progressRecorder struct {
	mu   sync.Mutex // guards last
	last Progress
}

func (*progressRecorder) WindowStart(time.Time)     {}
func (*progressRecorder) WindowEnd(time.Time)       {}
func (*progressRecorder) Interval(results.Interval) {}
func (r *progressRecorder) Progress(p Progress) {
	if p.Phase != "measure" {
		return
	}
	r.mu.Lock()
	r.last = p
	r.mu.Unlock()
}

// Errors by class are counted live (for live metrics), not only in the
// result: a run against a port that refuses every connect shows them in
// Progress while it runs.
func TestProgressCountsErrorsByClass(t *testing.T) {
	b := bundle(t, pki.ECDSAP256)
	rec := &progressRecorder{}
	res := run(t, Config{Addr: refusedAddr(t), TLS: caseParams(0), Roots: b.RootPool(), ServerName: "localhost",
		Identities: b.ClientCertificates(), Concurrency: 4, Duration: 700 * time.Millisecond, Observer: rec})
	rec.mu.Lock()
	p := rec.last
	rec.mu.Unlock()
	if p.Errors == 0 || p.ErrorsByClass["connect_refused"] != p.Errors || len(p.ErrorsByClass) != 1 {
		t.Fatalf("last progress: errors %d, by class %v: want every error connect_refused", p.Errors, p.ErrorsByClass)
	}
	if p.Errors > res.ErrorsByClass["connect_refused"] {
		t.Errorf("progress counted %d errors, more than the result's %d", p.Errors, res.ErrorsByClass["connect_refused"])
	}
}
