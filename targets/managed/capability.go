package managed

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// capabilities reports what a managed server supports on this machine: it
// runs the executable once to read its version and TLS library and probes
// which groups that library knows; results are cached. A server that is
// not installed gives a *targets.MissingBinaryError.
func capabilities(p program) (targets.Capability, error) {
	bin, err := lookup(p)
	if err != nil {
		return targets.Capability{Kind: p.kind(), Package: p.debianPackage()}, err
	}
	c := targets.Capability{
		Kind:    p.kind(),
		Binary:  bin.path,
		Package: p.debianPackage(),
		Version: bin.version,
		TLS: tlsparams.Capabilities{
			Name:     string(p.kind()),
			Library:  bin.library,
			Versions: []tlsparams.Version{tlsparams.TLS12, tlsparams.TLS13},
			Groups:   libraryGroups(bin.library),
			// Every managed server is configured to accept exactly the
			// case's TLS 1.3 suite (ssl_conf_command Ciphersuites,
			// ciphersuites, -ciphersuites).
			Features: []tlsparams.Feature{tlsparams.PinTLS13Suite},
		},
		Modes:                   []targets.Mode{targets.ModeHandshake, targets.ModeHTTP},
		ClientVerifyInHandshake: true,
	}
	p.capability(&c)
	return c, nil
}

// earlyDataAsRequest is why server, which would read early data as the
// start of a request, cannot be measured with it.
func earlyDataAsRequest(server string) string {
	return "mtlsbench sends early data as filler bytes, which " + server + " would read as the start of a request (0-RTT requests are not built); use --target openssl (s_server -early_data), which reads and counts it"
}

// pskKEOpenSSL30 is why no OpenSSL 3.0 server resumes with psk_ke.
const pskKEOpenSSL30 = "an OpenSSL server before 3.3 resumes with (EC)DHE whenever the client also offers psk_dhe_ke, which OpenSSL clients always do (even -allow_no_dhe_kex answers with a HelloRetryRequest rather than psk_ke); OpenSSL 3.3 and later servers with SSL_OP_PREFER_NO_DHE_KEX pick psk_ke"

var groupProbes struct {
	mu      sync.Mutex // guards results
	results map[string][]tlsparams.Group
}

// libraryGroups lists tlsparams' groups that the TLS library can offer.
// When the openssl command runs with the same library, each group is tried
// with `openssl s_client -groups NAME` (the name is checked before any
// connection is made); otherwise the version decides: classic groups
// everywhere, ML-KEM hybrids from OpenSSL 3.5.
func libraryGroups(library string) []tlsparams.Group {
	groupProbes.mu.Lock()
	defer groupProbes.mu.Unlock()
	if r, ok := groupProbes.results[library]; ok {
		return r
	}
	canProbe := false
	if cli, err := lookup(openssl{}); err == nil && cli.library == library {
		canProbe = true
	}
	var supported []tlsparams.Group
	for _, g := range tlsparams.Groups() {
		var ok bool
		if canProbe {
			ok = probeGroup(g.OpenSSL)
		} else {
			ok = !g.PostQuantum || openSSLAtLeast(library, 3, 5)
		}
		if ok {
			supported = append(supported, g)
		}
	}
	if groupProbes.results == nil {
		groupProbes.results = map[string][]tlsparams.Group{}
	}
	groupProbes.results[library] = supported
	return supported
}

// probeGroup asks the openssl command whether its library accepts a
// group name. s_client checks -groups before it connects; the connection
// goes to a loopback port nothing listens on, so it ends at once.
func probeGroup(name string) bool {
	cli, err := lookup(openssl{})
	if err != nil {
		return false
	}
	port := 1
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli.path, "s_client", "-groups", name, "-connect", "127.0.0.1:"+strconv.Itoa(port))
	out, _ := cmd.CombinedOutput()
	text := string(out)
	return !strings.Contains(text, "cannot be set") && !strings.Contains(text, "SSL_CONF_cmd(-groups")
}

// openSSLAtLeast reports whether library names OpenSSL major.minor or
// later.
func openSSLAtLeast(library string, major, minor int) bool {
	v, ok := strings.CutPrefix(library, "OpenSSL ")
	if !ok {
		return false
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
