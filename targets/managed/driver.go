package managed

import (
	"context"

	"github.com/mtlsbench/mtlsbench/targets"
)

func init() {
	for _, k := range []targets.Kind{targets.KindNginx, targets.KindHAProxy, targets.KindOpenSSL} {
		targets.Register(k, driver{kind: k})
	}
}

// driver is how targets.Start starts one kind of managed server.
type driver struct{ kind targets.Kind }

var _ targets.Driver = driver{}

// Start is Start for the driver's kind.
func (d driver) Start(ctx context.Context, cfg targets.Config) (targets.Target, error) {
	return Start(ctx, d.kind, cfg)
}

// Capabilities reports what the server can do here (see capability.go).
func (d driver) Capabilities() (targets.Capability, error) { return managedCapability(d.kind) }
