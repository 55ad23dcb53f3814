package targets

import (
	"context"
	"strings"
	"testing"
)

type fakeDriver struct{ kind Kind }

func (d fakeDriver) Start(context.Context, Config) (Target, error) {
	return &external{addr: "127.0.0.1:1", serverName: string(d.kind)}, nil
}

func (d fakeDriver) Capabilities() (Capability, error) { return Capability{Kind: d.kind}, nil }

// TestRegistryErrors: a kind nobody registered is an error naming it, what
// is registered and, for this module's kinds, the import that links it.
func TestRegistryErrors(t *testing.T) {
	var r registry
	if _, err := r.lookup(KindNginx); err == nil || !strings.Contains(err.Error(), "no kind is registered") {
		t.Errorf("empty registry: %v", err)
	}
	r.register(KindBuiltin, fakeDriver{KindBuiltin})
	r.register(KindExternal, fakeDriver{KindExternal})
	if d, err := r.lookup(KindBuiltin); err != nil || d != (fakeDriver{KindBuiltin}) {
		t.Errorf("lookup builtin: %v, %v", d, err)
	}
	_, err := r.lookup(KindHAProxy)
	for _, want := range []string{`"haproxy"`, "registered: builtin, external", `import _ "github.com/mtlsbench/mtlsbench/targets/managed"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("unregistered haproxy: %v, want it to mention %s", err, want)
		}
	}
	_, err = r.lookup("envoy")
	for _, want := range []string{`unknown target kind "envoy"`, "registered: builtin, external"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("unknown kind: %v, want it to mention %s", err, want)
		}
	}
	if got := r.kinds(); len(got) != 2 || got[0] != KindBuiltin || got[1] != KindExternal {
		t.Errorf("kinds %v", got)
	}
}

func TestRegisterRefusesMistakes(t *testing.T) {
	for name, register := range map[string]func(*registry){
		"empty kind": func(r *registry) { r.register("", fakeDriver{}) },
		"nil driver": func(r *registry) { r.register("envoy", nil) },
		"twice":      func(r *registry) { r.register("envoy", fakeDriver{}); r.register("envoy", fakeDriver{}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			register(&registry{})
		})
	}
}
