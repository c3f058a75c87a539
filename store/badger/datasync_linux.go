package badger

import (
	"os"
	"syscall"
)

// datasync writes a file's data to stable storage, as Badger's msync of a
// mapped log does, without the metadata an fsync adds (the logs are
// allocated whole, so their size does not change).
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
