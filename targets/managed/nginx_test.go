package managed

import (
	"testing"

	"github.com/mtlsbench/mtlsbench/targets"
)

func TestNginxIntegration(t *testing.T) {
	t.Parallel()
	managedIntegration(t, targets.KindNginx)
}

func TestNginxWindow(t *testing.T) {
	t.Parallel()
	managedWindowIntegration(t, targets.KindNginx)
}
