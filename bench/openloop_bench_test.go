package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/scenarios"
)

// BenchmarkOpenLoopAccuracy measures how faithfully the open loop keeps its
// schedule against the built-in target (a child process): for 10 s at 1000
// and 2000 starts/s it reports the achieved rate as a share of the asked
// rate and the schedule lag (how late starts were) at p50/p99. TLS 1.2
// resumed handshakes keep both processes well below saturation on a
// 2-core machine, so the figures describe the scheduler, not the CPU;
// client-util says how busy the generator was.
func BenchmarkOpenLoopAccuracy(b *testing.B) {
	for _, rate := range []float64{1000, 2000} {
		b.Run(fmt.Sprintf("rate=%.0f", rate), func(b *testing.B) {
			spec, err := scenarios.Load("quick")
			if err != nil {
				b.Fatal(err)
			}
			spec.Matrix.TLS = []string{"1.2"}
			spec.Matrix.Resume = []string{"tickets"}
			spec.Load.Rate = rate
			spec.Load.Duration = scenarios.Duration(10 * time.Second)
			spec.Load.Warmup = scenarios.Duration(time.Second)
			cases, _, err := scenarios.Expand(*spec)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				run, err := Run(context.Background(), Options{Cases: cases, ChildCommand: childCommand()})
				if err != nil {
					b.Fatal(err)
				}
				c := run.Cases[0]
				if c.Load == nil || c.Latency.ScheduleLag == nil {
					b.Fatalf("%s: %s %s", c.Name, c.Status, c.Failure)
				}
				b.ReportMetric(c.Load.AchievedRate, "achieved/s")
				b.ReportMetric(100*c.Load.AchievedRate/rate, "achieved-%")
				b.ReportMetric(float64(c.Latency.ScheduleLag.P50Us), "lag-p50-µs")
				b.ReportMetric(float64(c.Latency.ScheduleLag.P99Us), "lag-p99-µs")
				b.ReportMetric(float64(c.Counts.Errors), "errors")
				b.ReportMetric(c.CPU.ClientUtilization, "client-util")
			}
		})
	}
}
