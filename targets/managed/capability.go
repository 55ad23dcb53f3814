package managed

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/tlsparams"
	"github.com/mtlsbench/mtlsbench/targets"
)

// managedCapability reports what a managed server supports on this
// machine: it runs the binary once to read its version and TLS library and
// probes which groups that library knows; results are cached. A server
// that is not installed gives a *MissingBinaryError.
func managedCapability(kind targets.Kind) (targets.Capability, error) {
	switch kind {
	case targets.KindNginx, targets.KindHAProxy, targets.KindOpenSSL:
	default:
		return targets.Capability{}, fmt.Errorf("managed: unknown managed server %q (accepted: nginx, haproxy, openssl)", kind)
	}
	bin, err := managedLookup(kind)
	if err != nil {
		return targets.Capability{Kind: kind, Package: managedPackages[kind]}, err
	}
	c := targets.Capability{
		Kind:                    kind,
		Binary:                  bin.path,
		Package:                 managedPackages[kind],
		Version:                 bin.version,
		Library:                 bin.library,
		Versions:                []string{"1.2", "1.3"},
		TLS13SuitePinning:       true,
		Modes:                   []targets.Mode{targets.ModeHandshake, targets.ModeHTTP},
		ClientVerifyInHandshake: true,
	}
	c.Groups, c.MissingGroups = managedGroups(bin.library)
	switch kind {
	case targets.KindNginx:
		c.ClientVerifyInHandshake = false
		c.CrossCheck = "access log, timed at accept: stream{} per connection (handshake mode), http{} per request (http mode); error log for TLS failures in http mode"
	case targets.KindHAProxy:
		c.CrossCheck = "log (a ring buffer mtlsbench drains), timed at accept: one line per connection (tcp mode) or request (http mode), error-log-format lines for failed handshakes"
	case targets.KindOpenSSL:
		c.MaxWorkers = 1
		c.MaxRequestsPerConn = 1
		c.CrossCheck = "s_server -www statistics page (accepts, accepts that finished, session cache hits) and verify errors on stderr"
	}
	return c, nil
}

// managedPackages are the Debian packages providing each managed server.
var managedPackages = map[targets.Kind]string{
	targets.KindNginx:   "nginx",
	targets.KindHAProxy: "haproxy",
	targets.KindOpenSSL: "openssl",
}

var managedBinaryNames = map[targets.Kind]string{
	targets.KindNginx:   "nginx",
	targets.KindHAProxy: "haproxy",
	targets.KindOpenSSL: "openssl",
}

// managedSbinDirs are searched after PATH: Debian installs nginx and
// haproxy in /usr/sbin, which is not on an ordinary user's PATH.
var managedSbinDirs = []string{"/usr/sbin", "/sbin"}

// managedBinary is what running a server binary once told us.
type managedBinary struct {
	path    string
	version string // "nginx/1.22.1", "HAProxy 2.6.12", "OpenSSL 3.0.19"
	library string // the TLS library it runs with: "OpenSSL 3.0.19"
	// nginx only: how the stream module is built ("static", "dynamic" or
	// "" for absent) and where dynamic modules live.
	nginxStream  string
	nginxModules string
}

var managedLookups struct {
	mu    sync.Mutex // guards byKey
	byKey map[string]managedBinary
}

// managedLookup finds and identifies a managed server binary. Results are
// cached by path and modification time, so installing a server while a
// program runs is noticed.
func managedLookup(kind targets.Kind) (managedBinary, error) {
	name := managedBinaryNames[kind]
	path, err := exec.LookPath(name)
	if err != nil {
		path = ""
		for _, dir := range managedSbinDirs {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				path = p
				break
			}
		}
		if path == "" {
			return managedBinary{}, &targets.MissingBinaryError{Kind: kind, Binary: name, Package: managedPackages[kind]}
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return managedBinary{}, &targets.MissingBinaryError{Kind: kind, Binary: name, Package: managedPackages[kind]}
	}
	key := path + "@" + st.ModTime().String()
	managedLookups.mu.Lock()
	defer managedLookups.mu.Unlock()
	if b, ok := managedLookups.byKey[key]; ok {
		return b, nil
	}
	b, err := managedIdentify(kind, path)
	if err != nil {
		return managedBinary{}, err
	}
	if managedLookups.byKey == nil {
		managedLookups.byKey = map[string]managedBinary{}
	}
	managedLookups.byKey[key] = b
	return b, nil
}

var (
	managedOpenSSLVersionRE = regexp.MustCompile(`OpenSSL \d+\.\d+\.\d+[a-z]?`)
	nginxVersionRE          = regexp.MustCompile(`nginx version: (\S+)`)
	nginxRunningRE          = regexp.MustCompile(`running with (OpenSSL \d+\.\d+\.\d+[a-z]?)`)
	nginxBuiltRE            = regexp.MustCompile(`built with (\S+ \d+\.\d+\.\d+[a-z]?)`)
	nginxModulesRE          = regexp.MustCompile(`--modules-path=(\S+)`)
	nginxPrefixRE           = regexp.MustCompile(`--prefix=(\S+)`)
	haproxyVersionRE        = regexp.MustCompile(`(?m)^HA-?Proxy version (\S+)`)
	haproxyRunningRE        = regexp.MustCompile(`Running on OpenSSL version : (OpenSSL \d+\.\d+\.\d+[a-z]?)`)
)

func managedIdentify(kind targets.Kind, path string) (managedBinary, error) {
	b := managedBinary{path: path}
	var args []string
	switch kind {
	case targets.KindNginx:
		args = []string{"-V"}
	case targets.KindHAProxy:
		args = []string{"-vv"}
	case targets.KindOpenSSL:
		args = []string{"version"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		return b, fmt.Errorf("managed: %s: run %s %s: %w: %s", kind, path, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	text := string(out)
	switch kind {
	case targets.KindNginx:
		if m := nginxVersionRE.FindStringSubmatch(text); m != nil {
			b.version = m[1]
		}
		if m := nginxRunningRE.FindStringSubmatch(text); m != nil {
			b.library = m[1]
		} else if m := nginxBuiltRE.FindStringSubmatch(text); m != nil {
			b.library = m[1]
		}
		switch {
		case strings.Contains(text, "--with-stream=dynamic"):
			b.nginxStream = "dynamic"
		case strings.Contains(text, "--with-stream "), strings.HasSuffix(strings.TrimSpace(text), "--with-stream"):
			b.nginxStream = "static"
		}
		if m := nginxModulesRE.FindStringSubmatch(text); m != nil {
			b.nginxModules = m[1]
		} else if m := nginxPrefixRE.FindStringSubmatch(text); m != nil {
			b.nginxModules = filepath.Join(m[1], "modules")
		} else {
			b.nginxModules = "/usr/lib/nginx/modules"
		}
	case targets.KindHAProxy:
		if m := haproxyVersionRE.FindStringSubmatch(text); m != nil {
			b.version = "HAProxy " + m[1]
		}
		if m := haproxyRunningRE.FindStringSubmatch(text); m != nil {
			b.library = m[1]
		}
	case targets.KindOpenSSL:
		if m := managedOpenSSLVersionRE.FindString(text); m != "" {
			b.version = m
			b.library = m
		}
	}
	if b.library == "" {
		b.library = "an unidentified TLS library"
	}
	return b, nil
}

var managedGroupProbes struct {
	mu      sync.Mutex // guards results
	results map[string][2][]string
}

// managedGroups splits tlsparams' groups into those the TLS library can
// offer and those it cannot. When the openssl command runs with the same
// library, each group is tried with `openssl s_client -groups NAME` (the
// name is checked before any connection is made); otherwise the version
// decides: classic groups everywhere, ML-KEM hybrids from OpenSSL 3.5.
func managedGroups(library string) (supported, missing []string) {
	managedGroupProbes.mu.Lock()
	defer managedGroupProbes.mu.Unlock()
	if r, ok := managedGroupProbes.results[library]; ok {
		return r[0], r[1]
	}
	probe := false
	if cli, err := managedLookup(targets.KindOpenSSL); err == nil && cli.library == library {
		probe = true
	}
	for _, g := range tlsparams.Groups() {
		var ok bool
		if probe {
			ok = managedProbeGroup(g.OpenSSL)
		} else {
			ok = !g.PostQuantum || managedOpenSSLAtLeast(library, 3, 5)
		}
		if ok {
			supported = append(supported, g.Name)
		} else {
			missing = append(missing, g.Name)
		}
	}
	if managedGroupProbes.results == nil {
		managedGroupProbes.results = map[string][2][]string{}
	}
	managedGroupProbes.results[library] = [2][]string{supported, missing}
	return supported, missing
}

// managedProbeGroup asks the openssl command whether its library accepts a
// group name. s_client checks -groups before it connects; the connection
// goes to a loopback port nothing listens on, so it ends at once.
func managedProbeGroup(name string) bool {
	cli, err := managedLookup(targets.KindOpenSSL)
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

// managedOpenSSLAtLeast reports whether library names OpenSSL major.minor or
// later.
func managedOpenSSLAtLeast(library string, major, minor int) bool {
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

// managedCurveNames returns the OpenSSL names of groups, colon separated.
func managedCurveNames(groups []tls.CurveID) (string, error) {
	names := make([]string, 0, len(groups))
	for _, id := range groups {
		g, ok := tlsparams.GroupByID(id)
		if !ok {
			return "", fmt.Errorf("managed: unknown group %s (accepted: %s)", id, tlsparams.GroupNames())
		}
		names = append(names, g.OpenSSL)
	}
	return strings.Join(names, ":"), nil
}
