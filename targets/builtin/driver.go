package builtin

import (
	"context"

	"github.com/mtlsbench/mtlsbench/targets"
)

func init() { targets.Register(targets.KindBuiltin, driver{}) }

// driver is how targets.Start starts the built-in target.
type driver struct{}

var _ targets.Driver = driver{}

// Start runs the built-in target in a child process started with
// cfg.ChildCommand (see StartProcess) or, with cfg.InProcess, in this
// process (see New). A config it refuses gives a *ConfigError.
func (driver) Start(ctx context.Context, cfg targets.Config) (targets.Target, error) {
	if !cfg.InProcess {
		return StartProcess(ctx, cfg)
	}
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Capabilities are those of Go's crypto/tls, the same on every machine.
func (driver) Capabilities() (targets.Capability, error) {
	return targets.Capability{
		Kind:                    targets.KindBuiltin,
		TLS:                     Capabilities(),
		Modes:                   []targets.Mode{targets.ModeHandshake, targets.ModeHTTP, targets.ModeHTTP2},
		ClientVerifyInHandshake: true,
		CrossCheck:              "its own counters",
		Plaintext:               true,
		Rotate:                  true,
	}, nil
}
