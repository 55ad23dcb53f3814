package builtin

import (
	"crypto/tls"
	"errors"
	"sync"
	"testing"

	"github.com/mtlsbench/mtlsbench/targets"
)

// TestSnapshotNeverTorn records handshakes and failures on one goroutine
// while another takes snapshots: a snapshot that counts N handshakes must
// count every detail of those N (here, each is resumed, certified and TLS
// 1.3), and likewise for failures. With the counters the other way round
// this failed within a few thousand snapshots (CI caught it as a TLS 1.2
// resumption counted without its resumption).
func TestSnapshotNeverTorn(t *testing.T) {
	var s serverStats
	const n = 200_000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rejection := &tls.CertificateVerificationError{Err: errors.New("unknown authority")}
		for i := range n {
			s.recordHandshake(tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, true, true)
			if i%4 == 0 {
				s.recordFailure(rejection)
			}
		}
	}()
	for {
		c := s.snapshot()
		if c.Resumed < c.Handshakes || c.ClientVerify[targets.ClientVerifySuccess] < c.Handshakes ||
			c.Versions["1.3"] < c.Handshakes || c.Ciphers["TLS_AES_128_GCM_SHA256"] < c.Handshakes {
			t.Fatalf("torn snapshot: %+v", c)
		}
		if c.VerifyFailures < c.Failed {
			t.Fatalf("torn snapshot: %d failures but %d client-certificate rejections", c.Failed, c.VerifyFailures)
		}
		if c.Handshakes == n {
			break
		}
	}
	wg.Wait()
}
