// Package postgres is store.Store on the PostgreSQL wire protocol, for
// users who outgrow one machine: several irego processes on several
// machines share one database. It speaks to PostgreSQL through a pgx
// connection pool and uses nothing beyond SERIALIZABLE transactions, a
// bytea primary key, INSERT … ON CONFLICT and a few standard functions
// (encode, decode, lpad, to_hex and a bit(64) cast, to add to counts), so
// CockroachDB and YugabyteDB are expected to work unchanged.
//
// # Basics
//
// All keys and values live in one table (by default irego_kv: key bytea
// primary key, value bytea); prefix iteration is a range scan over the
// primary key. Open creates the table on first use and records its layout
// version in irego_schema, refusing a table written by a newer layout.
//
// A Txn is a SERIALIZABLE transaction that buffers its writes: Set and
// Delete touch only memory, reads of a buffered key are answered from the
// buffer, Iterate merges the buffer into the scan, and Commit sends every
// write and the COMMIT in one round trip; writes the caller marks as no
// other transaction's to make (store.PrivateWriter) go ahead, a few
// hundred at a time, while the caller goes on. The transaction begins on the
// server with its first read, in the same round trip as that read, and
// remembers what it read, so reading a key again costs no round trip.
// Counts (store.CountAdder) are added by the commit without being read. A
// serialization failure (SQLSTATE 40001), a deadlock (40P01) or a key
// inserted as new that exists (23505, store.NewWriter), from any
// statement or from COMMIT, is reported as store.ErrConflict, so the engine
// redoes the payload exactly as it does after a Badger conflict. The
// server's full disk (disk_full, 53100) is store.ErrNoSpace, as Badger's
// is: the write is refused whole, reads go on. View runs in a REPEATABLE
// READ READ ONLY snapshot.
//
// # Caveats
//
// PostgreSQL detects conflicts by predicate locks that may cover more than
// the keys read (a B-tree page, or the whole table once a transaction holds
// more locks than max_pred_locks_per_relation allows), so ErrConflict can
// be reported for transactions that touched different keys. That is safe
// (the engine retries) but costs throughput; see the README for the server
// settings that keep it rare.
//
// A DB is safe for concurrent use; a Txn, like a Badger one, belongs to one
// goroutine. Every Txn holds a pooled connection from its first read until
// Commit or Discard. At most one transaction fewer than the pool has
// connections (pool_max_conns in the connection string; pgx's default is
// the number of CPUs, at least 4) holds one at a time, the others wait:
// a View opened while a transaction is open, as the engine does, always
// finds a connection. Values returned by Get are copies the caller owns;
// Set copies its arguments. A transaction's pending writes are bounded
// (64 MiB; beyond, Set returns store.ErrTxnTooBig).
package postgres
