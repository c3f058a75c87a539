package badger

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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
//
// The directory is read once; later syncs find new logs by their names
// (Badger numbers memtable logs and value logs upwards), because reading
// a directory of thousands of tables cost more than the fsync itself
// (2.6 ms for 2,500 files). Should Badger name its logs otherwise than
// expected, every sync reads the directory instead.
type logSync struct {
	mu  sync.Mutex
	dir string
	// listed says the directory was read and its logs' names are Badger's
	// usual ones, so later syncs probe names instead of reading it.
	listed bool
	// mems are the memtable logs known on disk; nextMem is the first
	// number not seen yet.
	mems    []int
	nextMem int
	// vlogFrom is the newest value log at the last sync: Badger appends
	// to the newest only, so older ones hold nothing unsynced.
	vlogFrom int
	datasync func(*os.File) error
}

// probeAhead is how many missing numbers a probe passes over before it
// stops: a memtable rotated in and flushed between two syncs leaves a gap.
const probeAhead = 8

func newLogSync(dir string) *logSync { return &logSync{dir: dir, datasync: datasync} }

func memName(fid int) string  { return fmt.Sprintf("%05d.mem", fid) }
func vlogName(fid int) string { return fmt.Sprintf("%06d.vlog", fid) }

// sync syncs the logs: the value logs first, then the memtable logs. A
// memtable log entry of a large value points into a value log (Badger
// writes the value first). Synced the other way, a crash between the two
// syncs left every commit since the last sync with a durable pointer to a
// lost value; now only a commit written during the sync itself can, and
// no commit is acknowledged before both syncs after it.
func (l *logSync) sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.listed {
		return l.list()
	}
	if _, err := l.syncFile(vlogName(l.vlogFrom)); err != nil {
		return err
	}
	next := l.vlogFrom + 1
	if err := l.probe(&next, vlogName, func(fid int) { l.vlogFrom = fid }); err != nil {
		return err
	}
	kept := l.mems[:0]
	for _, fid := range l.mems {
		found, err := l.syncFile(memName(fid))
		if err != nil {
			return err
		}
		if found {
			kept = append(kept, fid)
		}
	}
	l.mems = kept
	return l.probe(&l.nextMem, memName, func(fid int) { l.mems = append(l.mems, fid) })
}

// probe syncs the logs named from *next on, passing over up to probeAhead
// missing numbers, and moves *next past the last one found.
func (l *logSync) probe(next *int, name func(int) string, found func(int)) error {
	for fid, misses := *next, 0; misses < probeAhead; fid++ {
		ok, err := l.syncFile(name(fid))
		if err != nil {
			return err
		}
		if !ok {
			misses++
			continue
		}
		found(fid)
		*next, misses = fid+1, 0
	}
	return nil
}

// list reads the directory and syncs the value logs from vlogFrom on,
// then every memtable log; it notes whether their names allow probing.
func (l *logSync) list() error {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	usual := true
	var mems, vlogs []logFile
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".mem"):
			fid, err := strconv.Atoi(strings.TrimSuffix(name, ".mem"))
			usual = usual && err == nil && name == memName(fid)
			mems = append(mems, logFile{fid, name})
		case strings.HasSuffix(name, ".vlog"):
			fid, err := strconv.Atoi(strings.TrimSuffix(name, ".vlog"))
			usual = usual && err == nil && name == vlogName(fid)
			if err == nil && fid >= l.vlogFrom {
				vlogs = append(vlogs, logFile{fid, name})
			}
		}
	}
	slices.SortFunc(vlogs, byFid)
	for _, f := range vlogs {
		if _, err := l.syncFile(f.name); err != nil {
			return err
		}
		l.vlogFrom = f.fid
	}
	slices.SortFunc(mems, byFid)
	l.mems = l.mems[:0]
	for _, f := range mems {
		found, err := l.syncFile(f.name)
		if err != nil {
			return err
		}
		if found {
			l.mems = append(l.mems, f.fid)
		}
	}
	l.listed = usual
	l.nextMem = 0
	if len(l.mems) > 0 {
		l.nextMem = l.mems[len(l.mems)-1] + 1
	}
	return nil
}

// logFile is a log the directory holds, by number and name.
type logFile struct {
	fid  int
	name string
}

func byFid(a, b logFile) int { return cmp.Compare(a.fid, b.fid) }

// syncFile syncs one log file's data and says whether it was there. A
// memtable log deleted meanwhile was flushed into a table, which Badger
// syncs itself.
func (l *logSync) syncFile(name string) (bool, error) {
	f, err := os.OpenFile(filepath.Join(l.dir, name), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	err = l.datasync(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return true, err
}
