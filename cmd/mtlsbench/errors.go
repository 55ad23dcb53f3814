package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtlsbench/mtlsbench/bench"
	"github.com/mtlsbench/mtlsbench/compare"
	"github.com/mtlsbench/mtlsbench/k8s"
	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/results"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// isInputError reports whether err is the user's input being wrong (exit 2)
// rather than a run failing (exit 1). Libraries type such errors; this is
// the one place that knows which types mean "fix your input".
func isInputError(err error) bool {
	var (
		ue *usageError
		uk *pki.UnknownKeyTypeError
		pe *pki.PEMError
		sn *pki.SANError
		se *results.SchemaError
		re *results.ReadError
		me *results.MergeError
		sc *scenarios.Error
		bi *bench.InputError
		ki *k8s.InputError
		nc *compare.NoCommonCaseError
	)
	return errors.As(err, &ue) || errors.As(err, &uk) || errors.As(err, &pe) || errors.As(err, &sn) || errors.As(err, &se) ||
		errors.As(err, &re) || errors.As(err, &me) || errors.As(err, &sc) || errors.As(err, &bi) || errors.As(err, &ki) ||
		errors.As(err, &nc)
}

// errorLine is how runCLI prints err from the command cmd: one prefix, the
// command's path ("mtlsbench pki gen: "), and the message without the
// libraries' package prefixes, which the user does not need ("pki: "
// after "mtlsbench pki gen: " printed the prefix twice). A usage error of
// the command line (a flag that does not parse, arguments the command does
// not take), and any input error that starts by naming a flag ("--rate -5:
// ..."), cites the command's help.
func errorLine(cmd *cobra.Command, err error) string {
	prefix := "mtlsbench"
	if cmd != nil {
		prefix = cmd.CommandPath()
	}
	msg := stripPackagePrefixes(err.Error())
	line := prefix + ": " + msg
	ue, isUsage := errors.AsType[*usageError](err)
	switch {
	case isUsage && ue.help != nil:
		line += "; see '" + helpCommand(ue.help) + "'"
	case cmd != nil && exitCode(err) == exitUsage && strings.HasPrefix(msg, "-") && !strings.Contains(msg, "\n"):
		line += "; see '" + helpCommand(cmd) + "'"
	}
	return line
}

// packagePrefixes are the names of this module's packages that prefix
// their errors (house style: "pki: unknown key type ...").
var packagePrefixes = []string{
	"bench", "builtin", "capacity", "cleanup", "compare", "cpuset", "k8s", "loadgen", "managed",
	"outfile", "pki", "procstat", "rendezvous", "report", "results", "scenarios", "targets",
	"tempdir", "tlsparams",
}

// stripPackagePrefixes drops "PKG: " where it starts msg, a line of it, or
// follows ": " (a wrapped error: "--cpus: cpuset: CPU 9 ..." becomes
// "--cpus: CPU 9 ..."). Other prefixes (Go's "tls: ", "open FILE: ") stay.
func stripPackagePrefixes(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		if i == 0 || strings.HasSuffix(msg[:i], ": ") || strings.HasSuffix(msg[:i], "\n") || strings.HasSuffix(msg[:i], "\n  ") {
			if p := packagePrefix(msg[i:]); p != "" {
				i += len(p)
				continue
			}
		}
		b.WriteByte(msg[i])
		i++
	}
	return b.String()
}

// packagePrefix is the package prefix ("pki: ") s starts with, or "".
func packagePrefix(s string) string {
	for _, p := range packagePrefixes {
		if strings.HasPrefix(s, p+": ") {
			return p + ": "
		}
	}
	return ""
}
