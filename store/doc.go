// Package store is irego's storage layer: a small transactional, ordered
// key-value interface (Store, Reader, Txn), the one file that lays out every
// key (keys.go), and the record codec (record.go). The Badger backend, the
// embedded default, lives in store/badger.
//
// # Basics
//
// Everything above this package speaks only Store. A CI, its identity index
// entries and its edges are written in one Txn, so they are never visible
// half-written. Txn.Commit fails with ErrConflict when a concurrent commit
// changed a key the transaction read; callers redo their whole
// read-decide-write cycle.
//
// # Caveats
//
// Keys and values passed to an Iterate callback are only valid during the
// call. Values returned by Get are copies the caller owns. The key layout is
// versioned (SchemaVersion under meta/schema); a store written by another
// layout version is refused rather than misread.
package store
