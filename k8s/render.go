package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// Defaults of RenderOptions.
const (
	DefaultName   = "mtlsbench"
	DefaultPort   = 7946
	DefaultCPUs   = 2
	DefaultMemory = "1Gi"
)

// Where the pods find their inputs, and what the objects are called.
const (
	// ScenarioKey is the ConfigMap key of the scenario YAML; the pods read
	// it as ScenarioDir/ScenarioKey.
	ScenarioKey = "scenario.yaml"
	ScenarioDir = "/etc/mtlsbench/scenario"
	// PKIDir is where the Secret's files are mounted: 'run --pki' reads it.
	PKIDir = "/etc/mtlsbench/pki"
	// ContainerName is the generator container's name.
	ContainerName = "mtlsbench"
	// RunIDAnnotation carries the run id on every object.
	RunIDAnnotation = "mtlsbench/run-id"
	// IndexKey is the annotation (and, since Kubernetes 1.28, the label)
	// the Job controller puts on each pod of an Indexed Job: its
	// completion index. The pod also gets it as $JOB_COMPLETION_INDEX,
	// which 'run --shards' reads.
	IndexKey = "batch.kubernetes.io/job-completion-index"
	// JobNameLabel is the label the Job controller puts on its pods;
	// LegacyJobNameLabel is its name before Kubernetes 1.27.
	JobNameLabel       = "batch.kubernetes.io/job-name"
	LegacyJobNameLabel = "job-name"
)

// uid is the user and group the generator runs as: a non-root id with no
// home and no login, as distroless images use (65532, "nonroot"); the
// Dockerfile sets the same.
const uid = 65532

// RenderOptions say what Render writes. Zero values have the defaults
// noted per field.
type RenderOptions struct {
	// Name names the Job and the Service; the Secret is Name-pki and the
	// ConfigMap Name-scenario. Zero means DefaultName. It must be a DNS
	// label (lower-case letters, digits, '-', starting with a letter)
	// short enough for the pods' host names, Name-INDEX, to stay within
	// 63 characters.
	Name string
	// Namespace of every object. Zero leaves it out: kubectl's current
	// namespace.
	Namespace string
	// Image is the generator's container image. Required.
	Image string
	// Shards is how many generator pods run together: the Job's
	// completions and parallelism. At least 1.
	Shards int
	// Port is where index 0 listens for the start barrier, and the
	// Service's port. Zero means DefaultPort.
	Port int
	// CPUs per pod, whole CPUs, requested and limited alike. Zero means
	// DefaultCPUs.
	CPUs int
	// Memory per pod, a Kubernetes quantity ("1Gi"), requested and
	// limited alike. Zero means DefaultMemory.
	Memory string
	// RunID names the run in every shard's result. Required.
	RunID string
	// Scenario is the scenario YAML the pods run, stored in the ConfigMap
	// under ScenarioKey. Required.
	Scenario []byte
	// PKI is the pods' identities and CA, file name → contents, as
	// ReadPKI returns them. Only ca.pem, intermediate.pem and
	// client-N.pem / client-N-key.pem are accepted: a CA's or the
	// server's private key is refused. Required: ca.pem and one client.
	PKI map[string][]byte
	// RunArgs are more 'mtlsbench run' flags, given to every pod after
	// those Render sets (-f, --shards, --rendezvous, --run-id, --pki,
	// -o -).
	RunArgs []string
	// ActiveDeadline bounds the Job from its start, scheduling and image
	// pulls included (activeDeadlineSeconds, rounded up to a second).
	// Required.
	ActiveDeadline time.Duration
}

// withDefaults returns a copy of o with its defaults applied, or why o
// cannot be rendered.
func (o RenderOptions) withDefaults() (RenderOptions, error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.CPUs == 0 {
		o.CPUs = DefaultCPUs
	}
	if o.Memory == "" {
		o.Memory = DefaultMemory
	}
	if errs := validation.IsDNS1035Label(o.Name); len(errs) > 0 {
		return o, inputf("name %q: %s (it names the Job, its Service and its pods' host names)", o.Name, strings.Join(errs, "; "))
	}
	// A pod's host name is NAME-INDEX, a DNS label.
	if host := fmt.Sprintf("%s-%d", o.Name, max(o.Shards-1, 0)); len(host) > validation.DNS1123LabelMaxLength {
		return o, inputf("name %q is too long: the pods' host names (%s) must fit %d characters", o.Name, host, validation.DNS1123LabelMaxLength)
	}
	if o.Namespace != "" {
		if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
			return o, inputf("namespace %q: %s", o.Namespace, strings.Join(errs, "; "))
		}
	}
	switch {
	case o.Image == "":
		return o, inputf("an image is needed: the generator's container image")
	case o.Shards < 1:
		return o, inputf("shards %d: must be at least 1", o.Shards)
	case o.Port < 1 || o.Port > 65535:
		return o, inputf("port %d: must be 1 to 65535", o.Port)
	case o.CPUs < 1:
		return o, inputf("cpus %d: must be at least 1 (whole CPUs)", o.CPUs)
	case o.RunID == "":
		return o, inputf("a run id is needed")
	case len(o.Scenario) == 0:
		return o, inputf("the scenario is empty")
	case o.ActiveDeadline <= 0:
		return o, inputf("active deadline %s: must be positive", o.ActiveDeadline)
	}
	if q, err := resource.ParseQuantity(o.Memory); err != nil || q.Sign() <= 0 {
		return o, inputf("memory %q: not a positive Kubernetes quantity such as 512Mi or 2Gi", o.Memory)
	}
	if _, ok := o.PKI["ca.pem"]; !ok {
		return o, inputf("the PKI has no ca.pem")
	}
	clients := 0
	for name := range o.PKI {
		if !secretFile(name) {
			return o, inputf("the PKI file %q may not go to the pods: only the CA certificates and the client identities do, never a private key of a CA or of the server", name)
		}
		if m := clientFile.FindStringSubmatch(name); m != nil && m[2] == "" {
			if _, ok := o.PKI["client-"+m[1]+"-key.pem"]; !ok {
				return o, inputf("the PKI has %s but not its key client-%s-key.pem", name, m[1])
			}
			clients++
		}
	}
	if clients == 0 {
		return o, inputf("the PKI has no client identity (client-1.pem and client-1-key.pem)")
	}
	return o, nil
}

// Render writes the objects of one sharded run as multi-document YAML for
// 'kubectl apply -f', in the order they are needed: the Secret, the
// ConfigMap, the headless Service and the Job. The output depends only on
// o: keys sorted, no timestamps, no status. Bad options are an
// *InputError.
func Render(w io.Writer, o RenderOptions) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for i, obj := range objects(o) {
		doc, err := marshal(obj.object)
		if err != nil {
			return fmt.Errorf("k8s: render: %w", err)
		}
		if doc, err = annotate(doc, obj.notes); err != nil {
			return fmt.Errorf("k8s: render: %w", err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.WriteString("# " + obj.header + "\n")
		buf.Write(doc)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("k8s: render: %w", err)
	}
	return nil
}

// Names of the objects of a run called name.
func secretName(name string) string    { return name + "-pki" }
func configMapName(name string) string { return name + "-scenario" }

// podArgs are the generator container's arguments: every shard runs the
// same command and tells itself apart by $JOB_COMPLETION_INDEX.
func podArgs(o RenderOptions) []string {
	args := []string{
		"run",
		"-f", ScenarioDir + "/" + ScenarioKey,
		"--shards", strconv.Itoa(o.Shards),
		// Index 0's stable DNS name: the pod's host name (NAME-0) in the
		// Service's domain (the pod's subdomain).
		"--rendezvous", fmt.Sprintf("%s-0.%s:%d", o.Name, o.Name, o.Port),
		"--run-id", o.RunID,
		"--pki", PKIDir,
		"-o", "-",
	}
	return append(args, o.RunArgs...)
}

// object is one object to write, with a comment above it and comments
// at the end of some of its lines (notes: the line as marshal writes it,
// indentation included → the comment), for whoever reads the manifest.
type object struct {
	object any
	header string
	notes  map[string]string
}

// objects builds the run's objects from o (defaults applied).
func objects(o RenderOptions) []object {
	labels := map[string]string{
		"app.kubernetes.io/name":     "mtlsbench",
		"app.kubernetes.io/instance": o.Name,
	}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name:        name,
			Namespace:   o.Namespace,
			Labels:      maps.Clone(labels),
			Annotations: map[string]string{RunIDAnnotation: o.RunID},
		}
	}

	secret := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: meta(secretName(o.Name)),
		Type:       corev1.SecretTypeOpaque,
		Data:       maps.Clone(o.PKI),
	}
	configMap := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(configMapName(o.Name)),
		Data:       map[string]string{ScenarioKey: string(o.Scenario)},
	}
	port := corev1.ServicePort{
		Name:       "rendezvous",
		Protocol:   corev1.ProtocolTCP,
		Port:       int32(o.Port),
		TargetPort: intstr.FromInt32(int32(o.Port)),
	}
	// Headless: the Service only gives the pods DNS names
	// (NAME-INDEX.NAME); nothing is balanced. Addresses are published
	// before any readiness (the generator has no probe), so index 0 is
	// reachable as soon as it runs.
	service := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(o.Name),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 maps.Clone(labels),
			Ports:                    []corev1.ServicePort{port},
		},
	}

	whole := func() corev1.ResourceList {
		return corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewQuantity(int64(o.CPUs), resource.DecimalSI),
			corev1.ResourceMemory: resource.MustParse(o.Memory),
		}
	}
	container := corev1.Container{
		Name:  ContainerName,
		Image: o.Image,
		Args:  podArgs(o),
		Ports: []corev1.ContainerPort{{Name: port.Name, ContainerPort: port.Port, Protocol: corev1.ProtocolTCP}},
		// Whole CPUs, requests equal to limits (memory too): the pod is in
		// the Guaranteed QoS class, where a kubelet with the static CPU
		// manager policy gives it cores of its own. A generator that
		// shares cores or is throttled measures its own starvation.
		Resources: corev1.ResourceRequirements{Requests: whole(), Limits: whole()},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "pki", MountPath: PKIDir, ReadOnly: true},
			{Name: "scenario", MountPath: ScenarioDir, ReadOnly: true},
			{Name: "tmp", MountPath: "/tmp"},
		},
		// The last lines of the log (the error) become the termination
		// message of a pod that failed: 'kubectl describe pod' shows them.
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             ptr(true),
			ReadOnlyRootFilesystem:   ptr(true),
			AllowPrivilegeEscalation: ptr(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	pod := corev1.PodSpec{
		// A shard runs once: a restarted container would start its slice
		// of the schedule after the others, off the shared timeline.
		RestartPolicy: corev1.RestartPolicyNever,
		// With the Service's name as subdomain each pod is reachable as
		// NAME-INDEX.NAME: index 0 hosts the start barrier.
		Subdomain:                    o.Name,
		AutomountServiceAccountToken: ptr(false),
		EnableServiceLinks:           ptr(false),
		// Spread the generators over nodes, at most one more on any node
		// than on another. DoNotSchedule rather than ScheduleAnyway: two
		// generators on one node share its NIC, memory bandwidth and
		// kernel, so a packed run measures less than its shards claim,
		// silently; a shard that cannot be placed stays Pending, which
		// 'kubectl get pods' shows, and the others wait at the barrier
		// until the deadline fails the Job. With more shards than nodes
		// they are still placed, evenly.
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
			MaxSkew:           1,
			TopologyKey:       "kubernetes.io/hostname",
			WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector:     &metav1.LabelSelector{MatchLabels: maps.Clone(labels)},
		}},
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr(true),
			RunAsUser:      ptr(int64(uid)),
			RunAsGroup:     ptr(int64(uid)),
			FSGroup:        ptr(int64(uid)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{container},
		Volumes: []corev1.Volume{
			// Group-readable by the generator's group (fsGroup), keys
			// included, and by nobody else.
			{Name: "pki", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: secretName(o.Name), DefaultMode: ptr(int32(0o440)),
			}}},
			{Name: "scenario", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: configMapName(o.Name)},
			}}},
			// The root file system is read-only; a scratch directory for
			// anything that wants one.
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
				SizeLimit: ptr(resource.MustParse("64Mi")),
			}}},
		},
	}
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(labels),
		Annotations: map[string]string{RunIDAnnotation: o.RunID}}, Spec: pod}
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta(o.Name),
		Spec: batchv1.JobSpec{
			// One pod per shard, all at once, each with its index.
			CompletionMode: ptr(batchv1.IndexedCompletion),
			Completions:    ptr(int32(o.Shards)),
			Parallelism:    ptr(int32(o.Shards)),
			// No retries: a retried shard would run its slice after the
			// others had finished theirs, off the shared timeline, and its
			// load would be measured against a quiet server. A failed
			// shard fails the run; 'mtlsbench k8s collect' says which.
			BackoffLimit: ptr(int32(0)),
			// The whole run, scheduling and image pulls included; past it
			// the Job fails and its pods are stopped.
			ActiveDeadlineSeconds: ptr(int64((o.ActiveDeadline + time.Second - 1) / time.Second)),
			// No ttlSecondsAfterFinished: the results are in the pods'
			// logs until 'k8s collect' has read them; delete the Job
			// afterwards.
			Template: template,
		},
	}
	deadline := *job.Spec.ActiveDeadlineSeconds
	nsFlag := ""
	if o.Namespace != "" {
		nsFlag = " --namespace " + o.Namespace
	}
	return []object{
		{secret, "The generators' CA certificates and client identities (never a CA's or the server's private key).", nil},
		{configMap, "The scenario every shard runs.", nil},
		{service, "DNS names for the generator pods: index 0 hosts the start barrier.", map[string]string{
			"  clusterIP: None":                "# headless: names, no load balancing",
			"  publishNotReadyAddresses: true": "# names resolve before readiness (there is no probe)",
		}},
		{job, fmt.Sprintf("Generator pods: %d, one per completion index, started together; collect their results with 'mtlsbench k8s collect %s%s'.", o.Shards, o.Name, nsFlag), map[string]string{
			"  completionMode: Indexed":                          "# each pod's $JOB_COMPLETION_INDEX is its shard",
			"  backoffLimit: 0":                                  "# no retries: a retried shard would run its slice off the shared timeline",
			fmt.Sprintf("  activeDeadlineSeconds: %d", deadline): "# the whole run, scheduling and image pulls included",
			"      subdomain: " + o.Name:                         "# index 0 is " + o.Name + "-0." + o.Name,
			"        whenUnsatisfiable: DoNotSchedule":           "# spread over nodes: generators on one node share its NIC and kernel",
			"          defaultMode: 288":                         "# 0440: the generator's group (fsGroup) only",
		}},
	}
}

// annotate appends each note to the end of its line of doc. A note whose
// line is not there is an error: the layout changed under it.
func annotate(doc []byte, notes map[string]string) ([]byte, error) {
	if len(notes) == 0 {
		return doc, nil
	}
	placed := map[string]bool{}
	var out bytes.Buffer
	for line := range bytes.Lines(doc) {
		text := strings.TrimSuffix(string(line), "\n")
		out.WriteString(text)
		if note, ok := notes[text]; ok && !placed[text] {
			out.WriteString("  " + note)
			placed[text] = true
		}
		out.WriteString("\n")
	}
	for line := range notes {
		if !placed[line] {
			return nil, fmt.Errorf("no line %q to annotate", line)
		}
	}
	return out.Bytes(), nil
}

// marshal writes one object as YAML with sorted keys and without its
// status: what is written is what is asked for.
func marshal(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if j, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(j)
}

func ptr[T any](v T) *T { return &v }
