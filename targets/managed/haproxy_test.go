package managed

import (
	"testing"

	"github.com/mtlsbench/mtlsbench/targets"
)

func TestHAProxyIntegration(t *testing.T) {
	t.Parallel()
	managedIntegration(t, targets.KindHAProxy)
}

func TestHAProxyWindow(t *testing.T) {
	t.Parallel()
	managedWindowIntegration(t, targets.KindHAProxy)
}
