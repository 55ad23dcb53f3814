package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/internal/outfile"
	"github.com/mtlsbench/mtlsbench/k8s"
	"github.com/mtlsbench/mtlsbench/loadgen"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

func init() { register(newK8sCmd) }

func newK8sCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{
		Use:   "k8s",
		Short: "run a scenario sharded over a Kubernetes cluster (render, collect)",
		Long: "Run a scenario sharded over a Kubernetes cluster: 'k8s render' writes the objects of\n" +
			"N generator pods that start together and each run their shard of the scenario;\n" +
			"'k8s collect' reads every shard's result from the finished Job's pod logs and\n" +
			"merges them. See docs/k8s.md.",
		Example: `  mtlsbench k8s render -f key-types --shards 4 --image mtlsbench:dev --pki ./pki --target 10.0.0.5:8443 -o job.yaml
  kubectl apply -f job.yaml
  mtlsbench k8s collect mtlsbench -o merged.json`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	var ro k8sRenderOptions
	render := &cobra.Command{
		Use:   "render [-f SCENARIO] --shards N --image IMAGE --pki DIR --target HOST:PORT [run flags]",
		Short: "write the Kubernetes objects of one sharded run, for 'kubectl apply -f'",
		Long: "Write the Kubernetes objects of one sharded run, for 'kubectl apply -f': a Secret with the\n" +
			"CA and client identities of --pki DIR (never a private key of a CA or the server), a\n" +
			"ConfigMap with the scenario, a headless Service and an Indexed Job of --shards pods,\n" +
			"each running 'mtlsbench run --shards N' against --target. Run flags are checked against\n" +
			"the scenario here and passed to every pod. Then: kubectl apply -f FILE, wait for the Job,\n" +
			"and 'mtlsbench k8s collect NAME'. See docs/k8s.md.",
		Example: "  mtlsbench k8s render --shards 4 --image mtlsbench:dev --pki ./pki --target 10.0.0.5:8443 -r 20k/s -d 30s -o job.yaml",
		Args:    noArgs("use -f to name a scenario"),
	}
	runFS := k8sRenderFlags(render.Flags(), &ro)
	render.RunE = func(c *cobra.Command, args []string) error {
		return k8sRender(env, c.Flags(), runFS, &ro)
	}
	var co k8sCollectOptions
	collect := &cobra.Command{
		Use:   "collect JOB [--namespace NS] [--kubectl PATH] [-o merged.json]",
		Short: "read every shard's result from the finished Job's pod logs and merge them",
		Long: "Read the result of every shard of a finished Job that 'mtlsbench k8s render' wrote, from its\n" +
			"pods' logs through kubectl, and merge them into one result (as 'mtlsbench merge' does).\n" +
			"Exit 2 when the Job does not exist or has not finished; 1 when a shard left no result.",
		Example: "  mtlsbench k8s collect mtlsbench --namespace bench -o merged.json",
		Args:    exactArgs(1, "one Job name (usage: mtlsbench k8s collect JOB -o merged.json)"),
		RunE: func(c *cobra.Command, args []string) error {
			return k8sCollect(c.Context(), env, args[0], &co)
		},
	}
	collect.Flags().StringVar(&co.namespace, "namespace", "", "the Job's namespace (default: kubectl's current)")
	collect.Flags().StringVar(&co.kubectl, "kubectl", "kubectl", "the kubectl program")
	collect.Flags().StringVarP(&co.out, "out", "o", "", "write the merged result to this file (default: standard output)")
	c.AddCommand(render, collect)
	return c
}

// k8sRenderOptions are render's own flags; the run flags are in run.
type k8sRenderOptions struct {
	run runOptions

	shards            int
	image, pki, runID string
	name, namespace   string
	port, cpus        int
	memory, out       string
	deadline          time.Duration
}

// k8sRenderRefused are run flags that make no sense for one pod of many,
// with why. render sets -o, --shards, --rendezvous, --run-id and --pki
// itself.
var k8sRenderRefused = map[string]string{
	"shard":       "each pod's shard is its completion index; give --shards N",
	"rendezvous":  "the pods meet at index 0 (NAME-0.NAME:--port)",
	"cpuprofile":  "a pod's file system is read-only and its files die with it",
	"hdr-log":     "a pod's file system is read-only and its files die with it; 'mtlsbench report --format hdrlog' writes one from the merged result",
	"target-pid":  "the target runs outside the pods: its CPU cannot be read from them",
	"target-cpus": "the pods start no target to pin",
	"client-cpus": "each pod has whole CPUs of its own (--cpus)",
	"in-process":  "the pods measure an external server (--target HOST:PORT)",
	"ca":          "the pods trust the CA of --pki DIR (its ca.pem)",
	"cert":        "the pods present the client identities of --pki DIR",
	"key":         "the pods present the client identities of --pki DIR",
	"format":      "a pod's standard output carries its result; render the merged result with 'mtlsbench report'",
}

// k8sRenderFlags defines render's flags on fs, then every run flag it does
// not define itself (so -o is the manifest here, and a run flag of the
// same name as one of render's is render's). It returns the run flags'
// own set, to tell them apart.
func k8sRenderFlags(fs *pflag.FlagSet, o *k8sRenderOptions) (runFS *pflag.FlagSet) {
	fs.SortFlags = false
	fs.SetNormalizeFunc(scenarioFlagNames)
	fs.IntVar(&o.shards, "shards", 0, "generator pods, each running one shard (required)")
	fs.StringVar(&o.image, "image", "", "the mtlsbench container image (see 'make image'; required)")
	fs.StringVar(&o.pki, "pki", "", "a 'mtlsbench pki gen' directory: its CA and client identities go to the pods (required)")
	fs.StringVar(&o.name, "name", k8s.DefaultName, "name of the Job and its Service (NAME-pki, NAME-scenario for the others)")
	fs.StringVar(&o.namespace, "namespace", "", "namespace of every object (default: kubectl's current)")
	fs.IntVar(&o.port, "port", k8s.DefaultPort, "port of the start barrier on index 0")
	fs.IntVar(&o.cpus, "cpus", k8s.DefaultCPUs, "whole CPUs per pod (requested = limited)")
	fs.StringVar(&o.memory, "memory", k8s.DefaultMemory, "memory per pod (requested = limited)")
	fs.StringVar(&o.runID, "run-id", "", "the run's id in every shard's result (default SCENARIO-<UTC time>)")
	fs.DurationVar(&o.deadline, "deadline", 0, "bound on the whole Job (default: the scenario's timeline + 10m for scheduling and image pulls)")
	fs.StringVarP(&o.out, "out", "o", "", "write the manifest to this file, mode 0600: it holds client keys (default: standard output)")
	setGroup(fs, "k8s", "shards", "image", "pki", "name", "namespace", "port", "cpus", "memory", "run-id", "deadline", "out")
	runFS = pflag.NewFlagSet("run", pflag.ContinueOnError)
	addRunFlags(runFS, &o.run)
	addSLOFlag(runFS, &o.run)
	// The refused ones stay parseable, to be refused with why, but out of
	// the help.
	for name := range k8sRenderRefused {
		if f := runFS.Lookup(name); f != nil {
			f.Hidden = true
		}
	}
	fs.AddFlagSet(runFS)
	return runFS
}

func k8sRender(env *cliEnv, fs, runFS *pflag.FlagSet, o *k8sRenderOptions) error {
	if err := checkWindowFlags(fs); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(k8sRenderRefused)) {
		if fs.Lookup(name) != nil && fs.Changed(name) {
			return usagef("--%s: %s", name, k8sRenderRefused[name])
		}
	}
	switch {
	case !fs.Changed("shards"):
		return usagef("--shards N is needed: how many generator pods")
	case o.shards < 1 || o.shards > loadgen.MaxShards:
		return usagef("--shards %d: must be 1 to %d", o.shards, loadgen.MaxShards)
	case o.image == "":
		return usagef("--image is needed: the mtlsbench container image the pods run ('make image' builds one)")
	case o.pki == "":
		return usagef("--pki DIR is needed: a 'mtlsbench pki gen' directory whose CA and client identities the pods use")
	}
	if err := checkOutputs(output{"-o", o.out}); err != nil {
		return err
	}
	files, err := k8s.ReadPKI(o.pki)
	if err != nil {
		return err
	}
	scenario, source, err := scenarioBytes(o.run.scenario)
	if err != nil {
		return err
	}
	spec, err := scenarios.Parse(scenario, source)
	if err != nil {
		return err
	}
	// The pods read the scenario as ScenarioDir/ScenarioKey: a file
	// without a name would be called after that path there.
	if inPod, err := scenarios.Parse(scenario, k8s.ScenarioDir+"/"+k8s.ScenarioKey); err == nil && inPod.Name != spec.Name {
		return usagef("%s has no name: line, so the pods would call it %q: add 'name: %s' to it", source, inPod.Name, spec.Name)
	}
	// Check the run flags as a pod will apply them: against an external
	// target, with the client identity and CA of --pki.
	ov := runOverrides(fs, &o.run)
	if err := checkPodTarget(spec.Target, ov.Target); err != nil {
		return err
	}
	ca, cert, key := filepath.Join(o.pki, pki.RootCertFile), filepath.Join(o.pki, pki.ClientCertFile(1)), filepath.Join(o.pki, pki.ClientKeyFile(1))
	ov.CA, ov.Cert, ov.Key = &ca, &cert, &key
	if err := spec.Apply(ov); err != nil {
		return forFlags(err, fs, spec.Source())
	}
	cases, _, err := scenarios.Expand(*spec)
	if err != nil {
		return forFlags(err, fs, spec.Source())
	}
	// The image 'make image' builds is static: no openssl client and no
	// OpenSSL signer in it. The image given may be another build, so
	// this is said, not refused: its pods would refuse such cases at
	// start (exit 2).
	for _, c := range cases {
		if c.Client == tlsparams.ClientOpenSSL || c.Load.ClientSigner == string(loadgen.SignerOpenSSL) {
			fmt.Fprintf(env.stderr, "mtlsbench k8s render: warning: case %s uses OpenSSL (--client openssl or --client-signer openssl), which the image 'make image' builds does not have (a static build, without cgo): its pods would refuse the case at start; give --image an image built with cgo and libssl\n", c.Name)
			break
		}
	}
	deadline := o.deadline
	if !fs.Changed("deadline") {
		_, length, err := scenarios.Timeline(cases, spec.Repeat, scenarios.DefaultCaseGap)
		if err != nil {
			return usagef("%v: how long the run takes is not known, give --deadline", err)
		}
		// The last case's gap too: its drain and the result's writing.
		deadline = length + scenarios.DefaultCaseGap + schedulingAllowance
	} else if deadline <= 0 {
		return usagef("--deadline %s: must be positive", deadline)
	}
	runID := o.runID
	if runID == "" {
		runID = spec.Name + "-" + time.Now().UTC().Format("20060102T150405")
	}
	ro := k8s.RenderOptions{
		Name: o.name, Namespace: o.namespace, Image: o.image, Shards: o.shards, Port: o.port,
		CPUs: o.cpus, Memory: o.memory, RunID: runID, Scenario: scenario, PKI: files,
		RunArgs: passedRunFlags(fs, runFS), ActiveDeadline: deadline,
	}
	var buf bytes.Buffer
	if err := k8s.Render(&buf, ro); err != nil {
		return err
	}
	to := "standard output"
	if o.out == "" || o.out == "-" {
		if _, err := env.stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else {
		if err := writePrivateFile(o.out, buf.Bytes()); err != nil {
			return err
		}
		to = o.out
	}
	fmt.Fprintf(env.stderr, "mtlsbench k8s render: %d shards of %s (%d cases%s), run %s, deadline %s → %s\n",
		o.shards, spec.Name, len(cases), repeatNote(spec.Repeat), runID, deadline.Round(time.Second), to)
	if to != "standard output" {
		fmt.Fprintf(env.stderr, "next: kubectl apply -f %s, then mtlsbench k8s collect %s%s -o merged.json once the Job has finished\n", o.out, o.name, nsFlag(o.namespace))
	}
	return nil
}

func nsFlag(ns string) string {
	if ns == "" {
		return ""
	}
	return " --namespace " + ns
}

// scenarioBytes returns the YAML of the scenario nameOrPath as
// scenarios.Load finds it (a library name first, then a file) and where it
// came from.
func scenarioBytes(nameOrPath string) (data []byte, source string, err error) {
	if data, err := scenarios.Show(nameOrPath); err == nil {
		return data, "library/" + nameOrPath + ".yaml", nil
	}
	data, err = os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(nameOrPath, `/\.`) {
			return nil, "", usagef("-f %s: no built-in scenario by that name and no such file (built-in: %s)", nameOrPath, scenarios.LibraryNames())
		}
		return nil, "", usagef("-f: %v", err)
	}
	return data, nameOrPath, nil
}

// checkPodTarget refuses a target the pods cannot reach as meant: one
// mtlsbench would start (builtin, nginx...), which would run inside each
// pod, and a loopback address, which is each pod's own. The target is the
// scenario's, or override (--target) when set.
func checkPodTarget(t scenarios.TargetSpec, override *string) error {
	kind, addr := t.Kind, t.Addr
	if override != nil {
		switch v := *override; v {
		case scenarios.KindBuiltin, scenarios.KindNginx, scenarios.KindHAProxy, scenarios.KindOpenSSL, scenarios.KindNode:
			kind = v
		default:
			kind, addr = scenarios.KindExternal, v
		}
	}
	if kind != scenarios.KindExternal {
		if kind == "" {
			kind = scenarios.KindBuiltin
		}
		return usagef("the target is %s, which each pod would start for itself: give --target HOST:PORT of the server to measure", kind)
	}
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return usagef("--target %s: a loopback address is each pod's own; give an address the pods can reach", addr)
	}
	return nil
}

// passedRunFlags are the run flags (those of runFS) the user set on fs,
// as arguments for the pods' 'mtlsbench run': --flag=value, in the order given.
// -f is not among them (the pods read the ConfigMap), nor a run flag that
// one of render's shadows (fs then holds render's, not runFS's).
func passedRunFlags(fs, runFS *pflag.FlagSet) []string {
	var args []string
	fs.Visit(func(f *pflag.Flag) {
		if f.Name == "file" || runFS.Lookup(f.Name) != f {
			return
		}
		value := f.Value.String()
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			value = strings.Join(sv.GetSlice(), ",")
		}
		args = append(args, "--"+f.Name+"="+value)
	})
	return args
}

// writePrivateFile writes data to path readable by its owner only, whole,
// never through a link or over a special file (internal/outfile).
func writePrivateFile(path string, data []byte) error {
	return outfile.WriteFile(path, data, outfile.Options{Mode: 0o600})
}

// schedulingAllowance is added to a scenario's timeline for the Job's
// deadline: pods scheduled, images pulled, the start barrier met.
const schedulingAllowance = 10 * time.Minute

// k8sCollectOptions are collect's flags.
type k8sCollectOptions struct {
	namespace, kubectl, out string
}

func k8sCollect(ctx context.Context, env *cliEnv, job string, o *k8sCollectOptions) error {
	if err := checkOutputs(output{"-o", o.out}); err != nil {
		return err
	}
	shards, err := k8s.Collect(ctx, k8s.CollectOptions{Job: job, Namespace: o.namespace, Kubectl: o.kubectl})
	if err != nil {
		return err
	}
	in := make([]results.MergeInput, len(shards))
	for i, s := range shards {
		in[i] = results.MergeInput{Name: fmt.Sprintf("pod %s (index %d)", s.Pod, s.Index), Run: s.Run}
	}
	merged, err := results.MergeShards(in)
	if err != nil {
		return err
	}
	to := o.out
	if o.out == "" || o.out == "-" {
		to = "standard output"
		if err := results.Write(env.stdout, merged); err != nil {
			return err
		}
	} else if err := results.WriteFile(o.out, merged); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "mtlsbench k8s collect: %d shards, %d cases → %s\n", len(shards), len(merged.Cases), to)
	return nil
}
