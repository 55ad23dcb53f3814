package builtin

import (
	"bytes"
	"context"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// Rotate, in this process and in a child through its protocol: a
// connection opened before keeps the old certificate, every one after
// presents the new one, and it verifies against the same trust.
func TestRotate(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) targets.Target
	}{
		{"in-process", func(t *testing.T) targets.Target { return startServer(t, testConfig(b)) }},
		{"child", func(t *testing.T) targets.Target { return startProcess(t, testConfig(b)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := tc.start(t)
			leafOf := func(c *tls.Conn) []byte { return c.ConnectionState().PeerCertificates[0].Raw }
			before, err := dial(t, tgt.Addr(), clientConfig(b, tls.VersionTLS13, nil))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(leafOf(before), b.Server.Leaf().Raw) {
				t.Fatal("before the rotation: not the case's certificate")
			}
			for range 2 { // twice: each rotation replaces the last
				id, err := b.RotatedServer()
				if err != nil {
					t.Fatal(err)
				}
				if err := tgt.(targets.Rotator).Rotate(context.Background(), id); err != nil {
					t.Fatal(err)
				}
				after, err := dial(t, tgt.Addr(), clientConfig(b, tls.VersionTLS13, nil))
				if err != nil {
					t.Fatalf("after the rotation: %v (the new certificate must verify against the same CA)", err)
				}
				if !bytes.Equal(leafOf(after), id.Leaf().Raw) {
					t.Fatal("after the rotation: the server still presents an old certificate")
				}
			}
			// The connection opened before is still served.
			if _, err := before.Write([]byte("x")); err != nil {
				t.Errorf("the connection opened before the rotation: %v", err)
			}
		})
	}
}

// A rotation to a key that does not match its certificate is refused,
// in a child too, and the server keeps serving the old one.
func TestRotateRefusesMismatchedKey(t *testing.T) {
	b := testBundle(t, pki.ECDSAP256)
	p := startProcess(t, testConfig(b))
	id, err := b.RotatedServer()
	if err != nil {
		t.Fatal(err)
	}
	bad := pki.Identity{Chain: id.Chain, Key: b.Server.Key}
	err = p.Rotate(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "does not match its certificate") {
		t.Fatalf("rotate with a mismatched key: %v", err)
	}
	c, err := dial(t, p.Addr(), clientConfig(b, tls.VersionTLS13, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.ConnectionState().PeerCertificates[0].Raw, b.Server.Leaf().Raw) {
		t.Error("after a refused rotation the server does not present its old certificate")
	}
	if _, err := p.Counts(context.Background()); err != nil {
		t.Errorf("counts after a refused rotation: %v (the protocol lost its step?)", err)
	}
}
