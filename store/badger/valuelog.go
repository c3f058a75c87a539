package badger

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
)

// Values of valueThreshold bytes or more (CI records, change events, last
// reports) live in the value log and the LSM tree holds pointers to them,
// so compactions, which rewrite the tree again and again as it grows, move
// keys and pointers instead of whole values. Loading 1M CIs took 76 s with
// the threshold at 1 KiB and 50 s at 128 bytes; ingesting into that store
// went from 0.58 to 0.72 of the rate into a store of 10k (README,
// Performance).
const valueThreshold = 128

// A value overwritten or deleted leaves its old copy in the value log.
// Every gcEvery the store rewrites the live values of the value log files
// that are at least gcDiscardRatio garbage into the newest one and deletes
// them, at most gcFilesPerRound files a round; after a round that found
// such files the next comes after gcAgain, since more are likely.
const (
	gcEvery         = time.Minute
	gcAgain         = 10 * time.Second
	gcDiscardRatio  = 0.5
	gcFilesPerRound = 16
)

// valueLogGC runs the value log's garbage collection in the background.
type valueLogGC struct {
	stop     chan struct{}
	stopOnce sync.Once
	done     sync.WaitGroup
	// rewritten counts the files rewritten and deleted; failed the rounds
	// that ended in an error (the next round tries again).
	rewritten, failed atomic.Int64
	// observe, when set, learns every round that rewrote files or failed.
	observe atomic.Pointer[func(files int, err error)]
}

// startValueLogGC starts the background collection of a writable store
// on disk.
func (d *DB) startValueLogGC() {
	d.gc = &valueLogGC{stop: make(chan struct{})}
	d.gc.done.Go(func() {
		next := time.NewTimer(gcEvery)
		defer next.Stop()
		for {
			select {
			case <-d.gc.stop:
				return
			case <-next.C:
				n, _ := d.collectValueLog()
				wait := gcEvery
				if n > 0 {
					wait = gcAgain
				}
				next.Reset(wait)
			}
		}
	})
}

// stopValueLogGC stops the collection and waits for a round under way;
// it may be called again.
func (d *DB) stopValueLogGC() {
	if d.gc != nil {
		d.gc.stopOnce.Do(func() { close(d.gc.stop) })
		d.gc.done.Wait()
	}
}

// collectValueLog runs one round of the value log's collection, notes it
// for ValueLogGC and the observer, and says how many files it rewrote.
func (d *DB) collectValueLog() (int, error) {
	n, err := d.rewriteValueLog()
	d.gc.rewritten.Add(int64(n))
	if err != nil {
		d.gc.failed.Add(1)
	}
	if fn := d.gc.observe.Load(); fn != nil && (n > 0 || err != nil) {
		(*fn)(n, err)
	}
	return n, err
}

// rewriteValueLog rewrites the files of one round. Badger deletes a
// rewritten file at once unless an iterator is open, then when the last
// one closes; the round holds one open until the moved values are synced,
// so a power loss never finds a file deleted whose values were only in the
// page cache. Should the sync fail, the iterator stays open and no file
// is deleted while the process runs (they are plain value log files to the
// next open).
//
// Badger's rewrite of a file reads the newest version in the active
// memtable without the lock its writer holds. A stale, lower version only
// keeps more tombstones through the rewrite, so the race is harmless; the
// race detector reports it (TestValueLogGCBesideWriters).
func (d *DB) rewriteValueLog() (int, error) {
	txn := d.db.NewTransaction(false)
	it := txn.NewIterator(bdg.IteratorOptions{})
	n := 0
	var failed error
	for n < gcFilesPerRound {
		// A rewrite writes the value log through its memory map: on a
		// full disk it would crash the process (space.go).
		if err := d.space.check(); err != nil {
			break
		}
		err := d.db.RunValueLogGC(gcDiscardRatio)
		if errors.Is(err, bdg.ErrNoRewrite) || errors.Is(err, bdg.ErrRejected) {
			break
		}
		if err != nil {
			failed = err
			break
		}
		n++
	}
	if n > 0 {
		if err := d.logs.sync(); err != nil {
			return n, err
		}
	}
	it.Close()
	txn.Discard()
	return n, failed
}

// ObserveValueLogGC makes fn learn every round of the value log's
// collection that rewrote files (how many) or failed (why). It does nothing
// on a store in memory or opened read-only, which collect nothing.
func (d *DB) ObserveValueLogGC(fn func(files int, err error)) {
	if d.gc != nil {
		d.gc.observe.Store(&fn)
	}
}

// ValueLogGC reports the value log files the background collection
// rewrote and deleted, and the rounds that failed, since the store opened.
func (d *DB) ValueLogGC() (rewritten, failed int64) {
	if d.gc == nil {
		return 0, 0
	}
	return d.gc.rewritten.Load(), d.gc.failed.Load()
}
