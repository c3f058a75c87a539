//go:build unix

package pgtest

import (
	"errors"
	"os"
	"os/exec"
	osuser "os/user"
	"strconv"
	"syscall"
)

// user is who runs the server: PostgreSQL refuses to run as root, so a
// root test process runs it as postgres (or nobody) instead.
type user struct {
	name     string
	uid, gid int
	set      bool
}

func runAs() (user, error) {
	if os.Geteuid() != 0 {
		return user{}, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := osuser.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 == nil && err2 == nil {
			return user{name: name, uid: uid, gid: gid, set: true}, nil
		}
	}
	return user{}, errors.New("running as root, and PostgreSQL refuses root: no postgres or nobody user to run it as")
}

// own gives dir to the user.
func (u user) own(dir string) error {
	if !u.set {
		return nil
	}
	return os.Chown(dir, u.uid, u.gid)
}

// apply makes cmd run as the user, and quit with the test process.
func (u user) apply(cmd *exec.Cmd) {
	attr := &syscall.SysProcAttr{}
	if u.set {
		attr.Credential = &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)}
	}
	dieWithParent(attr)
	cmd.SysProcAttr = attr
}

func (u user) String() string {
	if !u.set {
		return ""
	}
	return " (as user " + u.name + ")"
}
