//go:build !linux

package managed

import "syscall"

// serverProcAttr puts a server in its own process group (see the Linux
// version). There is no parent-death signal here: a server outlives a
// harness killed outright (SIGKILL, a crash); Close, an interrupt and a
// panic still stop it, and the next mtlsbench sweeps its directory.
func serverProcAttr(stop syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
