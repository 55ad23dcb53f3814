package managed

import (
	"testing"

	"github.com/mtlsbench/mtlsbench/targets"
)

func TestNginxIntegration(t *testing.T) {
	t.Parallel()
	integration(t, targets.KindNginx)
}

func TestNginxWindow(t *testing.T) {
	t.Parallel()
	windowIntegration(t, targets.KindNginx)
}
