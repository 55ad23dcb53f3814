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
		Kind:                    p.kind(),
		Binary:                  bin.path,
		Package:                 p.debianPackage(),
		Version:                 bin.version,
		Library:                 bin.library,
		Versions:                []string{"1.2", "1.3"},
		TLS13SuitePinning:       true,
		Modes:                   []targets.Mode{targets.ModeHandshake, targets.ModeHTTP},
		ClientVerifyInHandshake: true,
	}
	c.Groups, c.MissingGroups = libraryGroups(bin.library)
	p.capability(&c)
	return c, nil
}

var groupProbes struct {
	mu      sync.Mutex // guards results
	results map[string][2][]string
}

// libraryGroups splits tlsparams' groups into those the TLS library can
// offer and those it cannot. When the openssl command runs with the same
// library, each group is tried with `openssl s_client -groups NAME` (the
// name is checked before any connection is made); otherwise the version
// decides: classic groups everywhere, ML-KEM hybrids from OpenSSL 3.5.
func libraryGroups(library string) (supported, missing []string) {
	groupProbes.mu.Lock()
	defer groupProbes.mu.Unlock()
	if r, ok := groupProbes.results[library]; ok {
		return r[0], r[1]
	}
	canProbe := false
	if cli, err := lookup(openssl{}); err == nil && cli.library == library {
		canProbe = true
	}
	for _, g := range tlsparams.Groups() {
		var ok bool
		if canProbe {
			ok = probeGroup(g.OpenSSL)
		} else {
			ok = !g.PostQuantum || openSSLAtLeast(library, 3, 5)
		}
		if ok {
			supported = append(supported, g.Name)
		} else {
			missing = append(missing, g.Name)
		}
	}
	if groupProbes.results == nil {
		groupProbes.results = map[string][2][]string{}
	}
	groupProbes.results[library] = [2][]string{supported, missing}
	return supported, missing
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
