package loadgen

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mtlsbench/mtlsbench/results"
)

// Result is what one Run measured over its window. Counts and histograms
// cover connections that completed (successfully or not) inside the window.
type Result struct {
	// StartInstant is when the run began (its warm-up, or the window
	// when there is none): Config.StartAt when set. Start is when the
	// window began; Duration its length; Warmup what ran before it.
	StartInstant time.Time
	Start        time.Time
	Duration     time.Duration
	Warmup       time.Duration
	// Interrupted: the run was cancelled; the window ends there.
	Interrupted bool
	// Unreachable is how long, inside the window, connects failed with no
	// connect succeeding (from the first failure of an outage to the next
	// success), over Outages such stretches. File-descriptor and port
	// exhaustion (generator_limit) are the generator's, not counted here.
	Unreachable time.Duration
	Outages     int64

	// Attempted = OK + Errors. Resumed and HRR count successful handshakes
	// that resumed or needed a HelloRetryRequest. Primed counts full
	// handshakes made only to obtain a session (not in OK). Requests counts
	// HTTP requests completed.
	Attempted, OK, Errors, Resumed, HRR, Primed, Requests int64
	// Started counts connections started inside the window (whatever
	// became of them): what an open-loop schedule controls.
	Started       int64
	ErrorsByClass map[string]int64
	Examples      map[string]string
	Negotiated    []results.Negotiated

	// HoldChecked counts the held connections (Config.Hold) whose
	// handshake counted in the window, each checked when its hold ended
	// (at the latest when the run stopped); HoldLost those of them found
	// gone then: closed or reset by the target while held. A warning says
	// so too.
	HoldChecked, HoldLost int64

	// EarlyData counts TLS 1.3 early data (tlsparams.Params.EarlyData,
	// the openssl client only) on the window's successful handshakes.
	EarlyData results.EarlyData

	// Latency per phase in µs: connect, handshake, first_byte, verify,
	// sign, requests, total, and in an open loop total_uncorrected and
	// schedule_lag. Phases with no samples are absent.
	Latency map[string]*hdrhistogram.Histogram

	HandshakeSentMean, HandshakeReceivedMean float64
	TotalSent, TotalReceived                 int64
	handshakeSent, handshakeRecv             int64

	// ClientCPU is this process's CPU time over the window; ClientCores
	// how many cores it may use; ClientUtilization their ratio to wall
	// time.
	ClientCPU         time.Duration
	ClientCores       float64
	ClientUtilization float64
	GeneratorBound    bool

	// Starts are when the first StartSample open-loop starts were made,
	// from StartInstant (the warm-up's included), in the order claimed.
	Starts []time.Duration

	Intervals []results.Interval
	Segments  []results.Segment
	Load      results.LoadReport

	Acceptance     string
	ServerVerified bool
	Clamped        int64
	Warnings       []string
}

// StartSample is how many open-loop start times a Result keeps.
const StartSample = 1000

// HandshakesPerS is successful handshakes per second over the window.
func (r *Result) HandshakesPerS() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.OK) / r.Duration.Seconds()
}
