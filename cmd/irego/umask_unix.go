//go:build unix

package main

import "syscall"

// privateFiles makes every file irego creates from now on its owner's
// alone: the store's tables and logs, backups. Badger creates its files
// 0666 less the umask.
func privateFiles() { syscall.Umask(0o077) }
