// Package deps holds, in its test, the rules on which packages of the
// module may depend on which: what keeps the engine free of renderers, the
// result model free of what renders or judges it, and test fixtures out of
// the binary. It has no code; add a rule to its test when a boundary
// matters.
package deps
