package resultstest

import (
	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

// capStep is a synthetic search step: the rate, its figures, and whether
// it met the SLO (p99<50ms,errors<0.1%,achieved>=95%).
func capStep(phase string, rate, achieved float64, p50, p99 int64, errs int64, clientUtil, targetCores, targetUs float64, bound bool) results.CapacityStep {
	attempted := int64(achieved * 5)
	st := results.CapacityStep{
		Rate: rate, Phase: phase, Status: results.StatusOK, DurationS: 5, AchievedRate: achieved,
		HandshakesPerS: float64(attempted-errs) / 5, Attempted: attempted, Errors: errs,
		P50Us: p50, P90Us: p50 * 2, P99Us: p99, P999Us: p99 * 2,
		ClientUtilization: clientUtil, ClientUsPerHandshake: 300, TargetUtilization: targetCores,
		TargetUsPerHandshake: targetUs, GeneratorCPUsBusy: clientUtil/2 + targetCores/4, GeneratorBound: bound,
	}
	st.Passed = true
	if p99 >= 50_000 {
		st.Passed = false
		st.Violations = append(st.Violations, "p99 "+units.Latency(float64(p99))+" (SLO p99<50ms)")
	}
	if achieved < 0.95*rate {
		st.Passed = false
		st.Violations = append(st.Violations, "achieved "+units.Rate(100*achieved/rate)+"% (SLO achieved>=95%)")
	}
	return st
}

// CapacityRun is a capacity search over three key types: one that
// converged, one where the generator saturated first (a lower bound), and
// one without a target CPU figure.
func CapacityRun() *results.Run {
	run := DefaultRun()
	run.Scenario = results.Scenario{Name: "capacity", Source: "embedded"}
	search := results.CapacitySearch{StartRate: 100, MaxRate: 100000, MinRate: 1, Growth: 2, Resolution: 0.05, MaxSteps: 20, Confirm: true, StepDurationS: 5, StepWarmupS: 1}
	slo := "p99<50ms,errors<0.1%,achieved>=95%"
	assumption := "cores = rate × server CPU per handshake, as measured at the maximum sustainable rate: this assumes linear scaling"
	specs := []CaseSpec{
		{Version: "1.3", Resume: "none", KeyType: "ecdsa-p256", Group: "x25519", Rate: 1063, DurationS: 5,
			MedianUs: 2100, Sigma: 0.25, ClientCPU: 310, TargetCPU: 541, TargetMeasured: true, Sent: 878, Received: 1977, Seed: 11},
		{Version: "1.3", Resume: "none", KeyType: "rsa2048", Group: "x25519", Rate: 800, DurationS: 5,
			MedianUs: 2900, Sigma: 0.25, ClientCPU: 820, TargetCPU: 1210, TargetMeasured: true, Sent: 1402, Received: 2620, Seed: 12},
		{Version: "1.3", Resume: "none", KeyType: "rsa3072", Group: "x25519", Rate: 250, DurationS: 5,
			MedianUs: 6100, Sigma: 0.25, ClientCPU: 2200, Sent: 1690, Received: 3100, Seed: 13},
	}
	run.Cases = nil
	for _, s := range specs {
		run.Cases = append(run.Cases, s.Build(Start))
	}
	ecdsa := []results.CapacityStep{
		capStep("grow", 100, 100, 1010, 4370, 0, 0.06, 0.05, 560, false),
		capStep("grow", 200, 200, 1020, 4100, 0, 0.09, 0.11, 552, false),
		capStep("grow", 400, 400, 1100, 5200, 0, 0.15, 0.22, 548, false),
		capStep("grow", 800, 799, 1500, 9800, 0, 0.27, 0.44, 545, false),
		capStep("grow", 1600, 1190, 412000, 1900000, 0, 0.41, 0.66, 540, false),
		capStep("bisect", 1200, 1150, 38000, 310000, 0, 0.38, 0.63, 542, false),
		capStep("bisect", 1000, 1000, 2100, 21000, 0, 0.33, 0.55, 541, false),
		capStep("bisect", 1100, 1095, 6400, 72100, 0, 0.36, 0.60, 540, false),
		capStep("bisect", 1050, 1050, 2600, 31000, 0, 0.35, 0.57, 541, false),
		capStep("confirm", 1050, 1049, 2700, 33500, 0, 0.35, 0.57, 540, false),
	}
	rsa := []results.CapacityStep{
		capStep("grow", 100, 100, 1900, 6100, 0, 0.15, 0.12, 1230, false),
		capStep("grow", 200, 200, 1950, 6500, 0, 0.30, 0.24, 1215, false),
		capStep("grow", 400, 400, 2300, 9100, 0, 0.55, 0.48, 1212, false),
		capStep("grow", 800, 781, 3900, 31000, 0, 0.91, 0.96, 1210, true),
		capStep("grow", 1600, 902, 810000, 2100000, 0, 0.97, 1.02, 1190, true),
		capStep("retry", 1600, 880, 920000, 2300000, 0, 0.98, 1.01, 1195, true),
	}
	rsa3072 := []results.CapacityStep{
		capStep("grow", 100, 100, 6100, 14000, 0, 0.25, 0, 0, false),
		capStep("grow", 200, 200, 6900, 19000, 0, 0.45, 0, 0, false),
		capStep("grow", 400, 305, 950000, 2400000, 0, 0.62, 0, 0, false),
		capStep("bisect", 300, 299, 21000, 88000, 0, 0.55, 0, 0, false),
		capStep("bisect", 250, 250, 8100, 36000, 0, 0.50, 0, 0, false),
		capStep("bisect", 275, 262, 16000, 61000, 0, 0.53, 0, 0, false),
		capStep("bisect", 262, 262, 9500, 41000, 0, 0.51, 0, 0, false),
		capStep("confirm", 262, 262, 9700, 44000, 0, 0.51, 0, 0, false),
	}
	at := func(steps []results.CapacityStep, i int) *results.CapacityStep { s := steps[i]; return &s }
	run.Cases[0].Capacity = &results.Capacity{
		SLO: slo, Verdict: "capacity", StopReason: "converged",
		Explanation:        "the SLO holds at 1050/s and fails at 1100/s",
		MaxSustainableRate: 1050, AtMax: at(ecdsa, 9), FirstFailingRate: 1100, FirstFailingTerms: []string{"p99 72.1ms (SLO p99<50ms)"},
		TargetUsPerHandshake: 540.5, PerCoreRate: 1850,
		Knee:        &results.Knee{Rate: 800, AboveRate: 1000, BaselineRate: 100, BaselineP50Us: 1010, Factor: 2},
		Projections: []results.Projection{{Rate: 20000, Cores: 10.81, WholeCores: 11}}, ProjectionAssumption: assumption,
		Search: search, Steps: ecdsa,
	}
	run.Cases[1].Capacity = &results.Capacity{
		SLO: slo, Verdict: "lower_bound", StopReason: "generator_bound",
		Explanation:        "a lower bound: the SLO holds at 800/s, and it failed at 1600/s (twice) with the generator short of CPU, so where the target's limit lies was not measured",
		MaxSustainableRate: 800, AtMax: at(rsa, 3), TargetUsPerHandshake: 1210, PerCoreRate: 826.4,
		Knee:        &results.Knee{Rate: 800, AboveRate: 1600, BaselineRate: 100, BaselineP50Us: 1900, Factor: 2},
		Projections: []results.Projection{{Rate: 20000, Cores: 24.2, WholeCores: 25}}, ProjectionAssumption: assumption,
		Search: search, Steps: rsa,
	}
	run.Cases[1].GeneratorBound = true
	run.Cases[2].Capacity = &results.Capacity{
		SLO: slo, Verdict: "capacity", StopReason: "converged",
		Explanation:        "the SLO holds at 262/s and fails at 275/s",
		MaxSustainableRate: 262, AtMax: at(rsa3072, 7), FirstFailingRate: 275,
		FirstFailingTerms: []string{"p99 61ms (SLO p99<50ms)"},
		Knee:              &results.Knee{Rate: 250, AboveRate: 262, BaselineRate: 100, BaselineP50Us: 6100, Factor: 2},
		Search:            search, Steps: rsa3072,
	}
	run.Cases[2].Warnings = []string{"target CPU not measured: the external target has no --target-pid"}
	return run
}
