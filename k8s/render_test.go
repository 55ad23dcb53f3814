package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/pki"
)

// fakePKI stands for a PKI directory's files: Render copies bytes, it does
// not parse them (ReadPKI does), so the golden file needs no real keys.
func fakePKI() map[string][]byte {
	return map[string][]byte{
		"ca.pem":           []byte("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"),
		"client-1.pem":     []byte("-----BEGIN CERTIFICATE-----\nCLIENT 1\n-----END CERTIFICATE-----\n"),
		"client-1-key.pem": []byte("-----BEGIN PRIVATE KEY-----\nCLIENT 1 KEY\n-----END PRIVATE KEY-----\n"),
		"client-2.pem":     []byte("-----BEGIN CERTIFICATE-----\nCLIENT 2\n-----END CERTIFICATE-----\n"),
		"client-2-key.pem": []byte("-----BEGIN PRIVATE KEY-----\nCLIENT 2 KEY\n-----END PRIVATE KEY-----\n"),
	}
}

func goldenOptions() RenderOptions {
	return RenderOptions{
		Name:           "tls13-bench",
		Namespace:      "perf",
		Image:          "registry.example/mtlsbench:v1.2.3",
		Shards:         4,
		CPUs:           2,
		Memory:         "1Gi",
		RunID:          "quick-20260102T030405",
		Scenario:       []byte("# a scenario\nname: quick\nload:\n  duration: 2s\n"),
		PKI:            fakePKI(),
		RunArgs:        []string{"--target", "10.0.0.5:8443", "--rate", "2000"},
		ActiveDeadline: 10*time.Minute + 1500*time.Millisecond,
	}
}

// Render's output is byte for byte the golden file (regenerate with
// 'go test ./k8s -update' and review the diff).
func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   func() RenderOptions
	}{
		{"render.yaml", goldenOptions},
		// Every default: no namespace, name, port, CPUs or memory.
		{"render-defaults.yaml", func() RenderOptions {
			o := goldenOptions()
			o.Name, o.Namespace, o.Port, o.CPUs, o.Memory, o.RunArgs = "", "", 0, 0, "", nil
			o.Shards = 1
			return o
		}},
	} {
		var buf bytes.Buffer
		if err := Render(&buf, tc.opts()); err != nil {
			t.Fatalf("%s: %v", tc.golden, err)
		}
		var again bytes.Buffer
		if err := Render(&again, tc.opts()); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
			t.Errorf("%s: two renders of the same options differ", tc.golden)
		}
		resultstest.Golden(t, tc.golden, buf.Bytes())
	}
}

// rendered are the typed objects of one Render.
type rendered struct {
	secret    corev1.Secret
	configMap corev1.ConfigMap
	service   corev1.Service
	job       batchv1.Job
}

// decodeStrict splits Render's output into its documents and decodes each
// into its typed object the way the API server does: case-sensitive,
// refusing unknown and duplicate fields (encoding/json would accept
// "Completions" for "completions" and ignore a misspelt field).
func decodeStrict(t *testing.T, out []byte) rendered {
	t.Helper()
	var r rendered
	docs := strings.Split(string(out), "\n---\n")
	if len(docs) != 4 {
		t.Fatalf("%d documents, want 4 (Secret, ConfigMap, Service, Job)", len(docs))
	}
	wantKinds := []string{"Secret", "ConfigMap", "Service", "Job"}
	for i, doc := range docs {
		j, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			t.Fatalf("document %d: %v", i+1, err)
		}
		var tm metav1.TypeMeta
		if _, err := kjson.UnmarshalStrict(j, &tm); err != nil {
			t.Fatalf("document %d: %v", i+1, err)
		}
		if tm.Kind != wantKinds[i] {
			t.Fatalf("document %d is a %s, want a %s", i+1, tm.Kind, wantKinds[i])
		}
		var into any
		switch tm.Kind {
		case "Secret":
			into = &r.secret
		case "ConfigMap":
			into = &r.configMap
		case "Service":
			into = &r.service
		case "Job":
			into = &r.job
		}
		strict, err := kjson.UnmarshalStrict(j, into, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err != nil {
			t.Fatalf("%s: %v", tm.Kind, err)
		}
		for _, e := range strict {
			t.Errorf("%s: %v", tm.Kind, e)
		}
	}
	return r
}

// The strict decoder itself: it must catch what encoding/json lets by.
func TestDecodeStrictIsStrict(t *testing.T) {
	for _, bad := range []string{
		`{"spec":{"Completions":3}}`,                 // wrong case
		`{"spec":{"completions":3,"x":1}}`,           // unknown field
		`{"spec":{"completions":3,"completions":4}}`, // duplicate
	} {
		var job batchv1.Job
		strict, err := kjson.UnmarshalStrict([]byte(bad), &job, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err == nil && len(strict) == 0 {
			t.Errorf("%s decoded without complaint", bad)
		}
	}
}

func TestRenderObjects(t *testing.T) {
	o := goldenOptions()
	var buf bytes.Buffer
	if err := Render(&buf, o); err != nil {
		t.Fatal(err)
	}
	r := decodeStrict(t, buf.Bytes())

	for _, m := range []metav1.ObjectMeta{r.secret.ObjectMeta, r.configMap.ObjectMeta, r.service.ObjectMeta, r.job.ObjectMeta} {
		if m.Namespace != "perf" || m.Annotations[RunIDAnnotation] != o.RunID {
			t.Errorf("%s: namespace %q, run id %q", m.Name, m.Namespace, m.Annotations[RunIDAnnotation])
		}
	}

	if got := slices.Sorted(maps.Keys(r.secret.Data)); !slices.Equal(got, slices.Sorted(maps.Keys(o.PKI))) {
		t.Errorf("Secret keys %v, want the PKI's %v", got, slices.Sorted(maps.Keys(o.PKI)))
	}
	if got := r.configMap.Data[ScenarioKey]; got != string(o.Scenario) {
		t.Errorf("ConfigMap %s = %q, want the scenario", ScenarioKey, got)
	}

	svc := r.service.Spec
	if svc.ClusterIP != corev1.ClusterIPNone || !svc.PublishNotReadyAddresses || len(svc.Ports) != 1 || svc.Ports[0].Port != DefaultPort {
		t.Errorf("Service: clusterIP %q, publishNotReadyAddresses %v, ports %+v: want headless, true, one port %d", svc.ClusterIP, svc.PublishNotReadyAddresses, svc.Ports, DefaultPort)
	}

	js := r.job.Spec
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed", js.CompletionMode)
	}
	if js.Completions == nil || *js.Completions != 4 || js.Parallelism == nil || *js.Parallelism != 4 {
		t.Errorf("completions %v, parallelism %v: want 4 and 4", js.Completions, js.Parallelism)
	}
	if js.BackoffLimit == nil || *js.BackoffLimit != 0 {
		t.Errorf("backoffLimit %v, want 0: a retried shard runs off the timeline", js.BackoffLimit)
	}
	if js.ActiveDeadlineSeconds == nil || *js.ActiveDeadlineSeconds != 602 {
		t.Errorf("activeDeadlineSeconds %v, want 602 (10m1.5s rounded up)", js.ActiveDeadlineSeconds)
	}
	pod := js.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never", pod.RestartPolicy)
	}
	if pod.Subdomain != r.service.Name {
		t.Errorf("subdomain %q, want the Service's name %q", pod.Subdomain, r.service.Name)
	}
	for k, v := range svc.Selector {
		if js.Template.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, which the pods do not carry", k, v)
		}
	}
	if tsc := pod.TopologySpreadConstraints; len(tsc) != 1 || tsc[0].TopologyKey != "kubernetes.io/hostname" || tsc[0].WhenUnsatisfiable != corev1.DoNotSchedule {
		t.Errorf("topologySpreadConstraints %+v, want one on kubernetes.io/hostname, DoNotSchedule", tsc)
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("pod securityContext %+v: want runAsNonRoot", psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	res := c.Resources
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := res.Requests[name], res.Limits[name]
		if req.IsZero() || req.Cmp(lim) != 0 {
			t.Errorf("%s: request %s, limit %s: want equal and set", name, req.String(), lim.String())
		}
	}
	if cpu := res.Requests[corev1.ResourceCPU]; cpu.MilliValue()%1000 != 0 {
		t.Errorf("cpu request %s: want whole CPUs", cpu.String())
	}
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext %+v: want non-root, read-only root, no privilege escalation, drop ALL", sc)
	}
	args := strings.Join(c.Args, " ")
	for _, want := range []string{
		"run -f /etc/mtlsbench/scenario/scenario.yaml ",
		" --shards 4 ",
		" --rendezvous tls13-bench-0.tls13-bench:7946 ",
		" --run-id quick-20260102T030405 ",
		" --pki /etc/mtlsbench/pki ",
		" -o - ",
		" --target 10.0.0.5:8443 --rate 2000",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
}

// A real 'pki gen' directory: the Secret holds the CA certificates and the
// client identities, never the private key of a CA or of the server.
func TestRenderPKIFromDirectory(t *testing.T) {
	for _, intermediate := range []bool{false, true} {
		dir := t.TempDir()
		b, err := pki.Generate(pki.Options{Clients: 3, Intermediate: intermediate})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Save(dir, pki.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		files, err := ReadPKI(dir)
		if err != nil {
			t.Fatal(err)
		}
		o := goldenOptions()
		o.PKI = files
		var buf bytes.Buffer
		if err := Render(&buf, o); err != nil {
			t.Fatal(err)
		}
		r := decodeStrict(t, buf.Bytes())
		want := []string{"ca.pem", "client-1-key.pem", "client-1.pem", "client-2-key.pem", "client-2.pem", "client-3-key.pem", "client-3.pem"}
		if intermediate {
			want = append(want, "intermediate.pem")
			slices.Sort(want)
		}
		if got := slices.Sorted(maps.Keys(r.secret.Data)); !slices.Equal(got, want) {
			t.Errorf("intermediate %v: Secret keys %v, want %v", intermediate, got, want)
		}
		for _, private := range []string{pki.RootKeyFile, pki.IntermediateKeyFile, pki.ServerKeyFile, pki.ServerCertFile} {
			if _, ok := r.secret.Data[private]; ok {
				t.Errorf("the Secret holds %s", private)
			}
		}
		// No private key of the CA or the server in the output at all,
		// under any name.
		for _, name := range []string{pki.RootKeyFile, pki.ServerKeyFile, pki.IntermediateKeyFile} {
			if intermediate || name != pki.IntermediateKeyFile {
				if key := mustRead(t, dir, name); bytes.Contains(buf.Bytes(), []byte(encodeBase64(key))) {
					t.Errorf("the output holds %s", name)
				}
			}
		}
	}
}

func TestReadPKIRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadPKI(dir); !isInput(err) {
		t.Errorf("empty directory: %v, want an *InputError", err)
	}
	b, err := pki.Generate(pki.Options{Clients: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(dir, pki.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	// A key that is not its certificate's.
	other, _ := pki.Generate(pki.Options{Clients: 1})
	odir := t.TempDir()
	if err := other.Save(odir, pki.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "client-1-key.pem", mustRead(t, odir, "client-1-key.pem"))
	if _, err := ReadPKI(dir); !isInput(err) || !strings.Contains(err.Error(), "client identity 1") {
		t.Errorf("mismatched key: %v, want an *InputError naming client identity 1", err)
	}
}

func TestRenderRefuses(t *testing.T) {
	for _, tc := range []struct {
		change func(*RenderOptions)
		want   string
	}{
		{func(o *RenderOptions) { o.PKI["ca-key.pem"] = []byte("secret") }, `"ca-key.pem" may not go to the pods`},
		{func(o *RenderOptions) { o.PKI["server-key.pem"] = []byte("secret") }, `"server-key.pem" may not go to the pods`},
		{func(o *RenderOptions) { o.PKI["intermediate-key.pem"] = []byte("secret") }, `"intermediate-key.pem" may not go`},
		{func(o *RenderOptions) { delete(o.PKI, "ca.pem") }, "no ca.pem"},
		{func(o *RenderOptions) { delete(o.PKI, "client-2-key.pem") }, "not its key client-2-key.pem"},
		{func(o *RenderOptions) { o.PKI = map[string][]byte{"ca.pem": nil} }, "no client identity"},
		{func(o *RenderOptions) { o.Name = "Bench_1" }, `name "Bench_1"`},
		{func(o *RenderOptions) { o.Name = strings.Repeat("a", 62) }, "too long"},
		{func(o *RenderOptions) { o.Namespace = "Perf" }, `namespace "Perf"`},
		{func(o *RenderOptions) { o.Image = "" }, "image"},
		{func(o *RenderOptions) { o.Shards = 0 }, "shards 0"},
		{func(o *RenderOptions) { o.Port = 70000 }, "port 70000"},
		{func(o *RenderOptions) { o.CPUs = -1 }, "cpus -1"},
		{func(o *RenderOptions) { o.Memory = "lots" }, `memory "lots"`},
		{func(o *RenderOptions) { o.RunID = "" }, "run id"},
		{func(o *RenderOptions) { o.Scenario = nil }, "scenario is empty"},
		{func(o *RenderOptions) { o.ActiveDeadline = 0 }, "deadline"},
	} {
		o := goldenOptions()
		tc.change(&o)
		var buf bytes.Buffer
		err := Render(&buf, o)
		if !isInput(err) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "k8s: ") {
			t.Errorf("%v, want a k8s: *InputError containing %q", err, tc.want)
		}
		if buf.Len() > 0 {
			t.Errorf("%q: wrote %d bytes despite the error", tc.want, buf.Len())
		}
	}
}

func isInput(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

func ExampleRender() {
	var buf bytes.Buffer
	err := Render(&buf, RenderOptions{
		Image: "mtlsbench:dev", Shards: 3, RunID: "quick-1", Scenario: []byte("name: quick\n"),
		PKI: fakePKI(), ActiveDeadline: 15 * time.Minute,
	})
	fmt.Println(err, strings.Count(buf.String(), "\nkind: "))
	// Output: <nil> 4
}
