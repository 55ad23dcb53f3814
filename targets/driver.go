package targets

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Driver starts one kind of target and says what that kind can do on this
// machine. The package implementing a kind registers its Driver in its init
// (see Register), as database/sql drivers do; Start and Capabilities find
// it by Config.Kind.
type Driver interface {
	// Start starts a target configured by cfg, whose Kind is the driver's,
	// and returns once it can be dialled. ctx bounds the start only: the
	// target runs until its Close. On error it returns a nil Target.
	Start(ctx context.Context, cfg Config) (Target, error)
	// Capabilities reports what the kind supports on this machine.
	Capabilities() (Capability, error)
}

// linkedBy names the package that registers each kind this module provides,
// for the error that says which import is missing.
var linkedBy = map[Kind]string{
	KindBuiltin:  "github.com/mtlsbench/mtlsbench/targets/builtin",
	KindNginx:    "github.com/mtlsbench/mtlsbench/targets/managed",
	KindHAProxy:  "github.com/mtlsbench/mtlsbench/targets/managed",
	KindOpenSSL:  "github.com/mtlsbench/mtlsbench/targets/managed",
	KindNode:     "github.com/mtlsbench/mtlsbench/targets/managed",
	KindExternal: "github.com/mtlsbench/mtlsbench/targets",
}

// registry maps each kind to its driver.
type registry struct {
	mu      sync.RWMutex // guards drivers
	drivers map[Kind]Driver
}

// drivers holds every registered kind.
var drivers registry

// Register makes a kind of target available to Start and Capabilities. It
// is meant to be called from the init function of the package implementing
// the kind, and panics if kind is empty, d is nil or the kind is already
// registered: those are programming errors.
func Register(kind Kind, d Driver) { drivers.register(kind, d) }

// Kinds returns the registered kinds, sorted.
func Kinds() []Kind { return drivers.kinds() }

// Start starts a target of cfg.Kind (zero: the built-in target) and returns
// once it can be dialled; for an external target it only names the server.
// ctx bounds the start only: the target runs until its Close. The errors
// are the kind's (see its package); a kind no package has registered gives
// an error naming the kind, the registered ones and the import that links
// it.
func Start(ctx context.Context, cfg Config) (Target, error) {
	if cfg.Kind == "" {
		cfg.Kind = KindBuiltin // cfg is our copy
	}
	d, err := drivers.lookup(cfg.Kind)
	if err != nil {
		return nil, err
	}
	t, err := d.Start(ctx, cfg)
	if err != nil {
		return nil, err // never a typed nil in a non-nil interface
	}
	return t, nil
}

// Capabilities reports what a target kind (zero: the built-in target)
// supports on this machine. For managed servers it runs the binary once to
// read its version and TLS library and probes which groups that library
// knows; results are cached. A managed server that is not installed gives
// a *MissingBinaryError. A kind no package has registered gives the same
// error as Start.
func Capabilities(kind Kind) (Capability, error) {
	if kind == "" {
		kind = KindBuiltin
	}
	d, err := drivers.lookup(kind)
	if err != nil {
		return Capability{}, err
	}
	return d.Capabilities()
}

func (r *registry) register(kind Kind, d Driver) {
	if kind == "" {
		panic("targets: Register with an empty kind")
	}
	if d == nil {
		panic(fmt.Sprintf("targets: Register of kind %q with a nil driver", kind))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.drivers[kind]; dup {
		panic(fmt.Sprintf("targets: Register called twice for kind %q", kind))
	}
	if r.drivers == nil {
		r.drivers = map[Kind]Driver{}
	}
	r.drivers[kind] = d
}

func (r *registry) kinds() []Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Kind, 0, len(r.drivers))
	for k := range r.drivers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// lookup returns kind's driver, or an error naming what is registered and,
// for a kind of this module, the import that registers it.
func (r *registry) lookup(kind Kind) (Driver, error) {
	r.mu.RLock()
	d, ok := r.drivers[kind]
	r.mu.RUnlock()
	if ok {
		return d, nil
	}
	names := make([]string, 0, len(linkedBy))
	for _, k := range r.kinds() {
		names = append(names, string(k))
	}
	registered := "no kind is registered"
	if len(names) > 0 {
		registered = "registered: " + strings.Join(names, ", ")
	}
	pkg, known := linkedBy[kind]
	if !known {
		return nil, fmt.Errorf("targets: unknown target kind %q (%s)", kind, registered)
	}
	return nil, fmt.Errorf("targets: target kind %q is not linked into this program (%s): add import _ %q, whose init registers it",
		kind, registered, pkg)
}
