package targets

import "testing"

func TestHAProxyIntegration(t *testing.T) {
	t.Parallel()
	managedIntegration(t, KindHAProxy)
}

func TestHAProxyWindow(t *testing.T) {
	t.Parallel()
	managedWindowIntegration(t, KindHAProxy)
}
