package targets

import "context"

// Until the managed servers have a package of their own, this package
// registers them itself.
func init() {
	for _, k := range []Kind{KindNginx, KindHAProxy, KindOpenSSL} {
		Register(k, managedDriver{kind: k})
	}
}

type managedDriver struct{ kind Kind }

func (d managedDriver) Start(ctx context.Context, cfg Config) (Target, error) {
	return StartManaged(ctx, d.kind, cfg)
}

func (d managedDriver) Capabilities() (Capability, error) { return managedCapability(d.kind) }
