package pgtest

import "syscall"

// dieWithParent has the kernel tell the server to shut down at once
// (SIGQUIT) if the test process dies before stopping it, e.g. at a test
// timeout, so no server outlives its tests.
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGQUIT }
