package builtin

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// The child protocol, one JSON value per line:
//
//	parent → child  childConfig                 once, first
//	child  → parent childReady                  {"addr":…,"pid":…} or {"error":…}
//	parent → child  "counts"                    any number of times
//	child  → parent childCounts                 one per "counts" line, in order
//	parent → child  childRotate                 {"rotate":{…}}: serve a new certificate
//	child  → parent childCounts                 its answer: {} or {"error":…}
//
// EOF on the child's stdin stops the server and ends the child with status
// 0. Because the parent holds the only write end of that pipe, the child
// cannot outlive the parent: when the parent dies, the pipe closes.
//
// The config (and a rotation) carries the server's private key as PEM. It travels only over
// the pipe and is never logged, printed or put in an error.

// childConfig is Config on the wire. CPUs are not sent: the parent starts
// the child already pinned.
type childConfig struct {
	Listen           string        `json:"listen"`
	CertPEM          string        `json:"cert_pem"` // server chain, leaf first
	KeyPEM           string        `json:"key_pem"`  // PKCS#8
	ClientCAsPEM     string        `json:"client_cas_pem"`
	CRLsPEM          string        `json:"crls_pem,omitempty"`
	MinVersion       uint16        `json:"min_version"`
	MaxVersion       uint16        `json:"max_version"`
	CipherSuites     []uint16      `json:"cipher_suites"`
	Groups           []tls.CurveID `json:"groups"`
	DisableTickets   bool          `json:"disable_tickets"`
	Mode             targets.Mode  `json:"mode"`
	HandshakeDelay   time.Duration `json:"handshake_delay_ns"`
	HandshakeTimeout time.Duration `json:"handshake_timeout_ns"`
	Workers          int           `json:"workers"`
	Auth             string        `json:"auth,omitempty"`
}

// childReady is the child's answer to the config.
type childReady struct {
	Addr  string `json:"addr,omitempty"`
	PID   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
}

// childCounts is the child's answer to "counts".
type childCounts struct {
	targets.Counts
	Error string `json:"error,omitempty"`
}

// childCountsRequest asks for the counts.
const childCountsRequest = "counts"

// childRotate is a certificate rotation (Server.Rotate) on the wire: a
// JSON line, where the counts request is a bare word.
type childRotate struct {
	Rotate *childIdentity `json:"rotate"`
}

// childIdentity is a server identity on the wire.
type childIdentity struct {
	CertPEM string `json:"cert_pem"` // chain, leaf first
	KeyPEM  string `json:"key_pem"`  // PKCS#8
}

// encodeRotate returns the rotation line (with its newline) for id.
func encodeRotate(id pki.Identity) ([]byte, error) {
	key, err := pki.EncodeKeyPEM(id.Key, pki.PKCS8)
	if err != nil {
		return nil, fmt.Errorf("builtin: encode rotated server key: %w", err)
	}
	line, err := json.Marshal(childRotate{Rotate: &childIdentity{CertPEM: string(pki.EncodeCertsPEM(id.Chain...)), KeyPEM: string(key)}})
	if err != nil {
		return nil, fmt.Errorf("builtin: encode rotation: %w", err)
	}
	return append(line, '\n'), nil
}

// rotateChild applies a rotation line to b.
func rotateChild(ctx context.Context, b *Server, line string) error {
	var r childRotate
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.Rotate == nil {
		return fmt.Errorf("builtin: child: malformed request (accepted: %s, or a rotation object)", childCountsRequest)
	}
	chain, err := pki.ParseCertsPEM([]byte(r.Rotate.CertPEM), "rotated server certificate from the parent")
	if err != nil {
		return err
	}
	key, err := pki.ParseKeyPEM([]byte(r.Rotate.KeyPEM), "rotated server key from the parent")
	if err != nil {
		return err
	}
	return b.Rotate(ctx, pki.Identity{Chain: chain, Key: key})
}

// encodeChildConfig returns the config line (with its newline) for c, a
// config that withDefaults has accepted.
func encodeChildConfig(c targets.Config) ([]byte, error) {
	key, err := pki.EncodeKeyPEM(c.Identity.Key, pki.PKCS8)
	if err != nil {
		return nil, fmt.Errorf("builtin: encode server key: %w", err)
	}
	line, err := json.Marshal(childConfig{
		Listen:           c.Listen,
		CertPEM:          string(pki.EncodeCertsPEM(c.Identity.Chain...)),
		KeyPEM:           string(key),
		ClientCAsPEM:     string(pki.EncodeCertsPEM(c.ClientCAs...)),
		CRLsPEM:          string(pki.EncodeCRLsPEM(c.CRLs...)),
		MinVersion:       c.MinVersion,
		MaxVersion:       c.MaxVersion,
		CipherSuites:     c.CipherSuites,
		Groups:           c.Groups,
		DisableTickets:   c.DisableTickets,
		Mode:             c.Mode,
		HandshakeDelay:   c.HandshakeDelay,
		HandshakeTimeout: c.HandshakeTimeout,
		Workers:          c.Workers,
		Auth:             string(c.Auth),
	})
	if err != nil {
		return nil, fmt.Errorf("builtin: encode child config: %w", err)
	}
	return append(line, '\n'), nil
}

// decodeChildConfig parses a config line back into a Config.
func decodeChildConfig(line []byte) (targets.Config, error) {
	var w childConfig
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		// json's messages name types and offsets, never values.
		return targets.Config{}, fmt.Errorf("builtin: child: malformed config line: %w", err)
	}
	chain, err := pki.ParseCertsPEM([]byte(w.CertPEM), "server certificate from the parent")
	if err != nil {
		return targets.Config{}, err
	}
	key, err := pki.ParseKeyPEM([]byte(w.KeyPEM), "server key from the parent")
	if err != nil {
		return targets.Config{}, err
	}
	cas, err := pki.ParseCertsPEM([]byte(w.ClientCAsPEM), "client CAs from the parent")
	if err != nil {
		return targets.Config{}, err
	}
	var crls []*x509.RevocationList
	if w.CRLsPEM != "" {
		if crls, err = pki.ParseCRLsPEM([]byte(w.CRLsPEM), "CRLs from the parent"); err != nil {
			return targets.Config{}, err
		}
	}
	return targets.Config{
		CRLs:             crls,
		Listen:           w.Listen,
		Identity:         pki.Identity{Chain: chain, Key: key},
		ClientCAs:        cas,
		MinVersion:       w.MinVersion,
		MaxVersion:       w.MaxVersion,
		CipherSuites:     w.CipherSuites,
		Groups:           w.Groups,
		DisableTickets:   w.DisableTickets,
		Mode:             w.Mode,
		HandshakeDelay:   w.HandshakeDelay,
		HandshakeTimeout: w.HandshakeTimeout,
		Workers:          w.Workers,
		Auth:             tlsparams.Auth(w.Auth),
	}, nil
}

// RunChild is the child side of StartProcess (mtlsbench serve --child): it
// reads the config line from stdin, starts a Server, reports its address
// and PID on stdout, then answers "counts" lines until stdin reaches EOF,
// when it closes the server and returns nil. Nothing else is ever written
// to stdout. If ctx is cancelled (SIGTERM to the child), it closes the
// server and returns nil too.
//
// RunChild treats the process as its own: Config.Workers > 0 sets
// GOMAXPROCS.
func RunChild(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReader(stdin)
	out := json.NewEncoder(stdout) // one Write per line
	line, err := in.ReadBytes('\n')
	if err != nil && (len(line) == 0 || !errors.Is(err, io.EOF)) {
		return fmt.Errorf("builtin: child: read config from stdin: %w", err)
	}
	b, err := startChildServer(line)
	if err != nil {
		if werr := out.Encode(childReady{Error: err.Error()}); werr != nil {
			return errors.Join(err, fmt.Errorf("builtin: child: report error: %w", werr))
		}
		return err
	}
	defer b.Close()
	if err := out.Encode(childReady{Addr: b.Addr(), PID: os.Getpid()}); err != nil {
		return fmt.Errorf("builtin: child: report ready: %w", err)
	}

	// Requests are read on their own goroutine so that ctx can end the
	// child while a read blocks.
	requests := make(chan string)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			line, err := in.ReadString('\n')
			if line = strings.TrimSpace(line); line != "" {
				select {
				case requests <- line:
				case <-stop:
					return
				}
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			if errors.Is(err, io.EOF) {
				return nil // the parent closed our stdin, or died
			}
			return fmt.Errorf("builtin: child: read stdin: %w", err)
		case req := <-requests:
			var resp childCounts
			switch {
			case req == childCountsRequest:
				resp.Counts, _ = b.Counts(ctx)
			case strings.HasPrefix(req, "{"):
				if err := rotateChild(ctx, b, req); err != nil {
					resp.Error = err.Error()
				}
			default:
				resp.Error = fmt.Sprintf("builtin: child: unknown request %q (accepted: %s, or a rotation object)", req, childCountsRequest)
			}
			if err := out.Encode(resp); err != nil {
				return fmt.Errorf("builtin: child: write counts: %w", err)
			}
		}
	}
}

func startChildServer(configLine []byte) (*Server, error) {
	cfg, err := decodeChildConfig(configLine)
	if err != nil {
		return nil, err
	}
	if cfg.Workers > 0 {
		runtime.GOMAXPROCS(cfg.Workers)
	}
	b, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := b.Start(); err != nil {
		return nil, err
	}
	return b, nil
}
