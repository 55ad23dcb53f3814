package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/testenv"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/targets"
	"github.com/mtlsbench/mtlsbench/targets/managed"
)

// netHosts makes n network namespaces on a bridge of their own — each a
// host with address 10.R.S.(10+i) — and removes them when the test ends.
// The bridge has 10.R.S.1, in this (the test's) namespace.
func netHosts(t *testing.T, n int) (namespaces []string, hostIP func(i int) string, bridgeIP string) {
	t.Helper()
	tag := fmt.Sprintf("mb%d", os.Getpid()%100000)
	subnet := fmt.Sprintf("10.231.%d", os.Getpid()%250+1)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	bridge := tag + "br"
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", bridge).Run() })
	ip("link", "add", bridge, "type", "bridge")
	ip("addr", "add", subnet+".1/24", "dev", bridge)
	ip("link", "set", bridge, "up")
	for i := range n {
		ns, veth := fmt.Sprintf("%s-ns%d", tag, i), fmt.Sprintf("%sv%d", tag, i)
		t.Cleanup(func() {
			_ = exec.Command("ip", "netns", "del", ns).Run()
			_ = exec.Command("ip", "link", "del", veth).Run()
		})
		ip("netns", "add", ns)
		ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
		ip("link", "set", veth, "master", bridge, "up")
		ip("-n", ns, "addr", "add", fmt.Sprintf("%s.%d/24", subnet, 10+i), "dev", "eth0")
		ip("-n", ns, "link", "set", "eth0", "up")
		ip("-n", ns, "link", "set", "lo", "up")
		namespaces = append(namespaces, ns)
	}
	return namespaces, func(i int) string { return fmt.Sprintf("%s.%d", subnet, 10+i) }, subnet + ".1"
}

// Three shards, each a process on a host of its own (a network
// namespace), meet at a rendezvous and load one nginx at a total of
// 600 handshakes/s for 5 s. Their merged result counts what nginx logged
// (within 1%), their windows start within 5 ms of each other, and their
// starts interleave: the merged inter-arrival median is within 25% of
// 1/rate, not three starts at once. Merge refuses the broken inputs.
//
// Its timing bounds need the machine to itself: make test runs it alone,
// after the packages that run in parallel (-short skips it there).
func TestShardsOnThreeHostsMergeToNginxsCount(t *testing.T) {
	if testing.Short() {
		t.Skip("timing bounds: run alone (make test runs it after the parallel packages)")
	}
	// testenv skips, announced, or fails under MTLSBENCH_REQUIRE_SERVERS=1.
	testenv.Root(t, "network namespaces")
	testenv.Program(t, "ip", "iproute2")
	testenv.NginxStream(t)
	bin := binary(t)
	const shards, rate = 3, 600
	nss, hostIP, bridgeIP := netHosts(t, shards)

	// The PKI: the server's identity for nginx, the client's copy
	// (CA certificate and six identities) for the shards.
	b, err := pki.Generate(pki.Options{ServerKeyType: pki.ECDSAP256, Clients: 6, SANs: []string{bridgeIP}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	if err := b.Save(pkiDir, pki.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tgt, err := managed.Start(ctx, targets.KindNginx, targets.Config{
		Listen: bridgeIP + ":0", Identity: b.Server, ClientCAs: []*x509.Certificate{b.Root.Cert},
		MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13, Groups: []tls.CurveID{tls.X25519},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()

	out := func(i int) string { return filepath.Join(dir, fmt.Sprintf("shard-%d.json", i)) }
	cmds := make([]*exec.Cmd, shards)
	logs := make([]strings.Builder, shards)
	for i := range shards {
		cmds[i] = exec.CommandContext(ctx, "ip", "netns", "exec", nss[i], bin, "run",
			"--target", tgt.Addr(), "--pki", pkiDir, "--server-name", "localhost", "--tls", "1.3", "--resume", "none",
			"--shard", fmt.Sprintf("%d/%d", i, shards), "--run-id", "e2e", "--rendezvous", hostIP(0)+":7946",
			"-r", fmt.Sprint(rate), "-d", "5s", "--warmup", "0s", "-q", "-o", out(i))
		cmds[i].Stdout, cmds[i].Stderr = &logs[i], &logs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, logs[i].String())
		}
	}

	var runs []*results.Run
	var files []string
	for i := range shards {
		r, err := results.ReadFile(out(i))
		if err != nil {
			t.Fatal(err)
		}
		runs, files = append(runs, r), append(files, out(i))
		if r.Shard == nil || r.Shard.Index != i || r.RunID != "e2e" {
			t.Errorf("shard %d's result: run %q, shard %+v", i, r.RunID, r.Shard)
		}
		if i > 0 && (r.Shard.Clock == nil || r.Shard.Clock.ErrorUs <= 0) {
			t.Errorf("shard %d recorded no clock offset", i)
		}
	}
	code, _, errOut := runCommand(t, append([]string{"merge", "-o", filepath.Join(dir, "merged.json")}, files...)...)
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	merged, err := results.ReadFile(filepath.Join(dir, "merged.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := merged.Cases[0]
	if c.Status != results.StatusOK || c.Counts.Errors != 0 {
		t.Fatalf("merged case %s: %s %s, errors %v", c.Name, c.Status, c.Failure, c.Errors)
	}

	// What nginx logged over the shards' windows.
	from, to := c.Start.Add(-time.Second), c.Start.Add(time.Duration(c.DurationS*float64(time.Second))+time.Second)
	counts, err := tgt.(targets.WindowCounter).CountsBetween(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(float64(counts.Handshakes - c.Counts.OK)); d > 0.01*float64(counts.Handshakes) || c.Counts.OK < 2900 {
		t.Errorf("merged count %d, nginx logged %d: more than 1%% apart (or far from 3,000)", c.Counts.OK, counts.Handshakes)
	}

	// Window starts within 5 ms of each other.
	var starts []time.Time
	for _, r := range runs {
		starts = append(starts, r.Cases[0].Start)
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	if skew := starts[len(starts)-1].Sub(starts[0]); skew > 5*time.Millisecond {
		t.Errorf("the shards' windows started %v apart", skew)
	}

	// Arrivals interleave: the union of the shards' start times, over the
	// span every shard's sample covers, has gaps of about 1/rate.
	var all []int64
	cover := int64(math.MaxInt64)
	for _, r := range runs {
		s := r.Cases[0].Shard
		if s == nil || len(s.StartsUs) < 100 {
			t.Fatalf("a shard kept no start times: %+v", s)
		}
		cover = min(cover, slices.Max(s.StartsUs))
		all = append(all, s.StartsUs...)
	}
	slices.Sort(all)
	var gaps []int64
	for i := 1; i < len(all) && all[i] <= cover; i++ {
		gaps = append(gaps, all[i]-all[i-1])
	}
	slices.Sort(gaps)
	median, want := float64(gaps[len(gaps)/2]), 1e6/rate
	if math.Abs(median-want) > 0.25*want {
		t.Errorf("merged inter-arrival median %.0f µs, want %.0f ± 25%%", median, want)
	}
	// merge's own account of the alignment says the same.
	if m := c.Merged; m == nil || m.Shards != shards || m.StartSkewUs > 5000 || math.Abs(m.InterArrivalP50Us-want) > 0.25*want {
		t.Errorf("merged alignment %+v", c.Merged)
	}
	t.Logf("merged %d handshakes, nginx %d; window starts within %v; inter-arrival median %.0f µs (1/rate %.0f µs)",
		c.Counts.OK, counts.Handshakes, starts[len(starts)-1].Sub(starts[0]), median, want)

	// Merge refuses a missing shard and a duplicated one.
	code, _, errOut = runCommand(t, "merge", "-o", filepath.Join(dir, "x.json"), files[0], files[1])
	if code != exitUsage || !strings.Contains(errOut, "2") {
		t.Errorf("merge of 2 of 3 shards: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCommand(t, "merge", "-o", filepath.Join(dir, "y.json"), files[0], files[1], files[1])
	if code != exitUsage {
		t.Errorf("merge with shard 1 twice: exit %d: %s", code, errOut)
	}
}
