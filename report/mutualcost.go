package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// The cost of mutual TLS. When a result holds cases that differ only in
// auth, the table, markdown and HTML reports add a section that takes
// each mutual case apart against its twins: the one-way TLS case (auth
// server: the same parameters, no client certificate) and the plain TCP
// case (auth none: the same load, requests and target, no TLS at all, so
// its twin ignores the TLS parameters). Each row is mutual minus the
// baseline, per connection: client and target CPU, handshake bytes each
// way (a plain connection has none, so there it is the whole handshake's),
// and p50 and p99 of the whole connection's latency (connect + handshake +
// requests: the one latency that a plain connection has too). Repeats
// count as one row each side (their mean).

// mutualCostTitle heads the section.
const mutualCostTitle = "Cost of mutual TLS"

// mutualCostNote says how to read it.
const mutualCostNote = "mutual minus the baseline, per connection: CPU in µs, handshake bytes (a plain TCP connection has none), p50 and p99 of the whole connection (connect + handshake + requests)"

// mutualCostHeader is the section's table header.
var mutualCostHeader = []string{"case", "baseline", "client CPU µs", "target CPU µs", "bytes out", "bytes in", "p50", "p99"}

// costRow is one mutual case against one baseline, as cells.
type costRow struct {
	mutual, baseline string
	clientCPU        string
	targetCPU        string
	sent, received   string
	p50, p99         string
}

func (r costRow) cells() []string {
	return []string{r.mutual, r.baseline, r.clientCPU, r.targetCPU, r.sent, r.received, r.p50, r.p99}
}

// authOf is a case's auth; results from before the axis were mutual.
func authOf(c *results.Case) string {
	if c.Params.Auth == "" {
		return "mutual"
	}
	return c.Params.Auth
}

// twins reports whether a (mutual) and b differ only in auth; a plain
// TCP baseline need only share what a connection without TLS has.
func twins(a, b *results.Case) bool {
	pa, pb := a.Params, b.Params
	pa.Auth, pb.Auth = "", ""
	if authOf(b) == "none" {
		pa.TLSVersion, pa.CipherSuite, pa.Group, pa.KeyType, pa.ClientKeyType = "", "", "", "", ""
		pa.Chain, pa.ClientIdentities, pa.Resume = "", 0, ""
		pb.TLSVersion, pb.CipherSuite, pb.Group, pb.KeyType, pb.ClientKeyType = "", "", "", "", ""
		pb.Chain, pb.ClientIdentities, pb.Resume = "", 0, ""
	}
	return pa == pb
}

// mutualCostRows compares each mutual row with its server and none twins;
// nil when the result has no such pair.
func mutualCostRows(rows []caseRow) []costRow {
	var out []costRow
	for _, m := range rows {
		if authOf(m.sum) != "mutual" {
			continue
		}
		for _, baseline := range []string{"server", "none"} {
			for _, b := range rows {
				if authOf(b.sum) == baseline && twins(m.sum, b.sum) {
					out = append(out, costOf(m, b))
					break
				}
			}
		}
	}
	return out
}

// costOf is the row of mutual case m against baseline b.
func costOf(m, b caseRow) costRow {
	r := costRow{mutual: m.label, baseline: b.label}
	mc, bc := m.sum, b.sum
	r.clientCPU, r.targetCPU = "–", "–"
	if mc.Counts.OK > 0 && bc.Counts.OK > 0 {
		r.clientCPU = costCell(mc.CPU.ClientUsPerHandshake, bc.CPU.ClientUsPerHandshake, units.Short)
		if mc.CPU.TargetMeasured && bc.CPU.TargetMeasured {
			r.targetCPU = costCell(mc.CPU.TargetUsPerHandshake, bc.CPU.TargetUsPerHandshake, units.Short)
		}
	}
	r.sent, r.received = "–", "–"
	if mc.Counts.OK > 0 && bc.Counts.OK > 0 {
		r.sent = costCell(mc.Bytes.HandshakeSentMean, bc.Bytes.HandshakeSentMean, units.Bytes)
		r.received = costCell(mc.Bytes.HandshakeReceivedMean, bc.Bytes.HandshakeReceivedMean, units.Bytes)
	}
	r.p50 = latencyCost(m, b, func(s *results.Summary) int64 { return s.P50Us })
	r.p99 = latencyCost(m, b, func(s *results.Summary) int64 { return s.P99Us })
	return r
}

// latencyCost is the difference of the rows' whole-connection latency
// percentile (the mean over repeats).
func latencyCost(m, b caseRow, get func(*results.Summary) int64) string {
	total := func(r caseRow) spread {
		return spreadOf(r.cases, func(c *results.Case) (float64, bool) {
			if s := c.Latency.Total; s != nil && s.Count > 0 {
				return float64(get(s)), true
			}
			return 0, false
		})
	}
	ms, bs := total(m), total(b)
	if ms.n == 0 || bs.n == 0 {
		return "–"
	}
	return costCell(ms.mean, bs.mean, func(us float64) string { return units.Latency(us) })
}

// costCell writes mutual − base with its sign and, when base is not
// zero, relative to it: "+52 (+12%)", "−3 (−1%)", "+1090".
func costCell(mutual, base float64, format func(float64) string) string {
	d := mutual - base
	sign := "+"
	if d < 0 {
		sign = "−"
	}
	cell := sign + format(math.Abs(d))
	if base > 0 {
		pct := math.Round(100 * d / base)
		if pct == 0 {
			pct = 0 // no "-0"
		}
		cell += " (" + signed(pct) + "%)"
	}
	return cell
}

func signed(v float64) string {
	if v < 0 {
		return "−" + strconv.FormatFloat(-v, 'f', 0, 64)
	}
	return "+" + strconv.FormatFloat(v, 'f', 0, 64)
}

// writeTextMutualCost writes the section under the text table, if the
// result has anything to compare.
func writeTextMutualCost(w io.Writer, rows []caseRow) error {
	cost := mutualCostRows(rows)
	if len(cost) == 0 {
		return nil
	}
	t := TextTable{Header: mutualCostHeader, Left: []int{0, 1}}
	for _, r := range cost {
		t.Rows = append(t.Rows, r.cells())
	}
	table, err := t.Render()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s (%s):\n", mutualCostTitle, mutualCostNote)
	_, err = w.Write(table)
	return err
}

// writeMarkdownMutualCost writes the section as a markdown table.
func writeMarkdownMutualCost(b *bytes.Buffer, rows []caseRow) {
	cost := mutualCostRows(rows)
	if len(cost) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### %s\n\n%s.\n\n", mutualCostTitle, MarkdownText(mutualCostNote))
	b.WriteString(MarkdownRow(mutualCostHeader...))
	b.WriteString(MarkdownRow(":---", ":---", "---:", "---:", "---:", "---:", "---:", "---:"))
	for _, r := range cost {
		cells := r.cells()
		cells[0], cells[1] = MarkdownCode(cells[0]), MarkdownCode(cells[1])
		b.WriteString(MarkdownRow(cells...))
	}
}
