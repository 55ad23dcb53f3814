package bench

import (
	"fmt"

	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// clientCapabilities are the capabilities of the case's client stack,
// which tlsparams.Check compares with the target's.
func clientCapabilities(c *scenarios.Case) tlsparams.Capabilities {
	return loadgen.StackOf(c.Client).Capabilities()
}

// clientAvailable refuses a case of a client stack this binary does not
// have (the openssl client in a build without cgo or libssl's headers),
// saying how to get it, so that no case runs on another stack than it
// says.
func clientAvailable(c *scenarios.Case) error {
	return loadgen.StackOf(c.Client).Available()
}

// engineProblem refuses, before any load, what the engine cannot do with
// the case's client stack apart from TLS (tlsparams.Check has judged
// that): early data in a case with requests.
func engineProblem(c *scenarios.Case) error {
	if c.EarlyData > 0 && c.Requests > 0 {
		return &tlsparams.UnsupportedError{Who: "the engine", What: fmt.Sprintf("send early data in a case with %d requests per connection", c.Requests),
			Reason: "it sends early data as filler bytes, which an HTTP server would read as the start of a request (0-RTT requests are not built)",
			Fix:    "use requests 0 (handshake mode) with early data"}
	}
	return nil
}

// earlyData is what the case's early data became, for its result: nil
// when it offered none.
func earlyData(e results.EarlyData) *results.EarlyData {
	if e.Offered == 0 {
		return nil
	}
	return &e
}

// earlyDataWarning says when a server rejected some of the early data
// offered: those resumptions ran without 0-RTT, so the case's figures mix
// both kinds.
func earlyDataWarning(e *results.EarlyData) string {
	if e == nil || e.Rejected == 0 {
		return ""
	}
	return fmt.Sprintf("the server rejected the early data of %d of the %d resumed handshakes that offered it: those went on without 0-RTT", e.Rejected, e.Offered)
}

// earlyDataCrosscheck compares, where the target records early data (only
// openssl s_server), the connections whose early data it received and
// their bytes with what the client counted as accepted. A connection at
// a window's edge may fall on either side, hence edgeSlack connections'
// worth of each.
func earlyDataCrosscheck(out *results.Case, tc *results.TargetCounts, edgeSlack int64) []string {
	if out.Params.EarlyData == 0 || out.Params.Target != "openssl" {
		return nil
	}
	var accepted, bytes int64
	if out.EarlyData != nil {
		accepted, bytes = out.EarlyData.Accepted, out.EarlyData.BytesAccepted
	}
	var problems []string
	slack := func(n int64) float64 { return 0.01*float64(n) + float64(edgeSlack) }
	if d := tc.EarlyData - accepted; float64(max(d, -d)) > slack(accepted) {
		problems = append(problems, fmt.Sprintf("the target received early data on %d connections, the client had it accepted on %d", tc.EarlyData, accepted))
	}
	per := int64(out.Params.EarlyData)
	if d := tc.EarlyDataBytes - bytes; float64(max(d, -d)) > 0.01*float64(bytes)+float64(edgeSlack*per) {
		problems = append(problems, fmt.Sprintf("the target received %d bytes of early data, the client had %d accepted", tc.EarlyDataBytes, bytes))
	}
	return problems
}
