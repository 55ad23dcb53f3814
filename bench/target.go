package bench

import (
	"context"

	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"

	// Link every kind targets.Start may be asked for: the built-in target,
	// and nginx, HAProxy and openssl s_server.
	_ "github.com/mtlsbench/mtlsbench/targets/builtin"
	_ "github.com/mtlsbench/mtlsbench/targets/managed"
)

// startTarget starts (or, for an external target, names) the case's server.
func (r *runner) startTarget(ctx context.Context, c *scenarios.Case, m *material) (targets.Target, error) {
	cfg := targetConfig(c, m)
	cfg.ChildCommand = r.opts.ChildCommand
	return targets.Start(ctx, cfg)
}

// clientVerifyNote explains, for targets that verify the client
// certificate only after the handshake, where a rejection shows.
func clientVerifyNote(c *scenarios.Case) string {
	if !c.Auth.Mutual() {
		return "" // no client certificate to reject
	}
	switch c.Target.Kind {
	case "", string(targets.KindBuiltin):
		return ""
	case string(targets.KindExternal):
		if c.Version == tlsparams.TLS13 && c.Requests == 0 {
			return "against an external server, a TLS 1.3 handshake counts as accepted once the server's first record (its session ticket) arrives; " +
				"a server that checks the client certificate after sending it (nginx does) would still be counted: add --requests 1 to see such a rejection (HTTP 400, http_status)"
		}
		return ""
	}
	capability, err := targets.Capabilities(targets.Kind(c.Target.Kind))
	if err != nil || capability.ClientVerifyInHandshake {
		return ""
	}
	return c.Target.Kind + " checks the client certificate after the TLS handshake: a rejected certificate shows as a closed connection (handshake mode) or HTTP 400, and in the cross-check"
}
