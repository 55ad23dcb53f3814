package loadgen

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test of the engine must leave no goroutine behind: a worker, a
// timer or a controller that outlives Run is a leak in every long-running
// caller (a capacity search runs the engine dozens of times).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
