package builtin

import (
	"testing"

	"go.uber.org/goleak"
)

// The tests leave no goroutine behind: what a target starts ends with
// its Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
