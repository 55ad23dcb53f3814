package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// The amortization section: when a result holds cases that differ only in
// requests per connection, how the handshake's share of the client's and
// the target's CPU, and of a connection's latency, falls as the requests
// on a connection grow.
//
// A case's CPU per handshake is its CPU per connection (one handshake
// each), requests included. The handshake's own CPU is the requests=0
// case's; without one it is extrapolated from the two smallest request
// counts (a straight line back to zero requests), and the section says so.
// The latency share is the handshake's mean time over the handshake's and
// the requests' mean times (connect and queueing left out).

// amortization is one group of cases that differ only in requests.
type amortization struct {
	// title names what the cases share: the first one's name without
	// its requests part, and the mode.
	title string
	rows  []amortRow
	// extrapolated: no requests=0 case; the handshake's CPU is
	// extrapolated.
	extrapolated bool
	// target: the target's CPU was measured in every case.
	target bool
}

type amortRow struct {
	label    string
	requests int
	// client and target CPU per connection, µs, and the handshake's share
	// of it; perRequest is the rest divided by the requests.
	clientUs, targetUs                 float64
	clientShare, targetShare           float64
	clientPerRequest, targetPerRequest float64
	// latencyShare is the handshake's share of hsUs + reqUs (means).
	hsUs, reqUs, latencyShare float64
}

// amortizations finds the groups in run: cases (repeats taken together)
// whose keys are equal but for requests, at least two request counts, in
// order of first appearance, each ordered by requests.
func amortizations(run *results.Run) []amortization {
	rows, _ := caseRows(run, false)
	type member struct {
		row      caseRow
		requests int
	}
	var order []string
	groups := map[string][]member{}
	for _, r := range rows {
		c := r.sum
		if c.Counts.OK == 0 {
			continue
		}
		rest, ok := withoutRequests(c.MatchKey())
		if !ok {
			continue
		}
		if _, seen := groups[rest]; !seen {
			order = append(order, rest)
		}
		groups[rest] = append(groups[rest], member{r, c.Params.Requests})
	}
	var out []amortization
	for _, k := range order {
		ms := groups[k]
		slices.SortStableFunc(ms, func(a, b member) int { return a.requests - b.requests })
		distinct := ms[:0:0]
		for _, m := range ms {
			if len(distinct) == 0 || distinct[len(distinct)-1].requests != m.requests {
				distinct = append(distinct, m)
			}
		}
		if len(distinct) < 2 {
			continue
		}
		a := amortization{title: groupTitle(distinct[0].row.sum), target: true}
		for _, m := range distinct {
			c := m.row.sum
			a.target = a.target && c.CPU.TargetMeasured
			r := amortRow{label: m.row.label, requests: m.requests, clientUs: c.CPU.ClientUsPerHandshake, targetUs: c.CPU.TargetUsPerHandshake}
			if c.Latency.Handshake != nil {
				r.hsUs = c.Latency.Handshake.MeanUs
			}
			if c.Latency.Requests != nil {
				r.reqUs = c.Latency.Requests.MeanUs
			}
			r.latencyShare = share(r.hsUs, r.hsUs+r.reqUs)
			a.rows = append(a.rows, r)
		}
		first, second := a.rows[0], a.rows[1]
		a.extrapolated = first.requests != 0
		hsClient, hsTarget := handshakeCost(first.requests, first.clientUs, second.requests, second.clientUs),
			handshakeCost(first.requests, first.targetUs, second.requests, second.targetUs)
		for i := range a.rows {
			r := &a.rows[i]
			r.clientShare, r.targetShare = share(hsClient, r.clientUs), share(hsTarget, r.targetUs)
			r.clientPerRequest, r.targetPerRequest = math.NaN(), math.NaN()
			if r.requests > 0 {
				r.clientPerRequest = max(r.clientUs-hsClient, 0) / float64(r.requests)
				r.targetPerRequest = max(r.targetUs-hsTarget, 0) / float64(r.requests)
			}
		}
		out = append(out, a)
	}
	return out
}

// groupTitle is c's name without its requests part ("-req10"), and its
// mode: what every case of its group shares.
func groupTitle(c *results.Case) string {
	name := strings.Replace(c.Name, "-req"+strconv.Itoa(c.Params.Requests), "", 1)
	if m := c.Params.TargetMode; m != "" {
		name += ", " + m + " mode"
	}
	if s := c.Params.Streams; s > 1 {
		name += fmt.Sprintf(", %d streams", s)
	}
	return name
}

// withoutRequests returns a case key without its requests part, and
// whether it had one.
func withoutRequests(key string) (string, bool) {
	parts := strings.Split(key, ",")
	for i, p := range parts {
		if strings.HasPrefix(p, "requests=") {
			return strings.Join(slices.Delete(parts, i, i+1), ","), true
		}
	}
	return "", false
}

// handshakeCost is the cost of a connection with no request: the cost at
// k1 requests when k1 is 0, else the line through (k1, c1) and (k2, c2)
// taken back to zero requests (never below zero).
func handshakeCost(k1 int, c1 float64, k2 int, c2 float64) float64 {
	if k1 == 0 || k2 == k1 {
		return c1
	}
	perRequest := (c2 - c1) / float64(k2-k1)
	return max(c1-float64(k1)*perRequest, 0)
}

// share is part/whole within [0, 1]; NaN when whole is not positive.
func share(part, whole float64) float64 {
	if !(whole > 0) {
		return math.NaN()
	}
	return min(max(part/whole, 0), 1)
}

func shareCell(f float64) string {
	if math.IsNaN(f) {
		return "–"
	}
	return units.Share(f)
}

func usCell(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return units.Rate(v)
}

func (a amortization) header() []string {
	h := []string{"requests", "client CPU µs/conn", "client µs/request", "handshake share"}
	if a.target {
		h = append(h, "target CPU µs/conn", "target µs/request", "handshake share")
	}
	return append(h, "handshake / requests time", "handshake share of time")
}

func (a amortization) cells(r amortRow) []string {
	row := []string{strconv.Itoa(r.requests), usCell(r.clientUs), usCell(r.clientPerRequest), shareCell(r.clientShare)}
	if a.target {
		row = append(row, usCell(r.targetUs), usCell(r.targetPerRequest), shareCell(r.targetShare))
	}
	reqTime := "–"
	if r.requests > 0 {
		reqTime = units.Latency(r.reqUs)
	}
	return append(row, units.Latency(r.hsUs)+" / "+reqTime, shareCell(r.latencyShare))
}

// caption says what the section shows and how the handshake's cost was
// taken.
func (a amortization) caption() string {
	how := "the handshake's own cost is the requests=0 case's"
	if a.extrapolated {
		how = fmt.Sprintf("no requests=0 case: the handshake's own cost is extrapolated from requests=%d and %d", a.rows[0].requests, a.rows[1].requests)
	}
	return "CPU per connection (one handshake and its requests); " + how + "; times are means."
}

const amortTitle = "Amortization: the handshake's share as requests per connection grow"

// writeTextAmortization writes the section for the terminal table.
func writeTextAmortization(w *bytes.Buffer, run *results.Run) error {
	for _, a := range amortizations(run) {
		fmt.Fprintf(w, "\n%s (%s)\n", amortTitle, a.title)
		t := TextTable{Header: a.header()}
		for _, r := range a.rows {
			t.Rows = append(t.Rows, a.cells(r))
		}
		table, err := t.Render()
		if err != nil {
			return err
		}
		w.Write(table)
		fmt.Fprintln(w, a.caption())
	}
	return nil
}

// writeMarkdownAmortization writes the section as markdown.
func writeMarkdownAmortization(w io.Writer, run *results.Run) {
	for _, a := range amortizations(run) {
		fmt.Fprintf(w, "\n#### %s\n\n%s\n\n", MarkdownText(amortTitle), MarkdownText(a.title))
		h := a.header()
		align := make([]string, len(h))
		for i := range align {
			align[i] = "---:"
		}
		io.WriteString(w, MarkdownRow(h...))
		io.WriteString(w, MarkdownRow(align...))
		for _, r := range a.rows {
			io.WriteString(w, MarkdownRow(a.cells(r)...))
		}
		fmt.Fprintf(w, "\n%s\n", MarkdownText(a.caption()))
	}
}

// htmlAmortization is the section as the HTML template shows it.
type htmlAmortization struct {
	Title, Group, Caption string
	Header                []string
	Rows                  [][]string
}

func buildHTMLAmortization(run *results.Run) []htmlAmortization {
	var out []htmlAmortization
	for _, a := range amortizations(run) {
		h := htmlAmortization{Title: amortTitle, Group: a.title, Caption: a.caption(), Header: a.header()}
		for _, r := range a.rows {
			h.Rows = append(h.Rows, a.cells(r))
		}
		out = append(out, h)
	}
	return out
}
