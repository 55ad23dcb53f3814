//go:build !linux

package builtin

import "syscall"

// childProcAttr puts the child in its own process group. There is no
// parent-death signal here; the child ends when its stdin closes, which
// the parent's death does too.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
