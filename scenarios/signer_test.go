package scenarios

import (
	"strings"
	"testing"
)

// TestClientSigner: load.client_signer takes go or openssl, says where a
// wrong name is and what it accepts, and a flag overrides the file.
func TestClientSigner(t *testing.T) {
	_, err := Parse([]byte("load:\n  client_signer: boringssl\n"), "s.yaml")
	e := problemsOf(t, err)[0]
	if e.Field != "load.client_signer" || e.Line != 2 || !strings.Contains(e.Message, `unknown client signer "boringssl"`) || e.Accepted != "go, openssl" {
		t.Errorf("got %+v", e)
	}
	spec, err := Parse([]byte("load:\n  client_signer: go\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	openssl := "openssl"
	if err := spec.Apply(Overrides{Load: LoadOverrides{ClientSigner: &openssl}}); err != nil {
		t.Fatal(err)
	}
	cases, _, err := Expand(*spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := cases[0].Load.ClientSigner; got != "openssl" {
		t.Errorf("the case's signer is %q after --client-signer openssl", got)
	}
	bad := "gnutls"
	err = spec.Apply(Overrides{Load: LoadOverrides{ClientSigner: &bad}, Names: map[string]string{"load.client_signer": "--client-signer"}})
	if err == nil || !strings.Contains(err.Error(), `unknown client signer "gnutls"`) {
		t.Errorf("a bad override: %v", err)
	}
}
