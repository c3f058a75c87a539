package badger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/y"

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
	// ReadOnly opens an existing store without changing a byte of it (no
	// log replay, no compaction); every write fails. Other read-only
	// opens may share the store, a writer may not.
	ReadOnly bool

	// Badger's sizes, smaller in tests; 0 means the defaults below.
	memTableSize, vlogFileSize int64
}

// Default sizes: a memtable (and so a write-ahead log and a level-0 table),
// and a value log file. The value log is mapped at twice its size, and
// that much free space is kept for it (see space.go): Badger's default of
// 1 GiB would keep 4 GiB free.
const (
	defaultMemTableSize = 32 << 20
	defaultVlogFileSize = 64 << 20
)

// DB is a store.Store backed by Badger. Safe for concurrent use.
type DB struct {
	db  *bdg.DB
	dir string
	log *readErrors
	// durable, when set, makes every commit wait until it is synced.
	durable *groupSync
	// logs syncs the logs for durable and for Sync.
	logs *logSync
	// space holds commits back while the disk is nearly full.
	space *spaceGuard
	// seq numbers change events in commit order (sequencer.go).
	seq sequencer
	// warnings are what Open found worth telling (Warnings).
	warnings []string
	// gc collects the value log's garbage (valuelog.go); nil in memory
	// and read-only.
	gc *valueLogGC
}

// Open opens (creating if needed) the store at opts.Dir. It refuses, and
// leaves untouched, a directory whose data files lost their MANIFEST or
// whose tables fail their checksums (store.ErrDamaged): Badger would
// delete the former and serve, or crash on, the latter.
func Open(opts Options) (db *DB, err error) {
	if !opts.InMemory {
		if err := checkBeforeOpen(opts.Dir); err != nil {
			return nil, err
		}
	}
	defer recoverDamage(opts.Dir, &err)
	if opts.memTableSize == 0 {
		opts.memTableSize = defaultMemTableSize
	}
	if opts.vlogFileSize == 0 {
		opts.vlogFileSize = defaultVlogFileSize
	}
	logger := &readErrors{}
	bo := badgerOptions(opts, logger)
	bdb, err := bdg.Open(bo)
	if errors.Is(err, bdg.ErrTruncateNeeded) || (err != nil && strings.Contains(err.Error(), bdg.ErrTruncateNeeded.Error())) {
		return nil, fmt.Errorf("store %s was not closed cleanly and a read-only open cannot replay its log: open it once with a command that writes (irego serve, or irego partials), which recovers it, then check again: %w", opts.Dir, err)
	}
	if err != nil {
		return nil, err
	}
	d := &DB{db: bdb, dir: opts.Dir, log: logger}
	if !opts.InMemory && !opts.ReadOnly {
		d.space = &spaceGuard{dir: opts.Dir, need: minFree(opts.memTableSize, opts.vlogFileSize), free: freeSpace}
		d.logs = newLogSync(opts.Dir)
	}
	if opts.SyncWrites && d.logs != nil {
		d.durable = newGroupSync(d.logs.sync)
	}
	if !opts.InMemory && !opts.ReadOnly {
		if d.warnings, err = secureFiles(opts.Dir); err != nil {
			bdb.Close()
			return nil, err
		}
		d.startValueLogGC()
	}
	return d, nil
}

// badgerOptions are the Badger options of a store opened with opts.
func badgerOptions(opts Options, logger bdg.Logger) bdg.Options {
	bo := bdg.DefaultOptions(opts.Dir).
		WithLogger(logger).
		// Durability comes from group syncs after commit (see groupSync),
		// not from Badger syncing every transaction on its own.
		WithSyncWrites(false).
		// Larger values live in the value log (valuelog.go).
		WithValueThreshold(valueThreshold).
		WithNumVersionsToKeep(1).
		// Fewer, smaller memtables and a modest block cache keep memory
		// down. No index cache: Badger reads the index and bloom filter of
		// an unencrypted table in place from the table's memory map (file
		// pages the kernel may evict, not anonymous memory), and consults
		// an index cache only for encrypted tables (TestIndexCacheUnused).
		WithMemTableSize(opts.memTableSize).
		WithValueLogFileSize(opts.vlogFileSize).
		WithNumMemtables(3).
		WithBlockCacheSize(64 << 20).
		// Uncompressed tables: building a compressed L0 table held about
		// 200 MiB of buffers per memtable flush (peak anonymous memory while
		// loading 1M CIs 1.6 GiB → 0.9 GiB); the disk holds about twice as
		// much instead. Two compactors on equal-sized tables keep
		// compaction from crowding ingestion on small machines.
		WithCompression(options.None).
		WithNumCompactors(2).
		// A damaged block or value is an error, not a wrong answer.
		// Tables were verified whole before the open (checkBeforeOpen).
		WithChecksumVerificationMode(options.OnBlockRead).
		WithVerifyValueChecksum(true).
		WithReadOnly(opts.ReadOnly)
	bo.TableSizeMultiplier = 1
	// CIs are keyed by random sys_ids, so every level-0 table overlaps the
	// whole base level, and each compaction of level 0 rewrites all of it.
	// Compacting ten tables at a time instead of five halves those
	// rewrites: on a store of 1M CIs, a minute of `irego bench --batch 100`
	// wrote 3.9 GB instead of 4.9 GB and ran 7% faster (README,
	// Performance). A read checks the bloom filters of a few more tables.
	bo.NumLevelZeroTables, bo.NumLevelZeroTablesStall = 10, 20
	if opts.InMemory {
		// There is no value log in memory: every value stays in the tree.
		bo = bo.WithInMemory(true).WithDir("").WithValueDir("").WithValueThreshold(1 << 20).WithMemTableSize(8 << 20)
	}
	return bo
}

// Warnings returns what Open found worth telling, such as a store
// directory that other users may read.
func (d *DB) Warnings() []string { return append([]string(nil), d.warnings...) }

// recoverDamage turns a panic in Badger, which it raises on some damaged
// files, into store.ErrDamaged naming the store, so a damaged store fails
// the call instead of the process.
func recoverDamage(dir string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: store %s: reading it failed (%s): run irego check; %s", store.ErrDamaged, dir, firstLine(r), recovery)
	}
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

// View runs fn in a read-only transaction.
func (d *DB) View(fn func(store.Reader) error) error {
	return mapErr(d.db.View(func(t *bdg.Txn) error { return fn(reader{t, d.dir, d.log}) }))
}

// NewTxn starts a read-write transaction; Discard is always safe after it.
func (d *DB) NewTxn() store.Txn {
	if d.db.IsClosed() {
		return closedTxn{}
	}
	return &txn{reader: reader{d.db.NewTransaction(true), d.dir, d.log}, durable: d.durable, space: d.space, seq: &d.seq, db: d.db}
}

// Sync makes every committed write durable.
func (d *DB) Sync() error {
	if d.logs == nil || d.db.IsClosed() {
		return d.db.Sync() // in memory, read-only or closed: Badger's answer
	}
	return d.logs.sync()
}

// Close closes the database; the DB must not be used after it.
func (d *DB) Close() error {
	d.stopValueLogGC()
	return d.db.Close()
}

type reader struct {
	t   *bdg.Txn
	dir string // for errors
	log *readErrors
}

func (r reader) Get(key []byte) (v []byte, err error) {
	defer recoverDamage(r.dir, &err)
	item, err := r.t.Get(key)
	if err != nil {
		return nil, damage(r.dir, err)
	}
	v, err = item.ValueCopy(nil)
	if err == nil && len(v) == 0 && item.ValueSize() > 0 {
		return nil, r.unreadable(key)
	}
	return v, damage(r.dir, err)
}

// unreadable is the error for a value Badger could not read: it logs why
// (a checksum mismatch in the value log, say) and hands back no value.
func (r reader) unreadable(key []byte) error {
	why := r.log.last()
	where := filepath.Join(r.dir, "*.vlog")
	if m := vlogFid.FindStringSubmatch(why); m != nil {
		fid, _ := strconv.Atoi(m[1])
		where = filepath.Join(r.dir, fmt.Sprintf("%06d.vlog", fid))
	}
	return fmt.Errorf("%w: %s: the value of key %q cannot be read (%s): %s", store.ErrDamaged, where, key, why, recovery)
}

func (r reader) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	return r.IterateFrom(prefix, prefix, fn)
}

func (r reader) IterateFrom(prefix, start []byte, fn func(key, value []byte) error) (err error) {
	// Panics in Badger are damage; a panic in fn is the caller's own.
	inFn := false
	defer func() {
		if inFn {
			return
		}
		recoverDamage(r.dir, &err)
	}()
	it := r.t.NewIterator(bdg.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	if bytes.Compare(start, prefix) < 0 {
		start = prefix
	}
	it.Seek(start)
	return r.walk(it, prefix, &inFn, fn)
}

// IterateReverse walks the keys with prefix below before (every one when
// before is nil) in descending order (store.ReverseReader).
func (r reader) IterateReverse(prefix, before []byte, fn func(key, value []byte) error) (err error) {
	inFn := false
	defer func() {
		if inFn {
			return
		}
		recoverDamage(r.dir, &err)
	}()
	end := before
	if end == nil || !bytes.HasPrefix(end, prefix) && bytes.Compare(end, prefix) > 0 {
		end = successor(prefix)
	}
	if end == nil || bytes.Compare(end, prefix) <= 0 {
		return nil
	}
	it := r.t.NewIterator(bdg.IteratorOptions{Prefix: prefix, PrefetchValues: false, Reverse: true})
	defer it.Close()
	// A reverse seek finds the last key at or below end, which may be end
	// itself, past the prefix: Valid says no to it, Item still has it.
	for it.Seek(end); it.Item() != nil && bytes.Compare(it.Item().Key(), end) >= 0; it.Next() {
	}
	return r.walk(it, prefix, &inFn, fn)
}

// walk calls fn with each item of it, from where it stands, while it is
// within prefix; inFn is set while fn runs, so that a panic there stays
// the caller's rather than being taken for damage.
func (r reader) walk(it *bdg.Iterator, prefix []byte, inFn *bool, fn func(key, value []byte) error) error {
	for ; it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		var err error
		verr := item.Value(func(v []byte) error {
			if len(v) == 0 && item.ValueSize() > 0 {
				err = r.unreadable(item.KeyCopy(nil))
				return nil
			}
			*inFn = true
			err = fn(item.Key(), v)
			*inFn = false
			return nil
		})
		if verr != nil {
			return damage(r.dir, verr)
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

// successor is the first key after every key with prefix; nil when there
// is none.
func successor(prefix []byte) []byte {
	s := bytes.Clone(prefix)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 0xff {
			s[i]++
			return s[:i+1]
		}
	}
	return nil
}

type txn struct {
	reader
	durable *groupSync
	space   *spaceGuard
	writes  bool // a commit with no writes needs no space
	seq     *sequencer
	db      *bdg.DB
	counter bool   // the transaction itself wrote or deleted the event counter
	visible func() // see OnVisible
	open    bool   // counted among the group sync's open writers
	absence
}

// OnVisible makes Commit run fn once the commit is visible, before it
// waits for the group sync (store.VisibleTxn).
func (t *txn) OnVisible(fn func()) { t.visible = fn }

// committed runs after a successful commit: it calls the OnVisible
// function, then waits for the sync when the store is durable.
func (t *txn) committed() error {
	if t.visible != nil {
		t.visible()
	}
	if t.durable != nil {
		return t.durable.wait()
	}
	return nil
}

// Keys are checked before Badger sees them: its own error dumps the key.
func (t *txn) Set(key, value []byte) error {
	if err := store.KeyTooLong(key); err != nil {
		return err
	}
	t.wrote()
	t.absence.noteWrite(key)
	t.counter = t.counter || bytes.Equal(key, store.EventSeqKey())
	return mapErr(t.t.Set(key, value))
}

func (t *txn) Delete(key []byte) error {
	if err := store.KeyTooLong(key); err != nil {
		return err
	}
	t.wrote()
	t.absence.noteWrite(key)
	t.counter = t.counter || bytes.Equal(key, store.EventSeqKey())
	return mapErr(t.t.Delete(key))
}

// wrote notes a write; the first counts the transaction among the open
// writers a group sync may wait for.
func (t *txn) wrote() {
	if !t.writes && t.durable != nil {
		t.durable.opened()
		t.open = true
	}
	t.writes = true
}

// done takes the transaction off the open writers.
func (t *txn) done() {
	if t.open {
		t.open = false
		t.durable.closed()
	}
}

func (t *txn) Discard() { t.done(); t.t.Discard() }

// Commit commits and, when the store is durable, returns only once the
// transaction is on stable storage.
func (t *txn) Commit() (err error) {
	defer recoverDamage(t.dir, &err)
	if t.writes {
		if err := t.space.check(); err != nil {
			return err
		}
	}
	err = t.t.Commit()
	t.done()
	if err != nil {
		return mapErr(err)
	}
	if t.counter {
		t.seq.reset() // set or emptied from outside the sequencer: go on from what it holds
	}
	return t.committed()
}

// closedTxn is a transaction on a closed store: Badger's own would fail
// with errors of its own, or touch freed memory.
type closedTxn struct{}

func (closedTxn) Get([]byte) ([]byte, error)                          { return nil, store.ErrClosed }
func (closedTxn) Iterate([]byte, func(key, value []byte) error) error { return store.ErrClosed }
func (closedTxn) IterateFrom(_, _ []byte, _ func(key, value []byte) error) error {
	return store.ErrClosed
}
func (closedTxn) Set(_, _ []byte) error { return store.ErrClosed }
func (closedTxn) Delete([]byte) error   { return store.ErrClosed }
func (closedTxn) Commit() error         { return store.ErrClosed }
func (closedTxn) Discard()              {}

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
	case isNoSpace(err):
		return fmt.Errorf("%w: %v", store.ErrNoSpace, err)
	case errors.Is(err, bdg.ErrReadOnlyTxn):
		return fmt.Errorf("store opened read-only: %w", err)
	}
	return err
}

// vlogFid finds the value log file in Badger's value pointers ({Fid:3 …}).
var vlogFid = regexp.MustCompile(`Fid:(\d+)`)

// damage maps err like mapErr, and a checksum mismatch in a table block or
// a value onto store.ErrDamaged naming the file where Badger says which.
func damage(dir string, err error) error {
	if err == nil || !(errors.Is(err, y.ErrChecksumMismatch) || strings.Contains(err.Error(), "checksum")) {
		return mapErr(err)
	}
	where := "store " + dir
	if m := vlogFid.FindStringSubmatch(err.Error()); m != nil {
		fid, _ := strconv.Atoi(m[1])
		where = filepath.Join(dir, fmt.Sprintf("%06d.vlog", fid))
	}
	return fmt.Errorf("%w: %s: %v: %s", store.ErrDamaged, where, err, recovery)
}

// Verify reads the whole store back: every table block's checksum and every
// value (whose checksum is verified as it is read). It returns the first
// damage found as store.ErrDamaged.
func (d *DB) Verify() (err error) {
	defer recoverDamage(d.dir, &err)
	if err := d.db.VerifyChecksum(); err != nil {
		return damage(d.dir, err)
	}
	return d.View(func(r store.Reader) error {
		return r.Iterate(nil, func(_, _ []byte) error { return nil })
	})
}

// Restore loads a backup made by Backup. Load it into an empty store.
func (d *DB) Restore(r io.Reader) (err error) {
	defer recoverDamage(d.dir, &err)
	defer d.seq.reset() // the restored counter is the one to go on from
	return restore(d.db, r)
}
