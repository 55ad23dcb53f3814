package managed

import (
	"testing"

	"github.com/mtlsbench/mtlsbench/targets"
)

func TestHAProxyIntegration(t *testing.T) {
	t.Parallel()
	integration(t, targets.KindHAProxy)
}

func TestHAProxyWindow(t *testing.T) {
	t.Parallel()
	windowIntegration(t, targets.KindHAProxy)
}
