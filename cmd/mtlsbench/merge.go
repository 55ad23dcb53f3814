package main

import (
	"context"
	"fmt"

	"github.com/mtlsbench/mtlsbench/results"
)

func init() {
	register("merge", "combine shard results of one scenario into one (exact HDR merge)", runMerge)
}

// mergeOptions are the merge command's flags.
type mergeOptions struct {
	out string
}

func runMerge(ctx context.Context, env *cliEnv, args []string) error {
	var opts mergeOptions
	fs := newFlagSet(env, "merge", "A.json B.json ... -o ALL.json",
		"Combine the results of one scenario run as shards on several generators:\n"+
			"cases matched by key and repeat, HDR histograms merged exactly, counts\n"+
			"added, rates recomputed over each case's common window, CPU kept per shard.\n"+
			"Refuses results of different scenarios or schema versions.")
	fs.StringVarP(&opts.out, "out", "o", "", "write the merged result to this file (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usagef("want the shard result files to merge (usage: mtlsbench merge A.json B.json ... -o ALL.json)")
	}
	runs := make([]*results.Run, 0, fs.NArg())
	for _, path := range fs.Args() {
		run, err := results.ReadFile(path)
		if err != nil {
			return err
		}
		runs = append(runs, run)
	}
	merged, err := results.Merge(runs...)
	if err != nil {
		return err
	}
	if opts.out == "" || opts.out == "-" {
		return results.Write(env.stdout, merged)
	}
	if err := results.WriteFile(opts.out, merged); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "mtlsbench merge: %d shards, %d cases → %s\n", len(merged.Shards), len(merged.Cases), opts.out)
	return nil
}
