package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mtlsbench/mtlsbench/internal/units"
	"github.com/mtlsbench/mtlsbench/results"
)

func init() { register(newMergeCmd) }

// mergeOptions are the merge command's flags.
type mergeOptions struct {
	out string
}

func newMergeCmd(env *cliEnv) *cobra.Command {
	var opts mergeOptions
	c := &cobra.Command{
		Use:   "merge SHARD-0.json SHARD-1.json ... [-o ALL.json]",
		Short: "combine the shard results of one sharded run into one (exact HDR merge)",
		Long: "Combine the results of the N shards of one sharded run (run --shard I/N\n" +
			"--run-id ID on N generators): cases matched by key and repeat, HDR\n" +
			"histograms merged exactly, counts and load shares added, rates recomputed\n" +
			"over each case's common window on shard 0's clock, CPU kept per shard.\n" +
			"Refuses anything but exactly the N shards of one run, with the same\n" +
			"parameters per case and overlapping windows, naming the files involved.",
		Example: "  mtlsbench merge shard-0.json shard-1.json shard-2.json -o all.json\n  mtlsbench merge shard-*.json | mtlsbench report /dev/stdin",
		Args:    minArgs(1, "the shard result files to merge (usage: mtlsbench merge SHARD-0.json SHARD-1.json ... -o ALL.json)"),
		RunE: func(c *cobra.Command, args []string) error {
			return runMerge(env, args, &opts)
		},
	}
	c.Flags().StringVarP(&opts.out, "out", "o", "", "write the merged result to this file (default: standard output)")
	return c
}

func runMerge(env *cliEnv, args []string, opts *mergeOptions) error {
	if err := checkOutputs(output{"-o", opts.out}); err != nil {
		return err
	}
	in := make([]results.MergeInput, 0, len(args))
	for _, path := range args {
		run, err := results.ReadFile(path)
		if err != nil {
			return err
		}
		in = append(in, results.MergeInput{Name: path, Run: run})
	}
	merged, err := results.MergeShards(in)
	if err != nil {
		return err
	}
	dest := opts.out
	if dest == "" || dest == "-" {
		dest = "standard output"
		if err := results.Write(env.stdout, merged); err != nil {
			return err
		}
	} else if err := results.WriteFile(opts.out, merged); err != nil {
		return err
	}
	writeMergeSummary(env.stderr, merged, dest)
	return nil
}

// writeMergeSummary says what merge made: the run, its shards and cases,
// how far apart the shards began, and each shard's clock offset to shard
// 0's where it was measured.
func writeMergeSummary(w io.Writer, merged *results.Run, dest string) {
	var skewUs int64
	for _, c := range merged.Cases {
		if c.Merged != nil {
			skewUs = max(skewUs, c.Merged.StartSkewUs)
		}
	}
	fmt.Fprintf(w, "mtlsbench merge: %s: %s, %s, start skew up to %.2f ms → %s\n",
		merged.RunID, units.Count(len(merged.Shards), "shard"), units.Count(len(merged.Cases), "case"), float64(skewUs)/1000, dest)
	for _, sh := range merged.Shards {
		if sh.Clock != nil {
			fmt.Fprintf(w, "  shard %d: clock %+.2f ms ± %.2f ms\n", sh.Index, sh.Clock.OffsetUs/1000, sh.Clock.ErrorUs/1000)
		}
	}
}
