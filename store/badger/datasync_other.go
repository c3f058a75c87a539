//go:build !linux

package badger

import "os"

// datasync writes a file to stable storage.
func datasync(f *os.File) error { return f.Sync() }
