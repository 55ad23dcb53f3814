package report

import (
	"reflect"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

func TestOverlays(t *testing.T) {
	var specs []resultstest.CaseSpec
	for _, v := range []string{"1.2", "1.3"} {
		for _, k := range []string{"rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ed25519"} {
			s := resultstest.GateSpec()
			s.Version, s.KeyType = v, k
			s.Rate = 100
			specs = append(specs, s)
		}
	}
	sets := results.GroupRepeats(resultstest.Samples(1, 1, 0, specs...))
	for _, tc := range []struct {
		groupBy []string
		want    []string
		members int
	}{
		// Ten cases: key types overlaid (client_key_type follows them),
		// one plot per TLS version.
		{nil, []string{"tls_version=1.2", "tls_version=1.3"}, 5},
		{[]string{"key_type"}, []string{"key_type=rsa2048", "key_type=rsa3072", "key_type=ecdsa-p256", "key_type=ecdsa-p384", "key_type=ed25519"}, 2},
		{[]string{"none"}, []string{"all cases"}, 10},
	} {
		groups, err := overlays(sets, tc.groupBy)
		if err != nil {
			t.Fatal(err)
		}
		var titles []string
		for _, g := range groups {
			titles = append(titles, g.title)
			if len(g.sets) != tc.members {
				t.Errorf("group-by %v: %s has %d cases, want %d", tc.groupBy, g.title, len(g.sets), tc.members)
			}
		}
		if !reflect.DeepEqual(titles, tc.want) {
			t.Errorf("group-by %v: plots %q, want %q", tc.groupBy, titles, tc.want)
		}
	}
	if _, err := overlays(sets, []string{"colour"}); err == nil {
		t.Error("unknown parameter accepted")
	}
}
