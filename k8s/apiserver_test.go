//go:build k8s

package k8s

// The rendered objects against a real control plane: etcd, kube-apiserver
// and kube-controller-manager (its Job controller), built from Go modules
// by scripts/k8s-testenv.sh and run here on loopback ports. There is no
// kubelet, scheduler or container runtime: the test checks that the API
// server accepts every object (server-side validation, Pod Security
// "restricted") and that the Job controller makes one pod per completion
// index with the host names the start barrier needs. Nothing runs in the
// pods.
//
// Run it with 'make test-k8s' (which builds the binaries first, 10-20
// minutes the first time) or, with the binaries built:
//
//	MTLSBENCH_K8S_BIN=$(bash scripts/k8s-testenv.sh dir) go test -tags k8s -run TestK8s ./k8s/

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// controlPlane is a running etcd, kube-apiserver and
// kube-controller-manager, and a kubectl configured for them.
type controlPlane struct {
	t          *testing.T
	bin, dir   string
	kubeconfig string
	// exited is closed when a process exits before the test ends.
	exited     chan struct{}
	exitedOnce sync.Once
}

func TestK8sControlPlane(t *testing.T) {
	bin := os.Getenv("MTLSBENCH_K8S_BIN")
	if bin == "" {
		t.Fatal("MTLSBENCH_K8S_BIN is not set: run 'make test-k8s', which builds etcd, kube-apiserver, kube-controller-manager and kubectl and sets it")
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Fatalf("%v: build it with 'bash scripts/k8s-testenv.sh build' (or run 'make test-k8s')", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cp := startControlPlane(ctx, t, bin)
	t.Logf("control plane ready in %s", time.Since(start).Round(time.Millisecond))

	const ns, name, shards = "mtlsbench-test", "bench", 3
	// Pods that do not meet the "restricted" Pod Security Standard are
	// refused in this namespace, and the Job's pod template is warned
	// about.
	cp.kubectl(ctx, "create", "namespace", ns)
	cp.kubectl(ctx, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted")
	// Pods need the namespace's default ServiceAccount, which the
	// controller manager creates.
	cp.waitFor(ctx, "the default ServiceAccount", func() (bool, error) {
		_, err := cp.run(ctx, "get", "serviceaccount", "default", "--namespace", ns)
		return err == nil, nil
	})

	manifest := filepath.Join(t.TempDir(), "run.yaml")
	renderTestRun(t, manifest, RenderOptions{Name: name, Namespace: ns, Image: "mtlsbench:test", Shards: shards,
		RunID: "quick-test", RunArgs: []string{"--target=10.0.0.5:8443"}, ActiveDeadline: 10 * time.Minute})

	out := cp.kubectl(ctx, "apply", "--dry-run=server", "-f", manifest)
	t.Logf("kubectl apply --dry-run=server:\n%s", out)
	out = cp.kubectl(ctx, "apply", "-f", manifest)
	for _, kind := range []string{"secret/bench-pki", "configmap/bench-scenario", "service/bench", "job.batch/bench"} {
		if !strings.Contains(out, kind+" created") {
			t.Errorf("kubectl apply did not create %s:\n%s", kind, out)
		}
	}

	// The Job controller makes one pod per completion index.
	var pods corev1.PodList
	cp.waitFor(ctx, fmt.Sprintf("%d pods of job %s", shards, name), func() (bool, error) {
		data, err := cp.run(ctx, "get", "pods", "--namespace", ns, "-l", JobNameLabel+"="+name, "-o", "json")
		if err != nil {
			return false, err
		}
		pods = corev1.PodList{}
		if err := json.Unmarshal(data, &pods); err != nil {
			return false, err
		}
		return len(pods.Items) >= shards, nil
	})
	var indexes []int
	for _, p := range pods.Items {
		i, ok := podIndex(p)
		if !ok {
			t.Errorf("pod %s has no completion index", p.Name)
			continue
		}
		indexes = append(indexes, i)
		// NAME-INDEX.NAME is what the start barrier dials for index 0.
		if want := fmt.Sprintf("%s-%d", name, i); p.Spec.Hostname != want || p.Spec.Subdomain != name {
			t.Errorf("pod %s: hostname %q, subdomain %q; want %q, %q", p.Name, p.Spec.Hostname, p.Spec.Subdomain, want, name)
		}
		var env []string
		for _, e := range p.Spec.Containers[0].Env {
			env = append(env, e.Name)
		}
		if !slices.Contains(env, "JOB_COMPLETION_INDEX") {
			t.Errorf("pod %s: env %v lacks JOB_COMPLETION_INDEX, which run --shards reads", p.Name, env)
		}
		args := strings.Join(p.Spec.Containers[0].Args, " ")
		if !strings.Contains(args, fmt.Sprintf("--shards %d --rendezvous %s-0.%s:%d", shards, name, name, DefaultPort)) {
			t.Errorf("pod %s: args %q", p.Name, args)
		}
	}
	slices.Sort(indexes)
	if !slices.Equal(indexes, []int{0, 1, 2}) {
		t.Errorf("completion indexes %v, want [0 1 2]", indexes)
	}

	// Collect against the real kubectl and API server: the Job has not
	// finished (nothing runs its pods), and another does not exist.
	kubectl := filepath.Join(bin, "kubectl")
	t.Setenv("KUBECONFIG", cp.kubeconfig)
	_, err := Collect(ctx, CollectOptions{Job: name, Namespace: ns, Kubectl: kubectl})
	if !isInput(err) || !strings.Contains(err.Error(), "has not finished (3 active") {
		t.Errorf("collect of the running Job: %v, want an *InputError saying it has not finished", err)
	}
	_, err = Collect(ctx, CollectOptions{Job: "nope", Namespace: ns, Kubectl: kubectl})
	if !isInput(err) || !strings.Contains(err.Error(), `no Job "nope" in namespace `+ns) {
		t.Errorf("collect of a Job that does not exist: %v, want an *InputError", err)
	}
	t.Logf("test done in %s", time.Since(start).Round(time.Millisecond))
}

// renderTestRun renders o, with a generated PKI and the quick scenario,
// to path.
func renderTestRun(t *testing.T, path string, o RenderOptions) {
	t.Helper()
	dir := t.TempDir()
	b, err := pki.Generate(pki.Options{Clients: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(dir, pki.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if o.PKI, err = ReadPKI(dir); err != nil {
		t.Fatal(err)
	}
	if o.Scenario, err = scenarios.Show("quick"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, o); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startControlPlane starts etcd, kube-apiserver and
// kube-controller-manager on loopback ports under t.TempDir(), waits
// until the API server is ready, and stops them all when the test ends.
func startControlPlane(ctx context.Context, t *testing.T, bin string) *controlPlane {
	dir := t.TempDir()
	cp := &controlPlane{t: t, bin: bin, dir: dir, exited: make(chan struct{})}

	etcdClient, etcdPeer, apiPort := freePort(t), freePort(t), freePort(t)
	etcdURL := "http://127.0.0.1:" + etcdClient
	peerURL := "http://127.0.0.1:" + etcdPeer
	cp.start(ctx, "etcd",
		"--name", "test",
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "test="+peerURL,
		"--unsafe-no-fsync", "--log-level", "warn")
	cp.waitFor(ctx, "etcd", func() (bool, error) {
		resp, err := http.Get(etcdURL + "/health")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})

	// The service-account token signing key, and a static token in the
	// system:masters group for kubectl and the controller manager.
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(saKey)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	saKeyFile := writeFile(t, dir, "sa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	saPubFile := writeFile(t, dir, "sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	token := fmt.Sprintf("%x", pubDER[len(pubDER)-16:])
	tokens := writeFile(t, dir, "tokens.csv", []byte(token+`,admin,admin,"system:masters"`+"\n"))
	certDir := filepath.Join(dir, "certs")
	cp.start(ctx, "kube-apiserver",
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", apiPort,
		// No endpoints for the "kubernetes" Service: nothing in this
		// cluster dials it, and a loopback address may not be one.
		"--endpoint-reconciler-type", "none",
		"--cert-dir", certDir,
		"--token-auth-file", tokens,
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", saPubFile,
		"--service-account-signing-key-file", saKeyFile,
		// Only allocated, never reached: the headless Service takes none.
		"--service-cluster-ip-range", "10.0.0.0/24",
		"--profiling=false")

	// kubectl trusts the serving certificate --cert-dir generated (its
	// file holds the certificate and the CA that signed it).
	cp.kubeconfig = filepath.Join(dir, "kubeconfig")
	server := "https://127.0.0.1:" + apiPort
	cp.waitFor(ctx, "the API server's serving certificate", func() (bool, error) {
		_, err := os.Stat(filepath.Join(certDir, "apiserver.crt"))
		return err == nil, nil
	})
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
`, server, filepath.Join(certDir, "apiserver.crt"), token)
	if err := os.WriteFile(cp.kubeconfig, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cp.waitFor(ctx, "the API server", func() (bool, error) {
		out, err := cp.run(ctx, "get", "--raw", "/readyz")
		return err == nil && strings.TrimSpace(string(out)) == "ok", nil
	})

	cp.start(ctx, "kube-controller-manager",
		"--kubeconfig", cp.kubeconfig,
		"--controllers", "job,serviceaccount",
		"--leader-elect=false",
		"--secure-port", "0",
		"--profiling=false")
	return cp
}

// start runs bin/name args until the test ends: its output goes to a file
// shown when the test fails; at the end it gets SIGTERM, then SIGKILL.
func (cp *controlPlane) start(ctx context.Context, name string, args ...string) {
	t := cp.t
	t.Helper()
	logPath := filepath.Join(cp.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(cp.bin, name), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			if len(data) > 6000 {
				data = data[len(data)-6000:]
			}
			t.Logf("%s log (end):\n%s", name, data)
		}
	})
	// A process that exits early fails the test at once.
	go func() {
		select {
		case err := <-done:
			done <- err
			if ctx.Err() == nil {
				t.Errorf("%s exited early: %v (see its log below)", name, err)
				cp.exitedOnce.Do(func() { close(cp.exited) })
			}
		case <-ctx.Done():
		}
	}()
}

// kubectl runs kubectl against the control plane; a failure fails the
// test.
func (cp *controlPlane) kubectl(ctx context.Context, args ...string) string {
	cp.t.Helper()
	out, err := cp.run(ctx, args...)
	if err != nil {
		cp.t.Fatal(err)
	}
	return string(out)
}

// run runs kubectl against the control plane: stdout and stderr together.
func (cp *controlPlane) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(cp.bin, "kubectl"), append([]string{"--kubeconfig", cp.kubeconfig}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	if strings.Contains(stderr.String(), "Warning:") {
		// Pod Security warnings, deprecations: the rendered objects
		// must draw none.
		cp.t.Errorf("kubectl %s warned:\n%s", strings.Join(args, " "), stderr.Bytes())
	}
	return out, nil
}

// waitFor polls ready every 200 ms until it says true, failing the test
// (with the namespace's events, which say why a pod was not created) after
// a minute or when ctx ends.
func (cp *controlPlane) waitFor(ctx context.Context, what string, ready func() (bool, error)) {
	cp.t.Helper()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := ready()
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-cp.exited:
			cp.t.Fatalf("waiting for %s: a process exited", what)
		case <-ctx.Done():
			if cp.kubeconfig != "" {
				events, err := cp.run(parent, "get", "events", "--all-namespaces")
				cp.t.Logf("events:\n%s%v", events, err)
			}
			cp.t.Fatalf("waiting for %s: %v (last error: %v)", what, context.Cause(ctx), last)
		case <-tick.C:
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
