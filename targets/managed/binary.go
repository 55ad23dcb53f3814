package managed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/targets"
)

// sbinDirs are searched after PATH: Debian installs nginx and
// haproxy in /usr/sbin, which is not on an ordinary user's PATH.
var sbinDirs = []string{"/usr/sbin", "/sbin"}

// binary is what running a server's executable once told us.
type binary struct {
	path    string
	version string // "nginx/1.22.1", "HAProxy 2.6.12", "OpenSSL 3.0.19"
	library string // the TLS library it runs with: "OpenSSL 3.0.19"
	// build is what else the server's configure needs to know of its
	// build, as its identify found it (nginx: an nginxBuild); nil if
	// nothing.
	build any
}

// identifyTimeout bounds running a server's executable to identify it.
const identifyTimeout = 10 * time.Second

var lookups struct {
	mu    sync.Mutex // guards byKey
	byKey map[string]binary
}

// lookup finds and identifies a managed server's executable. Results are
// cached by path and modification time, so installing a server while a
// program runs is noticed.
func lookup(p program) (binary, error) {
	name := p.command()
	missing := &targets.MissingBinaryError{Kind: p.kind(), Binary: name, Package: p.debianPackage()}
	own, _ := p.(ownInstall)
	if own != nil {
		missing.Install = own.install()
	}
	path, err := exec.LookPath(name)
	if chosen, cerr := chosenBinary(p, own); cerr != nil {
		return binary{}, cerr
	} else if chosen != "" {
		path, err = chosen, nil
	}
	if err != nil {
		path = ""
		for _, dir := range sbinDirs {
			candidate := filepath.Join(dir, name)
			if st, err := os.Stat(candidate); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				path = candidate
				break
			}
		}
		if path == "" {
			return binary{}, missing
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return binary{}, missing
	}
	key := path + "@" + st.ModTime().String()
	lookups.mu.Lock()
	defer lookups.mu.Unlock()
	if b, ok := lookups.byKey[key]; ok {
		return b, nil
	}
	b, err := identify(p, path)
	if err != nil {
		return binary{}, err
	}
	if lookups.byKey == nil {
		lookups.byKey = map[string]binary{}
	}
	lookups.byKey[key] = b
	return b, nil
}

// BinaryEnv is the environment variable that names the executable of a
// managed server kind, MTLSBENCH_<KIND>_BINARY (MTLSBENCH_NODE_BINARY,
// MTLSBENCH_NGINX_BINARY): when set, it is used and nothing is searched.
func BinaryEnv(kind targets.Kind) string {
	return "MTLSBENCH_" + strings.ToUpper(string(kind)) + "_BINARY"
}

// ownInstall is a program whose executable mtlsbench's install step puts
// where PATH does not reach (node: Node.js from the npm registry, in
// /opt/mtlsbench/node, so that the system's older node stays as it is).
type ownInstall interface {
	// ownPaths are tried, in order, before PATH.
	ownPaths() []string
	// install says how to install it, for the missing binary's error.
	install() string
}

// chosenBinary is the executable chosen for p before any PATH search: the
// one $MTLSBENCH_<KIND>_BINARY names (an error when it is not an
// executable file), else the first of own's paths that is one; "" for
// none.
func chosenBinary(p program, own ownInstall) (string, error) {
	env := BinaryEnv(p.kind())
	if path := os.Getenv(env); path != "" {
		if !isExecutable(path) {
			return "", fmt.Errorf("managed: %s: $%s=%s is not an executable file (unset it to search PATH)", p.kind(), env, path)
		}
		return path, nil
	}
	if own != nil {
		for _, path := range own.ownPaths() {
			if isExecutable(path) {
				return path, nil
			}
		}
	}
	return "", nil
}

// isExecutable reports whether path is a regular file someone may run.
func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// identify runs the executable at path to print its version, and has the
// server read it.
func identify(p program, path string) (binary, error) {
	b := binary{path: path}
	args := p.versionArgs()
	ctx, cancel := context.WithTimeout(context.Background(), identifyTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		return b, fmt.Errorf("managed: %s: run %s %s: %w: %s", p.kind(), path, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	p.identify(string(out), &b)
	if b.library == "" {
		b.library = "an unidentified TLS library"
	}
	return b, nil
}
