//go:build !unix

package pgtest

import "os/exec"

// user is who runs the server: the test process's own user here.
type user struct{}

func runAs() (user, error)    { return user{}, nil }
func (user) own(string) error { return nil }
func (user) apply(*exec.Cmd)  {}
func (user) String() string   { return "" }
