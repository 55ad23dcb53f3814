package targets

import "context"

// Until the built-in and managed servers have packages of their own, this
// package registers them itself.
func init() {
	Register(KindBuiltin, builtinDriver{})
	for _, k := range []Kind{KindNginx, KindHAProxy, KindOpenSSL} {
		Register(k, managedDriver{kind: k})
	}
}

type builtinDriver struct{}

func (builtinDriver) Start(ctx context.Context, cfg Config) (Target, error) {
	if cfg.InProcess {
		b, err := NewBuiltin(cfg)
		if err != nil {
			return nil, err
		}
		if err := b.Start(); err != nil {
			return nil, err
		}
		return b, nil
	}
	return StartProcess(ctx, cfg, cfg.ChildCommand)
}

func (builtinDriver) Capabilities() (Capability, error) { return builtinCapability(), nil }

type managedDriver struct{ kind Kind }

func (d managedDriver) Start(ctx context.Context, cfg Config) (Target, error) {
	return StartManaged(ctx, d.kind, cfg)
}

func (d managedDriver) Capabilities() (Capability, error) { return managedCapability(d.kind) }
