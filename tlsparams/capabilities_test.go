package tlsparams

import (
	"errors"
	"strings"
	"testing"
)

func mustGroup(t *testing.T, name string) Group {
	t.Helper()
	g, err := ParseGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestCheck: every refusal a case can meet before load comes from Check,
// in one wording, naming the stack, what was asked, why not and what
// would work.
func TestCheck(t *testing.T) {
	x25519, p256 := mustGroup(t, "x25519"), mustGroup(t, "p256")
	mlkem := mustGroup(t, "x25519mlkem768")
	aes256, _ := ParseSuite("TLS_AES_256_GCM_SHA384")
	ecdheAES, _ := ParseSuite("ECDHE-ECDSA-AES128-GCM-SHA256")
	goClient, goTarget := GoTLS("the go client"), GoTLS("the builtin target")
	openssl := Capabilities{Name: "nginx", Library: "OpenSSL 3.0.19", Versions: []Version{TLS12, TLS13},
		Groups: []Group{x25519, p256}, Features: []Feature{PinTLS13Suite}}
	external := Capabilities{Name: "the external target 10.0.0.1:443", Unconfigured: true}
	for _, tc := range []struct {
		name           string
		p              Params
		client, server Capabilities
		want           string // empty: no refusal
	}{
		{"plain", Params{Version: TLS13, Group: x25519}, goClient, goTarget, ""},
		{"tls 1.2 suite on Go", Params{Version: TLS12, Suite: ecdheAES, Group: x25519}, goClient, goTarget, ""},
		{"tls 1.3 suite on Go", Params{Version: TLS13, Suite: aes256, Group: x25519}, goClient, goTarget,
			"tlsparams: the go client and the builtin target cannot pin TLS 1.3 suite TLS_AES_256_GCM_SHA384: Go's crypto/tls always offers and accepts all three TLS 1.3 suites and has no setting to restrict them; use a client or a target that can"},
		{"tls 1.3 suite pinned by the target", Params{Version: TLS13, Suite: aes256, Group: x25519}, goClient, openssl, ""},
		{"tls 1.3 suite on an external target", Params{Version: TLS13, Suite: aes256, Group: x25519}, goClient, external,
			"and the external target 10.0.0.1:443 is not configured by mtlsbench"},
		{"post-quantum on OpenSSL 3.0", Params{Version: TLS13, Group: mlkem}, goClient, openssl,
			"tlsparams: nginx cannot use group x25519mlkem768: it runs with OpenSSL 3.0.19, which does not offer X25519MLKEM768 (ML-KEM hybrid groups need OpenSSL 3.5 or later); Go's crypto/tls (the go client, the builtin target) offers it"},
		{"external targets are taken at their word", Params{Version: TLS13, Group: mlkem}, goClient, external, ""},
		{"hrr", Params{Version: TLS13, Group: p256, KeyShare: x25519}, goClient, goTarget, ""},
		{"key share below group", Params{Version: TLS13, Group: x25519, KeyShare: p256}, goClient, goTarget,
			"swap them (group: p256, key_share: x25519)"},
		{"hybrid key share", Params{Version: TLS13, Group: x25519, KeyShare: mlkem}, goClient, goTarget,
			"also sends a share for its classical half x25519"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.p, tc.client, tc.server)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
			case err == nil:
				t.Fatalf("accepted, want a refusal with %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("refusal %q, want %q in it", err, tc.want)
			default:
				var ue *UnsupportedError
				if !errors.As(err, &ue) {
					t.Errorf("refusal is a %T, want *UnsupportedError", err)
				}
			}
		})
	}
}

func TestParamsOffered(t *testing.T) {
	x25519, p256 := mustGroup(t, "x25519"), mustGroup(t, "p256")
	for _, tc := range []struct {
		name string
		p    Params
		want string
	}{
		{"tls 1.3 offers the case's group", Params{Version: TLS13, Group: x25519, ServerKey: "ecdsa-p384"}, "[X25519]"},
		{"hrr offers the key share first", Params{Version: TLS13, Group: p256, KeyShare: x25519}, "[X25519 CurveP256]"},
		{"tls 1.2 lists the ECDSA key's curve", Params{Version: TLS12, Group: x25519, ServerKey: "ecdsa-p384"}, "[X25519 CurveP384]"},
		{"tls 1.2 RSA needs no curve", Params{Version: TLS12, Group: x25519, ServerKey: "rsa2048"}, "[X25519]"},
		{"tls 1.2 unknown key: the common curves", Params{Version: TLS12, Group: x25519}, "[X25519 CurveP256 CurveP384]"},
	} {
		if got := fmtCurves(tc.p.Offered()); got != tc.want {
			t.Errorf("%s: offered %s, want %s", tc.name, got, tc.want)
		}
	}
}

func fmtCurves[T interface{ String() string }](list []T) string {
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = c.String()
	}
	return "[" + strings.Join(names, " ") + "]"
}

func TestTextRoundTrip(t *testing.T) {
	for _, r := range []Resume{ResumeNone, ResumeTickets, 0.8} {
		b, _ := r.MarshalText()
		var back Resume
		if err := back.UnmarshalText(b); err != nil || back != r {
			t.Errorf("resume %v → %s → %v, %v", float64(r), b, float64(back), err)
		}
	}
	var v Version
	if err := v.UnmarshalText([]byte("1.4")); err == nil {
		t.Error("version 1.4: want an error")
	}
	var g Group
	if err := g.UnmarshalText([]byte("P-256")); err != nil || g.Name != "p256" {
		t.Errorf("group P-256 → %+v, %v", g, err)
	}
}
