package bench

import (
	"context"
	"fmt"

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

// targetTLS is what the case's target can be made to do in TLS.
func targetTLS(c *scenarios.Case) (tlsparams.Capabilities, error) {
	switch c.Target.Kind {
	case "external":
		return tlsparams.Capabilities{Name: "the external target " + c.Target.Addr, Unconfigured: true}, nil
	case "", string(targets.KindBuiltin):
		return tlsparams.GoTLS("the builtin target"), nil
	}
	capability, err := targets.Capabilities(targets.Kind(c.Target.Kind))
	if err != nil {
		return tlsparams.Capabilities{}, err
	}
	tc := tlsparams.Capabilities{Name: c.Target.Kind, Library: capability.Library, Features: []tlsparams.Feature{tlsparams.PinTLS13Suite}}
	for _, v := range capability.Versions {
		pv, _ := tlsparams.ParseVersion(v)
		tc.Versions = append(tc.Versions, pv)
	}
	for _, name := range capability.Groups {
		g, _ := tlsparams.ParseGroup(name)
		tc.Groups = append(tc.Groups, g)
	}
	return tc, nil
}

// checkCapabilities refuses, before any load, what a managed target cannot
// do apart from TLS (a mode, more requests per connection than it serves),
// and finds a missing server binary early.
func checkCapabilities(c *scenarios.Case) error {
	switch c.Target.Kind {
	case "", string(targets.KindBuiltin), string(targets.KindExternal):
		return nil
	}
	capability, err := targets.Capabilities(targets.Kind(c.Target.Kind))
	if err != nil {
		return err
	}
	cfg := targetConfig(c, &material{})
	cfg.Groups, cfg.CipherSuitesTLS13 = nil, nil // TLS: tlsparams.Check
	if err := capability.Check(cfg); err != nil {
		return err
	}
	if max := capability.MaxRequestsPerConn; max > 0 && c.Requests > max {
		return fmt.Errorf("%s answers at most %d request per connection, the case asks for %d; use nginx or haproxy for keep-alive requests",
			c.Target.Kind, max, c.Requests)
	}
	return nil
}

// clientVerifyNote explains, for targets that verify the client
// certificate only after the handshake, where a rejection shows.
func clientVerifyNote(c *scenarios.Case) string {
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
