package report

import (
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

// mutualCostRun is a result of the mutual-cost matrix: TLS 1.3 full
// handshakes with auth mutual, server and none, plus a TLS 1.2 mutual case
// with no twin (no row of its own, but the plain TCP case is its baseline
// too: plain TCP has no TLS version).
func mutualCostRun() *results.Run {
	run := resultstest.DefaultRun()
	run.Cases = nil
	base := resultstest.GateSpec()
	base.Intervals = 0
	add := func(spec resultstest.CaseSpec, auth, name string) {
		c := spec.Build(resultstest.Start)
		c.Name, c.Params.Auth = name, auth
		if auth != "mutual" {
			c.Key += ",auth=" + auth
		}
		if auth == "none" {
			c.Params.TLSVersion, c.Params.Group, c.Params.KeyType, c.Params.ClientKeyType = "", "", "", ""
			c.Params.Chain, c.Params.ClientIdentities, c.Params.Resume = "", 0, ""
			c.Negotiated, c.Latency.Handshake = nil, nil
			c.Acceptance, c.ServerVerified = results.AcceptanceNone, false
		}
		run.Cases = append(run.Cases, c)
	}
	add(base, "mutual", "tls1.3-full-ecdsa-p256-x25519-mutual")
	server := base
	server.Seed, server.MedianUs, server.ClientCPU, server.TargetCPU, server.Sent, server.Received = 11, 2050, 260, 300, 610, 1650
	add(server, "server", "tls1.3-full-ecdsa-p256-x25519-server-only")
	none := base
	none.Seed, none.MedianUs, none.ClientCPU, none.TargetCPU, none.Sent, none.Received = 12, 60, 22, 18, 0, 0
	add(none, "none", "plain-tcp")
	tls12 := base
	tls12.Version, tls12.Seed = "1.2", 13
	add(tls12, "", "tls1.2-full-ecdsa-p256-x25519-mutual")
	return run
}

func TestMutualCostGolden(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{FormatTable, "mutualcost.table.golden"},
		{FormatMarkdown, "mutualcost.markdown.golden"},
		{FormatHTML, "mutualcost.html.golden"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			resultstest.Golden(t, tc.file, renderString(t, mutualCostRun(), tc.format, RenderOptions{}))
		})
	}
}

// The section's rows and figures: each mutual case against its one-way
// twin and the plain TCP case; none for a result without such pairs.
func TestMutualCostRows(t *testing.T) {
	rows, _ := caseRows(mutualCostRun(), false)
	cost := mutualCostRows(rows)
	var got []string
	for _, r := range cost {
		got = append(got, r.mutual+" vs "+r.baseline+": "+strings.Join(r.cells()[2:], " | "))
	}
	want := []string{
		// 330−260 µs client, 420−300 target, 1190−610 bytes out, 1802−1650 in.
		"tls1.3-full-ecdsa-p256-x25519-mutual vs tls1.3-full-ecdsa-p256-x25519-server-only: +70 (+27%) | +120 (+40%) | +580 (+95%) | +152 (+9%)",
		"tls1.3-full-ecdsa-p256-x25519-mutual vs plain-tcp: +308 (+1400%) | +402 (+2233%) | +1190 | +1802",
		"tls1.2-full-ecdsa-p256-x25519-mutual vs plain-tcp: +308 (+1400%) | +402 (+2233%) | +1190 | +1802",
	}
	if len(got) != len(want) {
		t.Fatalf("rows:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("row %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
	if rows, _ := caseRows(resultstest.DefaultRun(), false); mutualCostRows(rows) != nil {
		t.Error("a run without auth pairs has a cost section")
	}
	if out := string(renderString(t, resultstest.DefaultRun(), FormatTable, RenderOptions{})); strings.Contains(out, mutualCostTitle) {
		t.Error("the default run's table has a cost section")
	}
}
