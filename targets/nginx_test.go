package targets

import "testing"

func TestNginxIntegration(t *testing.T) {
	t.Parallel()
	managedIntegration(t, KindNginx)
}
