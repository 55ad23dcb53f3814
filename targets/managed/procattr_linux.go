package managed

import "syscall"

// serverProcAttr puts a server in its own process group: workers can be
// found and killed by the group's ID, and a terminal's Ctrl-C reaches only
// the harness, which stops the server itself.
//
// If the harness dies without Close (SIGKILL, a crash), the server gets
// its stop signal: the one it handles by stopping its workers too. nginx
// workers outlive a master killed outright, so this is not SIGKILL. The
// signal follows the death of the thread that forked; the Go runtime
// keeps its threads for the process's life (only a goroutine that exits
// while locked to its thread ends one, and StartPinned unlocks).
func serverProcAttr(stop syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: stop}
}
