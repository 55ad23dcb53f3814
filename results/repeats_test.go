package results

import (
	"reflect"
	"testing"
)

func TestGroupRepeats(t *testing.T) {
	summary := func(values ...int64) *Summary {
		h := NewHistogram()
		for _, v := range values {
			if err := h.RecordValue(v); err != nil {
				t.Fatal(err)
			}
		}
		s := Summarize(h)
		return &s
	}
	run := &Run{Cases: []Case{
		{Name: "a", Key: "k=a", Repeat: 0, HandshakesPerS: 10, Latency: Latency{Handshake: summary(100, 200)}},
		{Name: "b", Key: "k=b", Repeat: 0, HandshakesPerS: 50},
		{Name: "a", Key: "k=a", Repeat: 1, HandshakesPerS: 30, Latency: Latency{Handshake: summary(300)}},
		{Name: "old", Repeat: 0, HandshakesPerS: 7},
	}}
	groups := GroupRepeats(run)
	var keys []string
	var sizes []int
	for _, g := range groups {
		keys = append(keys, g.Key)
		sizes = append(sizes, len(g.Cases))
	}
	// First-appearance order; a case without a key matches by name.
	if want := []string{"k=a", "k=b", "old"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	if want := []int{2, 1, 1}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("sizes %v, want %v", sizes, want)
	}
	if got := groups[0].Median(func(c *Case) float64 { return c.HandshakesPerS }); got != 20 {
		t.Errorf("median rate %v, want 20", got)
	}
	h, err := groups[0].MergedHistogram(func(l *Latency) *Summary { return l.Handshake })
	if err != nil || h == nil || h.TotalCount() != 3 {
		t.Fatalf("merged histogram %v, %v: want the 3 values of both repeats", h, err)
	}
	if h, err := groups[1].MergedHistogram(func(l *Latency) *Summary { return l.Handshake }); h != nil || err != nil {
		t.Errorf("no histogram: got %v, %v, want nil, nil", h, err)
	}
	if got := Median(nil); got != 0 {
		t.Errorf("Median(nil) = %v", got)
	}
}

func TestParamsLookup(t *testing.T) {
	p := Params{TLSVersion: "1.3", Concurrency: 4}
	for name, want := range map[string]string{"tls_version": "1.3", "concurrency": "4", "cipher_suite": ""} {
		if got, ok := p.Lookup(name); !ok || got != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if _, ok := p.Lookup("colour"); ok {
		t.Error("Lookup of an unknown name succeeded")
	}
	if names := ParamNames(); names[0] != "tls_version" || len(names) != reflect.TypeFor[Params]().NumField() {
		t.Errorf("ParamNames() = %q", names)
	}
}
