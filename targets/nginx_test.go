package targets

import "testing"

func TestNginxIntegration(t *testing.T) {
	t.Parallel()
	managedIntegration(t, KindNginx)
}

func TestNginxWindow(t *testing.T) {
	t.Parallel()
	managedWindowIntegration(t, KindNginx)
}
