// Package deps holds, in its test, the rules on which packages of the
// module may depend on which (ARCHITECTURE.md's dependency rule): nothing
// imports bench or the CLI; the engine is free of renderers, targets and
// scenarios; targets are free of the engine; the result model is free of
// what renders or judges it; pure packages do no I/O; test fixtures stay
// out of the binary; k8s runs no load and links no cluster client, and
// neither the engine nor the result model knows Kubernetes. It has no code; add a rule to its test when a
// boundary matters.
package deps
