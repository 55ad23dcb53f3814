package builtin

import "syscall"

// childProcAttr puts the child in its own process group and sends it
// SIGKILL at the parent's death: the child holds nothing to clean up. The
// signal follows the death of the thread that forked; the Go runtime keeps
// its threads for the process's life.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
