//go:build !unix

package pgtest

// alive cannot tell here: every owner is taken to be alive.
func alive(int) bool { return true }
