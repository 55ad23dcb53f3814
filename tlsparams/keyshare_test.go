package tlsparams

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// TestGoKeySharePreference checks GoTLS's KeySharePreference and the
// hybrid rule against real crypto/tls handshakes: for every pair of
// groups, a client offering both and a server accepting only the second
// must produce a HelloRetryRequest exactly when CausesHRR says so. If Go
// changes its order, this fails and the table must follow.
func TestGoKeySharePreference(t *testing.T) {
	cert := selfSigned(t)
	client := GoTLS("the go client")
	if len(groups) != len(client.KeySharePreference) {
		t.Fatalf("tlsparams has %d groups, Go's key share preference %d", len(groups), len(client.KeySharePreference))
	}
	for _, share := range groups {
		for _, group := range groups {
			if share.Name == group.Name {
				continue
			}
			state, err := handshake(
				&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{share.ID, group.ID}},
				&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{group.ID}})
			if err != nil {
				t.Errorf("key share %s, group %s: %v", share.Name, group.Name, err)
				continue
			}
			if state.CurveID != group.ID {
				t.Errorf("key share %s, group %s: negotiated %s", share.Name, group.Name, state.CurveID)
			}
			if want := client.CausesHRR(share, group); state.HelloRetryRequest != want {
				t.Errorf("key share %s, group %s: HelloRetryRequest %v, CausesHRR says %v", share.Name, group.Name, state.HelloRetryRequest, want)
			}
		}
	}
}

// handshake runs one handshake over loopback TCP (buffered, unlike
// net.Pipe, so the server's session tickets never block the client).
func handshake(client, server *tls.Config) (tls.ConnectionState, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer ln.Close()
	serverErr := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			serverErr <- err
			return
		}
		defer raw.Close()
		_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
		serverErr <- tls.Server(raw, server).Handshake()
	}()
	raw, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	conn := tls.Client(raw, client)
	if err := conn.Handshake(); err != nil {
		return tls.ConnectionState{}, err
	}
	return conn.ConnectionState(), <-serverErr
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
