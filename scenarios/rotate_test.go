package scenarios

import (
	"strings"
	"testing"
	"time"
)

// target.rotate_at from a file and from the flags' overrides: the offsets
// land in the case, and its key names them (a rotated run is not the same
// cell as one that never rotates).
func TestRotateAt(t *testing.T) {
	spec, err := Parse([]byte("target:\n  rotate_at: [1s, 2500ms]\nload:\n  duration: 5s\n"), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	c := cases[0]
	if c.Target.Rotate != RotateCert {
		t.Errorf("rotate %q, want the default %q", c.Target.Rotate, RotateCert)
	}
	if len(c.Target.RotateAt) != 2 || c.Target.RotateAt[1].D() != 2500*time.Millisecond || !strings.HasSuffix(c.Key, ",rotate_at=1s+2.5s") {
		t.Errorf("case rotate_at %v, key %s", c.Target.RotateAt, c.Key)
	}
	// Expand copies the offsets: changing the spec's leaves the case's.
	spec.Target.RotateAt[0] = Duration(3 * time.Second)
	if c.Target.RotateAt[0].D() != time.Second {
		t.Error("the case shares the spec's rotate_at")
	}

	spec, _ = Parse([]byte("name: x\n"), "x.yaml")
	at := []time.Duration{2 * time.Second}
	d := 5 * time.Second
	if err := spec.Apply(Overrides{RotateAt: &at, Load: LoadOverrides{Duration: &d}}); err != nil {
		t.Fatal(err)
	}
	if cases, _, err = Expand(*spec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cases[0].Key, ",rotate_at=2s") {
		t.Errorf("key %s", cases[0].Key)
	}
	ca := RotateCA
	if err := spec.Apply(Overrides{Rotate: &ca}); err != nil {
		t.Fatal(err)
	}
	if cases, _, err = Expand(*spec); err != nil {
		t.Fatal(err)
	}
	if c := cases[0]; c.Target.Rotate != RotateCA || !strings.HasSuffix(c.Key, ",rotate_at=2s,rotate=ca") {
		t.Errorf("rotate %q, key %s", c.Target.Rotate, c.Key)
	}
	clone := spec.Clone()
	clone.Target.RotateAt[0] = 0
	if spec.Target.RotateAt[0].D() != 2*time.Second {
		t.Error("Clone shares rotate_at")
	}
}

// Offsets outside the window or out of order, a window that ends at a
// count, and an external target are refused, each naming the fix; a flag
// is named as the flag.
func TestRotateAtRefused(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"target:\n  rotate_at: [5s]\nload:\n  duration: 5s\n", "outside the measured window"},
		{"target:\n  rotate_at: [0s]\nload:\n  duration: 5s\n", "outside the measured window"},
		{"target:\n  rotate_at: [11s]\n", "below the window's 10s"}, // the default window
		{"target:\n  rotate_at: [3s, 2s]\nload:\n  duration: 5s\n", "give the offsets in increasing order"},
		{"target:\n  rotate_at: [1s]\nload:\n  count: 1000\n", "set load.duration (--duration) instead of load.count"},
		{"target:\n  rotate_at: [2s]\nload:\n  steps: [100, 200]\n  step_duration: 1s\n", "below the window's 2s"},
		{"target:\n  kind: external\n  addr: 10.0.0.5:443\n  cert: c.pem\n  key: k.pem\n  ca: ca.pem\n  rotate_at: [1s]\n", "does not control its certificate"},
		{"target:\n  rotate: ca\n", "give target.rotate_at (--rotate-at) too"},
		{"target:\n  rotate: key\n  rotate_at: [1s]\n", `unknown rotation "key"`},
	} {
		spec, err := Parse([]byte(tc.yaml), "r.yaml")
		if err == nil {
			_, _, err = Expand(*spec)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want an error containing %q", tc.yaml, err, tc.want)
		}
	}
	spec, _ := Parse([]byte("load:\n  duration: 2s\n"), "x.yaml")
	at := []time.Duration{3 * time.Second}
	err := spec.Apply(Overrides{RotateAt: &at, Names: map[string]string{"target.rotate_at": "--rotate-at"}})
	if err == nil {
		_, _, err = Expand(*spec)
	}
	if err == nil || !strings.Contains(err.Error(), "--rotate-at") {
		t.Errorf("--rotate-at 3s in a 2 s window: %v; want an error naming the flag", err)
	}
}
