package targets

import (
	"context"
	"errors"
	"github.com/mtlsbench/mtlsbench/tlsparams"
	"net"
	"slices"
)

func init() { Register(KindExternal, externalDriver{}) }

// external is a server mtlsbench did not start (KindExternal): Start only
// names it. It reports no counts, and its CPU only when the user names its
// processes (Config.PIDs, --target-pid).
type external struct {
	addr, serverName string
	pids             []int
}

var _ Target = (*external)(nil)

func (e *external) Addr() string       { return e.addr }
func (e *external) ServerName() string { return e.serverName }
func (e *external) Counts(context.Context) (Counts, error) {
	return Counts{}, ErrNoCounts
}
func (e *external) PIDs() []int  { return e.pids }
func (e *external) Close() error { return nil }

// externalDriver is the Driver of KindExternal.
type externalDriver struct{}

var _ Driver = externalDriver{}

// Start names the server at cfg.Addr; it neither dials nor starts anything.
// Of cfg it reads only Addr, ServerName and PIDs.
func (externalDriver) Start(_ context.Context, cfg Config) (Target, error) {
	if cfg.Addr == "" {
		return nil, errors.New("targets: external: Config.Addr is empty: name the server's host:port")
	}
	name := cfg.ServerName
	if name == "" {
		name, _, _ = net.SplitHostPort(cfg.Addr)
	}
	return &external{addr: cfg.Addr, serverName: name, pids: slices.Clone(cfg.PIDs)}, nil
}

// Capabilities of an external server are only what the client can ask of
// it: mtlsbench cannot read its version, TLS library, versions or groups,
// so its TLS capabilities are Unconfigured (tlsparams.Check relies on the
// client, and every handshake's check on what was negotiated), no
// verification in the handshake is assumed, and there is no record to
// cross-check.
func (externalDriver) Capabilities() (Capability, error) {
	return Capability{
		Kind:  KindExternal,
		TLS:   tlsparams.Capabilities{Name: "the external target", Unconfigured: true},
		Modes: []Mode{ModeHandshake, ModeHTTP, ModeHTTP2},
		// Its client certificates, CA and probe are TLS's; a plain port
		// of a server mtlsbench did not start is not something it knows.
		NoPlaintext: "mtlsbench does not configure an external server, so it has no plaintext listener to point a case at (its preflight, CA and certificates are TLS's)",
	}, nil
}
