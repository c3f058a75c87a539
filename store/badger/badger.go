// Package badger is the embedded default store: store.Store on Badger v4.
package badger

import (
	"errors"
	"io"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/irego/irego/store"
)

// Options open a Badger store.
type Options struct {
	// Dir is the directory holding the data; ignored when InMemory.
	Dir string
	// InMemory keeps everything in memory (tests).
	InMemory bool
	// SyncWrites makes every commit wait until it is on stable storage;
	// concurrent commits share one fsync.
	SyncWrites bool
}

// DB is a store.Store backed by Badger. Safe for concurrent use.
type DB struct {
	db *bdg.DB
	// durable, when set, makes every commit wait until it is synced.
	durable *groupSync
}

// Open opens (creating if needed) the store at opts.Dir.
func Open(opts Options) (*DB, error) {
	bo := bdg.DefaultOptions(opts.Dir).
		WithLogger(nil).
		// Durability comes from group syncs after commit (see groupSync),
		// not from Badger syncing every transaction on its own.
		WithSyncWrites(false).
		// Small values live in the LSM tree: identity keys and CI records
		// are read far more often than they are large.
		WithValueThreshold(1 << 10).
		WithNumVersionsToKeep(1).
		// Fewer, smaller memtables and a modest block cache keep memory
		// down. Table indexes and bloom filters stay in memory (about a
		// byte or two per key): a cache for them made every identity miss
		// reload them, and ingest into a 1M-CI store 30% slower.
		WithMemTableSize(32 << 20).
		WithNumMemtables(3).
		WithBlockCacheSize(64 << 20).
		// Uncompressed tables: building a compressed L0 table held about
		// 200 MiB of buffers per memtable flush (peak anonymous memory while
		// loading 1M CIs 1.6 GiB → 0.9 GiB); the disk holds about twice as
		// much instead. Two compactors on equal-sized tables keep
		// compaction from crowding ingestion on small machines.
		WithCompression(options.None).
		WithNumCompactors(2)
	bo.TableSizeMultiplier = 1
	if opts.InMemory {
		// There is no value log in memory: every value stays in the tree.
		bo = bo.WithInMemory(true).WithDir("").WithValueDir("").WithValueThreshold(1 << 20)
	}
	db, err := bdg.Open(bo)
	if err != nil {
		return nil, err
	}
	d := &DB{db: db}
	if opts.SyncWrites && !opts.InMemory {
		d.durable = newGroupSync(db.Sync)
	}
	return d, nil
}

// ObserveSyncs makes fn learn every group sync of a store opened with
// SyncWrites: how many commits it made durable and how long the fsync
// took. It does nothing on a store that does not sync.
func (d *DB) ObserveSyncs(fn func(commits int, took time.Duration)) {
	if d.durable != nil {
		d.durable.observe.Store(&fn)
	}
}

// Badger exposes the underlying database (backup, GC).
func (d *DB) Badger() *bdg.DB { return d.db }

func (d *DB) View(fn func(store.Reader) error) error {
	return mapErr(d.db.View(func(t *bdg.Txn) error { return fn(reader{t}) }))
}

func (d *DB) NewTxn() store.Txn {
	if d.db.IsClosed() {
		return closedTxn{}
	}
	return &txn{reader{d.db.NewTransaction(true)}, d.durable}
}

func (d *DB) Sync() error { return d.db.Sync() }

func (d *DB) Close() error { return d.db.Close() }

type reader struct{ t *bdg.Txn }

func (r reader) Get(key []byte) ([]byte, error) {
	item, err := r.t.Get(key)
	if err != nil {
		return nil, mapErr(err)
	}
	return item.ValueCopy(nil)
}

func (r reader) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	it := r.t.NewIterator(bdg.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		var err error
		if verr := item.Value(func(v []byte) error { err = fn(item.Key(), v); return nil }); verr != nil {
			return mapErr(verr)
		}
		if errors.Is(err, store.ErrStop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type txn struct {
	reader
	durable *groupSync
}

func (t *txn) Set(key, value []byte) error { return mapErr(t.t.Set(key, value)) }
func (t *txn) Delete(key []byte) error     { return mapErr(t.t.Delete(key)) }
func (t *txn) Discard()                    { t.t.Discard() }

// Commit commits and, when the store is durable, returns only once the
// transaction is on stable storage.
func (t *txn) Commit() error {
	if err := t.t.Commit(); err != nil {
		return mapErr(err)
	}
	if t.durable != nil {
		return t.durable.wait()
	}
	return nil
}

// closedTxn is a transaction on a closed store: Badger's own would fail
// with errors of its own, or touch freed memory.
type closedTxn struct{}

func (closedTxn) Get([]byte) ([]byte, error)                          { return nil, store.ErrClosed }
func (closedTxn) Iterate([]byte, func(key, value []byte) error) error { return store.ErrClosed }
func (closedTxn) Set(_, _ []byte) error                               { return store.ErrClosed }
func (closedTxn) Delete([]byte) error                                 { return store.ErrClosed }
func (closedTxn) Commit() error                                       { return store.ErrClosed }
func (closedTxn) Discard()                                            {}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bdg.ErrKeyNotFound):
		return store.ErrNotFound
	case errors.Is(err, bdg.ErrConflict):
		return store.ErrConflict
	case errors.Is(err, bdg.ErrTxnTooBig):
		return store.ErrTxnTooBig
	case errors.Is(err, bdg.ErrDBClosed):
		return store.ErrClosed
	}
	return err
}

// Backup writes a full backup of the store to w in Badger's own backup
// format. It runs on a consistent snapshot while writes go on.
func (d *DB) Backup(w io.Writer) error {
	_, err := d.db.Backup(w, 0)
	return err
}

// Restore loads a backup made by Backup. Load it into an empty store.
func (d *DB) Restore(r io.Reader) error {
	return d.db.Load(r, 256)
}
