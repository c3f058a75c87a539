package badger

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// logSync makes every commit Badger has applied durable, for groupSync.
// It syncs the write-ahead log of every memtable (the active one and those
// still waiting to be flushed into a table) and the value log files
// written since its last sync. Badger's own DB.Sync is not enough: it
// syncs the active memtable's log only, so a commit whose memtable was
// rotated out before the sync stayed in the page cache until the flush,
// and it holds the DB's lock while it syncs, which stops every write (and
// every read that waits behind a write) for the length of an fsync.
type logSync struct {
	mu  sync.Mutex
	dir string
	// vlogFrom is the newest value log file at the last sync: Badger
	// appends to the newest only, so older ones hold nothing unsynced.
	vlogFrom int
	datasync func(*os.File) error
}

func newLogSync(dir string) *logSync { return &logSync{dir: dir, datasync: datasync} }

// sync syncs the logs.
func (l *logSync) sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	var files []string
	newest := l.vlogFrom
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".mem"):
			files = append(files, name)
		case strings.HasSuffix(name, ".vlog"):
			fid, err := strconv.Atoi(strings.TrimSuffix(name, ".vlog"))
			if err != nil || fid < l.vlogFrom {
				continue
			}
			files = append(files, name)
			newest = max(newest, fid)
		}
	}
	for _, name := range files {
		if err := l.syncFile(filepath.Join(l.dir, name)); err != nil {
			return err
		}
	}
	l.vlogFrom = newest
	return nil
}

// syncFile syncs one log file's data. A memtable log deleted meanwhile
// was flushed into a table, which Badger syncs itself.
func (l *logSync) syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = l.datasync(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
