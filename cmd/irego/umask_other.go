//go:build !unix

package main

// privateFiles: there is no umask here.
func privateFiles() {}
