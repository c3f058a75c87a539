package store

import (
	"errors"
	"fmt"
	"io"
)

// Sentinel errors. Backends map their own errors onto these so callers can
// branch with errors.Is whatever the backend.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("store: key not found")
	// ErrConflict: committing would not be serializable with a concurrent
	// transaction (typically one changed what this one read); the caller
	// should redo its whole read-decide-write cycle.
	ErrConflict = errors.New("store: transaction conflict")
	// ErrTxnTooBig: the transaction holds more writes than the backend can
	// commit at once.
	ErrTxnTooBig = errors.New("store: transaction too big")
	// ErrKeyTooLong: a key is longer than MaxKeyLen. The error says how
	// long, never what the key holds.
	ErrKeyTooLong = errors.New("store: key too long")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store: closed")
	// ErrDamaged: the store's files are damaged (a checksum failed, a file
	// is missing or truncated); the message names the file. Restore from
	// a backup.
	ErrDamaged = errors.New("store: damaged")
	// ErrNoSpace: the disk holding the store is (nearly) full; the write
	// was refused and nothing of it was stored. Reads go on, and writes
	// succeed again once space is freed.
	ErrNoSpace = errors.New("store: not enough free disk space")
)

// Reader is a consistent read view.
type Reader interface {
	// Get returns a copy of the value stored at key, or ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Iterate calls fn for every key with the given prefix in ascending key
	// order, until fn returns an error (which Iterate returns; ErrStop ends
	// the walk without an error). key and value are only valid during the call.
	Iterate(prefix []byte, fn func(key, value []byte) error) error
	// IterateFrom is Iterate starting at the first key ≥ start: it seeks
	// there instead of walking the keys before it, so that a page deep in
	// a long prefix costs what the page holds.
	IterateFrom(prefix, start []byte, fn func(key, value []byte) error) error
}

// ReverseReader is a Reader that can also walk keys in descending order
// (Badger's); callers check for it and do without.
type ReverseReader interface {
	// IterateReverse calls fn for every key with the given prefix that is
	// below before (every one when before is nil), in descending key
	// order, until fn returns an error, as Iterate does.
	IterateReverse(prefix, before []byte, fn func(key, value []byte) error) error
}

// ErrStop, returned by an Iterate callback, stops the walk early without error.
var ErrStop = errors.New("store: stop iteration")

// Txn is a read-write transaction. Reads see the transaction's own writes.
// Discard is always safe to defer, also after Commit. A Txn belongs to one
// goroutine.
type Txn interface {
	Reader
	// Set and Delete may keep key and value until the transaction ends:
	// do not modify them before.
	Set(key, value []byte) error
	Delete(key []byte) error
	// Commit makes every write visible atomically, or none of them. It
	// returns ErrConflict when the transaction cannot be serialized with
	// the concurrent ones: at least when a concurrent commit changed a key
	// this transaction read and then wrote. A backend may report conflicts
	// more coarsely than by key (Badger: any key read that a concurrent
	// commit changed; PostgreSQL: predicate locks on index pages), and may
	// report them from a read or a write as well as from Commit.
	Commit() error
	Discard()
}

// NumberedTxn is a Txn that can number its commit with the change event
// sequence (store.EventSeqKey) without reading the counter inside the
// transaction, so writers that number events do not conflict over it.
type NumberedTxn interface {
	Txn
	// CommitNumbered commits like Commit, after calling fill with the first
	// of n consecutive numbers for fill to write the keys that carry them;
	// the counter then holds the last. Numbers follow commit order: a
	// reader that sees a number sees every committed number below it.
	// Numbers of a commit that fails are skipped, never handed out again.
	CommitNumbered(n uint64, fill func(first uint64) error) error
}

// VisibleTxn is a Txn of a store that syncs commits to stable storage
// after they become visible (Badger with SyncWrites: commits share one
// fsync). OnVisible registers fn to run in Commit once the commit is
// visible to new transactions and before Commit waits for the sync, so a
// caller can let go of what serializes its writes while the sync runs.
// fn does not run when the commit fails.
type VisibleTxn interface {
	Txn
	OnVisible(fn func())
}

// OnVisible registers fn with txn when it is a VisibleTxn and reports
// whether it did; otherwise the commit is visible when Commit returns.
func OnVisible(txn Txn, fn func()) bool {
	if v, ok := txn.(VisibleTxn); ok {
		v.OnVisible(fn)
		return true
	}
	return false
}

// Store is a transactional, ordered key-value store.
type Store interface {
	// View runs fn in a read-only snapshot.
	View(fn func(Reader) error) error
	// NewTxn starts a read-write transaction.
	NewTxn() Txn
	// Sync forces written data to stable storage.
	Sync() error
	Close() error
}

// Backuper is a store that can write a consistent online backup of itself
// and load one back.
type Backuper interface {
	Backup(w io.Writer) error
	Restore(r io.Reader) error
}

// MaxKeyLen bounds a key in every store (Badger refuses longer ones).
const MaxKeyLen = 65000

// MaxKeyText bounds one piece of text that callers put into a key (an
// identifying value, a name, an id), so that a key made of several stays
// under MaxKeyLen. Callers refuse longer text, naming it.
const MaxKeyText = 4096

// KeyTooLong returns an error wrapping ErrKeyTooLong when key is over
// MaxKeyLen, else nil.
func KeyTooLong(key []byte) error {
	if len(key) <= MaxKeyLen {
		return nil
	}
	return fmt.Errorf("%w: %d bytes, over the limit of %d", ErrKeyTooLong, len(key), MaxKeyLen)
}

// Sharer is a store that several processes may open at the same time
// (PostgreSQL); a Badger directory belongs to one process at a time. The
// engine coordinates rule changes across the processes of a shared store.
type Sharer interface {
	Shared() bool
}

// IsShared says whether st may be open in other processes too.
func IsShared(st Store) bool {
	s, ok := st.(Sharer)
	return ok && s.Shared()
}

// Prefetcher is a transaction that can read many keys in one go: a store
// whose every read is a round trip to a server (PostgreSQL) reads the
// keys ahead so that the Gets that follow are answered from memory. The
// result is only a hint: a later Get of a prefetched key returns what
// the transaction sees then, its own writes included.
type Prefetcher interface {
	Prefetch(keys [][]byte) error
}

// HolderPrefetcher is a Prefetcher that can also read, in the same go,
// the record of the CI that each identity guard among the keys names as its
// only holder: identification reads a guard, then that CI, so a read-ahead
// round needs one round trip instead of two (PostgreSQL).
type HolderPrefetcher interface {
	PrefetchWithHolders(keys [][]byte) error
}

// ChainPrefetcher is a HolderPrefetcher that can also follow identity
// guards it finds to keys under their holders: identification finds a CI,
// then the identities scoped under it (a datacenter under its account, a
// host under the datacenter, …), a read-ahead round a level, and the store
// can take every level of a chain in one round trip (PostgreSQL).
type ChainPrefetcher interface {
	HolderPrefetcher
	// PrefetchChain is PrefetchWithHolders of keys and, for each link, of
	// the key under the only holder of its guard (when it has one): nodes
	// 0 to len(keys)-1 are the keys, node len(keys)+i is links[i], and a
	// link's guard is an earlier node. It returns the key each link read,
	// nil for one not followed (its guard absent, not read here, or held
	// by none or several CIs).
	PrefetchChain(keys [][]byte, links []Link) ([][]byte, error)
}

// Link is a key under the CI an identity guard names: Prefix, the sys_id
// of the guard's only holder, Suffix (an identity scoped by that CI is
// IdentityKey(entry, sys_id, values)).
type Link struct {
	Guard          int
	Prefix, Suffix []byte
}

// AbsenceNoter is a transaction that can be told a key no committed
// transaction holds, so that reading it needs no round trip (PostgreSQL)
// and no search of the memtables and levels (Badger): a key scoped under a
// CI the transaction itself creates, whose fresh sys_id no other
// transaction knows. Its own writes of the key still count.
type AbsenceNoter interface {
	NoteAbsent(key []byte)
}

// PrivateWriter is a transaction that can be told a write no other
// transaction can make or read: a key under a CI the transaction itself
// creates (KeyUnder), whose fresh sys_id no other transaction knows. It
// may send such writes to the store before the commit, while the caller
// goes on (PostgreSQL), since no other transaction waits for them or
// conflicts with them. They are the transaction's like any other: seen by
// its reads, undone if it does not commit.
type PrivateWriter interface {
	SetPrivate(key, value []byte) error
}

// NewWriter is a transaction that can be told a write of a key it holds
// to be absent (a change event numbered from the counter it read): the
// store may insert it without looking for a row to replace (PostgreSQL).
// Should a committed transaction hold the key when this one commits, the
// commit fails with ErrConflict.
type NewWriter interface {
	SetNew(key, value []byte) error
}

// CountAdder is a transaction that can add to counts without reading them:
// a count is eight bytes, a big-endian signed integer, and a count that
// reaches zero or below is deleted. A store whose every read is a round
// trip (PostgreSQL) adds them on the server when the transaction commits,
// which saves reading them first; reads of such a key in the transaction
// see the sum. Two transactions that add to one count conflict, as when
// they read and rewrite it.
type CountAdder interface {
	AddCounts(keys [][]byte, deltas []int64) error
}
