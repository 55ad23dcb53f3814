// Package cleanup keeps the list of what must be undone however the
// process ends: the process groups of the servers it started, to kill, and
// the temporary directories it made (they hold a server key), to remove.
//
// The normal path undoes each thing itself (a target's Close, a
// directory's Remove) and then unregisters it. Run is the net under that
// path for the ways out that skip it: the CLI calls it on a second
// interrupt, which exits without waiting for the graceful stop, when main
// panics, and before it exits. A SIGKILL skips even Run: for that, children
// get a parent-death signal (SysProcAttr.Pdeathsig) and every start sweeps
// the temporary directories whose owner is gone (internal/tempdir).
//
// It starts no goroutine and holds nothing but the list.
package cleanup

import (
	"slices"
	"sync"
)

var (
	mu      sync.Mutex // guards actions and next
	actions = map[uint64]func(){}
	next    uint64
)

// Register adds fn to what Run undoes and returns the function that takes
// it off again, once the normal path has undone it; calling that more than
// once is harmless. fn must be quick and must not block (a kill, a
// removal): Run may be called with the process about to exit.
func Register(fn func()) (unregister func()) {
	mu.Lock()
	next++
	id := next
	actions[id] = fn
	mu.Unlock()
	return func() {
		mu.Lock()
		delete(actions, id)
		mu.Unlock()
	}
}

// Run calls every registered function once, the most recently registered
// first (a server is killed before the directory it runs in is removed),
// and empties the list. A function that panics does not stop the others.
// It may run concurrently with the normal path undoing the same thing: a
// second kill or removal is harmless.
func Run() {
	mu.Lock()
	ids := make([]uint64, 0, len(actions))
	for id := range actions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fns := make([]func(), 0, len(ids))
	for _, id := range slices.Backward(ids) {
		fns = append(fns, actions[id])
		delete(actions, id)
	}
	mu.Unlock()
	for _, fn := range fns {
		call(fn)
	}
}

// Pending reports how many functions are registered (tests check that the
// normal path unregisters what it undid).
func Pending() int {
	mu.Lock()
	defer mu.Unlock()
	return len(actions)
}

func call(fn func()) {
	defer func() { _ = recover() }()
	fn()
}
