package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// This file holds the small text helpers the renderers share; how figures
// themselves are written is package units'.

// topError returns the most frequent error class (ties by name, so the
// choice does not depend on map order) and its count.
func topError(errs map[string]int64) (class string, count int64) {
	for _, name := range sortedKeys(errs) {
		if errs[name] > count {
			class, count = name, errs[name]
		}
	}
	return class, count
}

// errorClassesByCount lists the error classes, most frequent first.
func errorClassesByCount(errs map[string]int64) []string {
	names := sortedKeys(errs)
	sort.SliceStable(names, func(i, j int) bool { return errs[names[i]] > errs[names[j]] })
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sparkBlocks are the eight heights of a sparkline.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values as at most width block characters, averaging
// neighbours when there are more values than characters. The lowest value
// maps to the lowest block and the highest to the highest; a flat series
// is drawn at mid height.
func sparkline(values []float64, width int) string {
	if len(values) == 0 || width <= 0 {
		return ""
	}
	if len(values) > width {
		buckets := make([]float64, width)
		for i := range buckets {
			lo := i * len(values) / width
			hi := (i + 1) * len(values) / width
			var sum float64
			for _, v := range values[lo:hi] {
				sum += v
			}
			buckets[i] = sum / float64(hi-lo)
		}
		values = buckets
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	var b strings.Builder
	for _, v := range values {
		idx := len(sparkBlocks) / 2
		if hi > lo {
			idx = int(math.Round((v - lo) / (hi - lo) * float64(len(sparkBlocks)-1)))
		}
		b.WriteRune(sparkBlocks[idx])
	}
	return b.String()
}

// caseLabels names each case for a table row: its name, with "#N" (the
// 1-based repeat) when the run repeats cases under one name. With shorten,
// the words every name shares are dropped first (see shortenLabels) and
// returned as common.
func caseLabels(run *results.Run, shorten bool) (labels []string, common string) {
	seen := map[string]int{}
	var distinct []string
	for _, c := range run.Cases {
		if seen[c.Name] == 0 {
			distinct = append(distinct, c.Name)
		}
		seen[c.Name]++
	}
	short := map[string]string{}
	if shorten {
		if names, words, ok := shortenLabels(distinct); ok {
			common = words
			for i, n := range distinct {
				short[n] = names[i]
			}
		}
	}
	labels = make([]string, len(run.Cases))
	for i, c := range run.Cases {
		labels[i] = c.Name
		if s, ok := short[c.Name]; ok {
			labels[i] = s
		}
		if seen[c.Name] > 1 {
			labels[i] = fmt.Sprintf("%s #%d", labels[i], c.Repeat+1)
		}
	}
	return labels, common
}

// shortenLabels drops the dash-separated words every label shares ("ecdsa",
// "p256", "x25519" when only the TLS version and resumption vary) and
// returns the shortened labels and the dropped words in their first order.
// ok is false when shortening would leave a label empty or two alike.
func shortenLabels(labels []string) (short []string, common string, ok bool) {
	if len(labels) < 2 {
		return labels, "", false
	}
	count := map[string]int{}
	for _, l := range labels {
		seen := map[string]bool{}
		for _, w := range strings.Split(l, "-") {
			if !seen[w] {
				seen[w] = true
				count[w]++
			}
		}
	}
	var commonWords []string
	short = make([]string, len(labels))
	unique := map[string]bool{}
	for i, l := range labels {
		var kept []string
		for _, w := range strings.Split(l, "-") {
			if count[w] == len(labels) {
				if i == 0 {
					commonWords = append(commonWords, w)
				}
				continue
			}
			kept = append(kept, w)
		}
		short[i] = strings.Join(kept, "-")
		if short[i] == "" || strings.HasPrefix(short[i], " ") || unique[short[i]] {
			return labels, "", false
		}
		unique[short[i]] = true
	}
	if len(commonWords) == 0 {
		return labels, "", false
	}
	return short, strings.Join(commonWords, "-"), true
}

// caseFlags returns the one-letter markers of a case's conditions, shown
// after its name (see flagLegend).
func caseFlags(c *results.Case) []string {
	var flags []string
	switch c.Status {
	case results.StatusFailed:
		flags = append(flags, "F")
	case results.StatusCrosscheckFailed:
		flags = append(flags, "X")
	case results.StatusInterrupted:
		flags = append(flags, "I")
	}
	if c.GeneratorBound {
		flags = append(flags, "G")
	}
	if c.Acceptance == results.AcceptanceUnconfirmed {
		flags = append(flags, "U")
	}
	if plainTCP(c) {
		flags = append(flags, "P")
	}
	if c.Params.ClientSigner == "openssl" {
		flags = append(flags, "S")
	}
	return flags
}

// plainTCP reports whether c ran without TLS (auth none): it has no
// handshake, so its latency columns show the whole connection (connect +
// requests) and its bytes and resumed columns "–".
func plainTCP(c *results.Case) bool { return c.Params.Auth == "none" }

// headlineLatency is the latency the tables' p50/p99/p99.9 columns show:
// the handshake's, or a plain TCP case's whole connection.
func headlineLatency(c *results.Case) *results.Summary {
	if plainTCP(c) {
		if s := c.Latency.Total; s != nil && s.Count > 0 {
			return s
		}
		return nil
	}
	return c.HandshakeLatency()
}

// flagLegend explains each marker caseFlags can return.
var flagLegend = []struct{ flag, name, meaning string }{
	{"F", "failed", "the case failed its own checks; see Failures"},
	{"X", "crosscheck_failed", "the target's own counts disagree with the client's; see Failures"},
	{"I", "interrupted", "the figures cover only the part that ran"},
	{"G", "generator_bound", "the generator was CPU-saturated: the figures describe the generator, not the target"},
	{"U", "acceptance unconfirmed", "a TLS 1.3 client certificate rejected after Finished could have counted as a success"},
	{"P", "plain TCP", "auth none, no TLS: hs/s counts connections, p50/p99/p99.9 are the whole connection (connect + requests), bytes and resumed do not apply"},
	{"S", "client_signer openssl", "client signatures by OpenSSL's libcrypto: cheaper than a Go client's own, so client CPU per full handshake is below a Go client's"},
}

// resumedShare is the resumed handshakes' share of successful ones.
func resumedShare(c *results.Case) string {
	if plainTCP(c) {
		return "–"
	}
	return units.Percent(c.Counts.Resumed, c.Counts.OK)
}

// errorCell summarises a case's errors: "0", "12 unknown_ca", "40 io+2".
func errorCell(c *results.Case) string {
	if c.Counts.Errors == 0 && len(c.Errors) == 0 {
		return "0"
	}
	class, _ := topError(c.Errors)
	cell := strconv.FormatInt(c.Counts.Errors, 10)
	if class != "" {
		cell += " " + class
		if len(c.Errors) > 1 {
			cell += fmt.Sprintf("+%d", len(c.Errors)-1)
		}
	}
	return cell
}

// cpuCell writes client and target CPU µs per handshake as "212/340",
// with "–" for a side that was not measured.
func cpuCell(c *results.Case) string {
	client := "–"
	if c.Counts.OK > 0 {
		client = units.Short(c.CPU.ClientUsPerHandshake)
	}
	target := "–"
	if c.CPU.TargetMeasured && c.Counts.OK > 0 {
		target = units.Short(c.CPU.TargetUsPerHandshake)
	}
	return client + "/" + target
}

// bytesCell writes mean bytes sent and received per handshake as
// "1534/2876".
func bytesCell(c *results.Case) string {
	if c.Counts.Attempted == 0 || plainTCP(c) {
		return "–"
	}
	return units.Bytes(c.Bytes.HandshakeSentMean) + "/" + units.Bytes(c.Bytes.HandshakeReceivedMean)
}

// latencyCells returns p50, p99 and p99.9 of the headline latency.
func latencyCells(c *results.Case) (p50, p99, p999 string) {
	s := headlineLatency(c)
	if s == nil {
		return "–", "–", "–"
	}
	return units.Latency(float64(s.P50Us)), units.Latency(float64(s.P99Us)), units.Latency(float64(s.P999Us))
}

// intervalRates is the handshakes/s series of a case's intervals.
func intervalRates(c *results.Case) []float64 {
	ivs := trendIntervals(c)
	rates := make([]float64, len(ivs))
	for i, iv := range ivs {
		rates[i] = iv.HandshakesPerS
	}
	return rates
}

// trendIntervals is a case's intervals as trends show them: without a last
// interval shorter than a tenth of the first (the window's end falls a
// millisecond or so after a whole number of intervals; a rate over that
// sliver is a handshake or two divided by nothing). The result file keeps
// every interval.
func trendIntervals(c *results.Case) []results.Interval {
	ivs := c.Intervals
	if n := len(ivs); n > 1 && ivs[n-1].DurationS < ivs[0].DurationS/10 {
		ivs = ivs[:n-1]
	}
	return ivs
}

func minMax(values []float64) (lo, hi float64) {
	if len(values) == 0 {
		return 0, 0
	}
	lo, hi = values[0], values[0]
	for _, v := range values[1:] {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}
