package managed

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
)

// probeSNI is the server name the harness's own connections send.
// Log-based cross-checks skip records with it, so a ready check never counts
// as a handshake of the case.
const probeSNI = "mtlsbench-probe.invalid"

// probeTimeout bounds one probe connection.
const probeTimeout = 3 * time.Second

var errWrongServer = errors.New("the server presented a certificate other than the case's: another process is on this port")

// probeConfig is the client side of the harness's own connections.
// It accepts exactly the case's leaf (InsecureSkipVerify only skips the
// chain-building, VerifyConnection does the check), and presents cert when
// given, whatever CA names the server asks for.
func probeConfig(cfg targets.Config, cert *tls.Certificate, sawLeaf *bool) *tls.Config {
	want := cfg.Identity.Chain[0].Raw
	return &tls.Config{
		ServerName:         probeSNI,
		InsecureSkipVerify: true,
		MinVersion:         cfg.MinVersion,
		MaxVersion:         cfg.MaxVersion,
		CipherSuites:       cfg.CipherSuites,
		// Go's default groups, not cfg.Groups: in TLS 1.2 an OpenSSL server
		// uses an ECDSA certificate only if the client offers its curve, and
		// the server picks the case's group from the client's list anyway.
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, want) {
				return errWrongServer
			}
			*sawLeaf = true
			return nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			return cert, nil
		},
	}
}

// probe checks that the server on addr answers a TLS handshake with
// the case's certificate (a plaintext listener: that it accepts). Without cert the server refuses the (certificate-
// less) client after presenting its own, which is enough; with cert the
// handshake must complete.
func probe(ctx context.Context, addr string, cfg targets.Config, cert *tls.Certificate) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if !cfg.Auth.TLS() {
		// A plaintext listener has no certificate to tell it by: an
		// accepted connection is all it can say.
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	sawLeaf := false
	d := tls.Dialer{Config: probeConfig(cfg, cert, &sawLeaf)}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if conn != nil {
		conn.Close()
	}
	if errors.Is(err, errWrongServer) {
		return err
	}
	if cert == nil && sawLeaf {
		return nil
	}
	return err
}

// dialProbe opens a completed mTLS connection presenting cert.
func dialProbe(ctx context.Context, addr string, cfg targets.Config, cert *tls.Certificate) (*tls.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	sawLeaf := false
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: probeConfig(cfg, cert, &sawLeaf)}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return conn.(*tls.Conn), nil
}

// probeIdentity makes a throwaway CA and a client certificate it
// issued, for a server that must accept the harness's own connections (the
// CA goes into its verification store, never into the CA names it sends).
func probeIdentity() (ca pki.Authority, cert *tls.Certificate, err error) {
	notBefore := time.Now().Add(-time.Hour)
	root, err := pki.NewRoot(pki.ECDSAP256, "mtlsbench probe CA", notBefore, 48*time.Hour)
	if err != nil {
		return pki.Authority{}, nil, fmt.Errorf("managed: probe identity: %w", err)
	}
	id, err := root.Issue(pki.LeafRequest{KeyType: pki.ECDSAP256, CommonName: "mtlsbench probe",
		NotBefore: notBefore, NotAfter: notBefore.Add(48 * time.Hour)}, nil)
	if err != nil {
		return pki.Authority{}, nil, fmt.Errorf("managed: probe identity: %w", err)
	}
	c := id.TLSCertificate()
	return root, &c, nil
}
