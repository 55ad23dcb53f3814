package main

import (
	"errors"

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
