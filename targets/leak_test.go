package targets_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The targets' tests leave no goroutine behind: a target's watchers and
// log readers end with Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
