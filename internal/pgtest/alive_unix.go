//go:build unix

package pgtest

import "syscall"

// alive says whether a process with pid exists (signal 0 checks it).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
