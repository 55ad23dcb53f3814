package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTB records what NeedServer does to a test instead of doing it.
type fakeTB struct {
	testing.TB
	name    string
	skipped string
	fatal   string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Name() string                      { return f.name }
func (f *fakeTB) Skipf(format string, args ...any)  { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }
func (f *fakeTB) Errorf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestNeedServerSkipsAndLogs(t *testing.T) {
	log := filepath.Join(t.TempDir(), "skips")
	t.Setenv(SkipLogEnv, log)
	t.Setenv(RequireEnv, "")

	present := &fakeTB{name: "TestPresent"}
	NeedServer(present, "haproxy", "apt-get install haproxy", nil)
	if present.skipped != "" || present.fatal != "" {
		t.Fatalf("a need that is met ended the test: %+v", present)
	}

	a := &fakeTB{name: "TestA"}
	NeedServer(a, "haproxy", "apt-get install haproxy", errors.New("haproxy is not installed"))
	b := &fakeTB{name: "TestB/sub"}
	NeedServer(b, "nginx's stream module", StreamHint, errors.New("nginx -t failed"))
	for _, f := range []*fakeTB{a, b} {
		if f.fatal != "" || !strings.Contains(f.skipped, "install: apt-get install") {
			t.Errorf("%s: skipped %q, fatal %q: want a skip naming the install command", f.name, f.skipped, f.fatal)
		}
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := "haproxy\tapt-get install haproxy\ttestenv.TestA\nnginx's stream module\t" + StreamHint + "\ttestenv.TestB/sub\n"
	if string(data) != want {
		t.Errorf("skip log:\n%q\nwant\n%q", data, want)
	}
}

func TestNeedServerFailsWhenRequired(t *testing.T) {
	log := filepath.Join(t.TempDir(), "skips")
	t.Setenv(SkipLogEnv, log)
	t.Setenv(RequireEnv, "1")
	f := &fakeTB{name: "TestA"}
	NeedServer(f, "haproxy", "apt-get install haproxy", errors.New("haproxy is not installed"))
	if f.skipped != "" || !strings.Contains(f.fatal, RequireEnv+"=1") {
		t.Errorf("skipped %q, fatal %q: want a failure naming %s", f.skipped, f.fatal, RequireEnv)
	}
	if _, err := os.Stat(log); !os.IsNotExist(err) {
		t.Errorf("a failure was logged as a skip: %v", err)
	}
}

func TestStreamLoadLine(t *testing.T) {
	for _, tc := range []struct {
		name, v, want string
		missing       bool
	}{
		{"Debian: dynamic, modules path given",
			"configure arguments: --prefix=/usr/share/nginx --modules-path=/usr/lib/nginx/modules --with-stream=dynamic --with-stream_ssl_module",
			"load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n", false},
		{"dynamic, modules under the prefix",
			"configure arguments: --prefix=/opt/nginx --with-stream=dynamic",
			"load_module /opt/nginx/modules/ngx_stream_module.so;\n", false},
		{"static, last argument", "configure arguments: --prefix=/usr --with-stream", "", false},
		{"static, then more", "configure arguments: --with-stream --with-stream_ssl_module", "", false},
		{"absent: only its submodules' names", "configure arguments: --with-stream_ssl_module --with-http_ssl_module", "", true},
	} {
		got, err := streamLoadLine(tc.v)
		if (err != nil) != tc.missing || got != tc.want {
			t.Errorf("%s: %q, %v; want %q, missing %v", tc.name, got, err, tc.want, tc.missing)
		}
	}
}

// TestNginxStreamHere checks the verdict on this machine's nginx: where
// the module is dynamic, nginx -t passes exactly when its file is there.
func TestNginxStreamHere(t *testing.T) {
	path, what, hint, err := checkNginxStream()
	t.Logf("nginx %q: missing %q (%v), hint %q", path, what, err, hint)
	if path == "" {
		if err == nil || what != "nginx" {
			t.Errorf("no nginx, yet missing %q, %v", what, err)
		}
		return
	}
	if err != nil && hint == "" {
		t.Errorf("missing %s without a hint", what)
	}
	v, verr := exec.Command(path, "-V").CombinedOutput()
	if verr != nil {
		t.Skipf("nginx -V: %v", verr)
	}
	load, lerr := streamLoadLine(string(v))
	if lerr != nil {
		if err == nil {
			t.Errorf("nginx -V shows no stream module, yet the check passed")
		}
		return
	}
	if so, ok := strings.CutPrefix(strings.TrimSpace(load), "load_module "); ok {
		_, statErr := os.Stat(strings.TrimSuffix(so, ";"))
		if (statErr == nil) != (err == nil) {
			t.Errorf("module file %s: %v, yet the check says %v", so, statErr, err)
		}
	}
}

func TestLookPath(t *testing.T) {
	if _, err := LookPath("sh"); err != nil {
		t.Error(err)
	}
	if _, err := LookPath("mtlsbench-no-such-program"); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("err = %v", err)
	}
}
