package targets

import "testing"

func TestOpenSSLIntegration(t *testing.T) {
	t.Parallel()
	managedIntegration(t, KindOpenSSL)
}
