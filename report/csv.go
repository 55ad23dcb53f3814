package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/results"
)

// CSVHeader is the header of the csv format, one column per figure. It is
// stable: columns are only ever added at the end.
var CSVHeader = []string{
	"name", "key", "repeat", "status",
	"tls_version", "cipher_suite", "group", "key_type", "client_key_type", "resume",
	"concurrency", "rate", "requests", "target",
	"duration_s", "attempted", "ok", "resumed", "errors", "top_error",
	"handshakes_per_s",
	"handshake_p50_us", "handshake_p90_us", "handshake_p99_us", "handshake_p999_us", "handshake_max_us", "handshake_mean_us",
	"connect_p50_us", "connect_p99_us", "total_p50_us", "total_p99_us",
	"handshake_sent_mean", "handshake_received_mean",
	"client_cpu_us_per_handshake", "target_cpu_us_per_handshake",
	"client_utilization", "target_utilization",
	"generator_bound", "acceptance",
	"slo", "slo_met", "slo_broken",
	"auth",
}

// renderCSV writes one row per case under CSVHeader. Absent figures (a
// phase that did not happen, an unmeasured target) are empty cells.
func renderCSV(w io.Writer, run *results.Run) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	for i := range run.Cases {
		c := &run.Cases[i]
		p := c.Params
		class, _ := topError(c.Errors)
		row := []string{
			c.Name, c.Key, strconv.Itoa(c.Repeat), string(c.Status),
			p.TLSVersion, p.CipherSuite, p.Group, p.KeyType, p.ClientKeyType, p.Resume,
			strconv.Itoa(p.Concurrency), csvFloat(p.Rate), strconv.Itoa(p.Requests), p.Target,
			csvFloat(c.DurationS), csvInt(c.Counts.Attempted), csvInt(c.Counts.OK), csvInt(c.Counts.Resumed), csvInt(c.Counts.Errors), class,
			csvFloat(c.HandshakesPerS),
		}
		hs := c.Latency.Handshake
		row = append(row, csvSummary(hs, func(s *results.Summary) int64 { return s.P50Us }),
			csvSummary(hs, func(s *results.Summary) int64 { return s.P90Us }),
			csvSummary(hs, func(s *results.Summary) int64 { return s.P99Us }),
			csvSummary(hs, func(s *results.Summary) int64 { return s.P999Us }),
			csvSummary(hs, func(s *results.Summary) int64 { return s.MaxUs }))
		if hs != nil && hs.Count > 0 {
			row = append(row, strconv.FormatFloat(hs.MeanUs, 'f', 1, 64))
		} else {
			row = append(row, "")
		}
		row = append(row,
			csvSummary(c.Latency.Connect, func(s *results.Summary) int64 { return s.P50Us }),
			csvSummary(c.Latency.Connect, func(s *results.Summary) int64 { return s.P99Us }),
			csvSummary(c.Latency.Total, func(s *results.Summary) int64 { return s.P50Us }),
			csvSummary(c.Latency.Total, func(s *results.Summary) int64 { return s.P99Us }),
			csvFloat(c.Bytes.HandshakeSentMean), csvFloat(c.Bytes.HandshakeReceivedMean),
			csvFloat(c.CPU.ClientUsPerHandshake))
		if c.CPU.TargetMeasured {
			row = append(row, csvFloat(c.CPU.TargetUsPerHandshake))
		} else {
			row = append(row, "")
		}
		row = append(row, csvFloat(c.CPU.ClientUtilization))
		if c.CPU.TargetMeasured {
			row = append(row, csvFloat(c.CPU.TargetUtilization))
		} else {
			row = append(row, "")
		}
		row = append(row, strconv.FormatBool(c.GeneratorBound), c.Acceptance)
		if v := c.SLO; v != nil {
			row = append(row, v.Objective, strconv.FormatBool(v.Met), strings.Join(v.Broken, "; "))
		} else {
			row = append(row, "", "", "")
		}
		row = append(row, authOf(c))
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("report: csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	return nil
}

func csvInt(v int64) string { return strconv.FormatInt(v, 10) }

// csvFloat writes v with at most three decimals and no exponent, so
// spreadsheets read it as a number.
func csvFloat(v float64) string {
	return strconv.FormatFloat(roundTo(v, 3), 'f', -1, 64)
}

func roundTo(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

func csvSummary(s *results.Summary, field func(*results.Summary) int64) string {
	if s == nil || s.Count == 0 {
		return ""
	}
	return strconv.FormatInt(field(s), 10)
}
