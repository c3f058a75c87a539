package badger

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/irego/irego/store"
)

// Badger writes its logs and tables through memory mappings of files it
// sizes in advance without allocating them. On a full disk a write to such
// a mapping cannot fail with an error: the kernel kills the process
// (SIGBUS). So the store refuses commits (store.ErrNoSpace) while the disk
// has less free space than Badger may touch without asking: the unwritten
// rest of the current write-ahead log and value log, the next of each, the
// memtables waiting to be flushed and a compaction. Reads need no space and
// go on; commits succeed again once space is freed.

// minFree is the free space commits need, from Badger's sizes.
func minFree(memTable, vlogFile int64) uint64 {
	// Both kinds of log file are mapped at twice their nominal size: the
	// write-ahead log at twice the memtable's, the value log at twice its
	// file size. Flushes write memtable-sized tables; a compaction rewrites
	// a few before it deletes their inputs.
	return uint64(2*(2*memTable) + 2*(2*vlogFile) + 3*memTable + 4*memTable)
}

// spaceGuard checks the free space of the store's disk before commits.
type spaceGuard struct {
	dir  string
	need uint64
	// free returns the bytes available to the process on dir's disk;
	// ok is false where that cannot be told (then commits go ahead).
	free func(dir string) (n uint64, ok bool)
}

func (g *spaceGuard) check() error {
	if g == nil {
		return nil
	}
	n, ok := g.free(g.dir)
	if !ok || n >= g.need {
		return nil
	}
	return fmt.Errorf("%w: %s has %s free and writes need %s (for the store's logs, flushes and compactions); free some space and writes go on, reads are not affected",
		store.ErrNoSpace, g.dir, size(n), size(g.need))
}

func size(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// isNoSpace reports the operating system's "no space left on device".
func isNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }
