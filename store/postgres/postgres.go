package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/irego/irego/store"
)

// DefaultTable is the table Open uses when Options.Table is empty.
const DefaultTable = "irego_kv"

// Options open a PostgreSQL store.
type Options struct {
	// Table holds the keys and values; "" means DefaultTable. Several irego
	// stores can share one database under different table names.
	Table string
	// SyncWrites makes every commit wait until the server has it on stable
	// storage (synchronous_commit=on), whatever the server's default. When
	// false, the server's setting applies, or the connection string's
	// (…?synchronous_commit=off trades the last moments before a crash for
	// faster commits, as Badger does without SyncWrites).
	SyncWrites bool
}

// DB is a store.Store on a PostgreSQL-wire database. Safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
	sql  statements
	// txnSlots admits at most one transaction fewer than the pool has
	// connections, so a View opened while a transaction holds its
	// connection (the engine does so) always finds one.
	txnSlots chan struct{}
	closed   atomic.Bool
	sizes    txnSizes
	analyzer *analyzer
}

// txnSizes are the sizes of the last write transaction's maps of writes
// and reads: the next one makes its maps that large, since growing a map
// of thousands of keys rehashes it again and again (a batch of 100 BYOL
// chains writes about 4,000 keys).
type txnSizes struct{ writes, reads atomic.Int64 }

func (s *txnSizes) keep(writes, reads int) {
	s.writes.Store(int64(min(writes, maxKeptSize)))
	s.reads.Store(int64(min(reads, maxKeptSize)))
}

// maxKeptSize bounds the size a transaction's maps are made at.
const maxKeptSize = 1 << 15

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string; pgxpool's pool_max_conns and friends
// apply) and creates the table on first use.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if _, set := cfg.ConnConfig.RuntimeParams["synchronous_commit"]; opts.SyncWrites && !set {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	d, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// New makes a store over a pool the caller configured (TLS, tracing, …)
// and creates the table on first use. Once New succeeds the store owns
// the pool: Close closes it. opts.SyncWrites is not applied; set
// synchronous_commit in the pool's configuration instead.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*DB, error) {
	table := opts.Table
	if table == "" {
		table = DefaultTable
	}
	if !tableName.MatchString(table) || table == schemaTable {
		return nil, fmt.Errorf("postgres: table name %q: want lowercase letters, digits and _, not starting with a digit, and not %s", table, schemaTable)
	}
	if err := migrate(ctx, pool, table); err != nil {
		return nil, err
	}
	slots := max(1, int(pool.Config().MaxConns)-1)
	return &DB{pool: pool, sql: statementsFor(table), txnSlots: make(chan struct{}, slots), analyzer: newAnalyzer()}, nil
}

// View runs fn in a REPEATABLE READ READ ONLY snapshot.
func (d *DB) View(fn func(store.Reader) error) error {
	if d.closed.Load() {
		return store.ErrClosed
	}
	t := &txn{db: d, begin: beginSnapshot, view: true}
	defer t.Discard()
	return fn(snapshot{t})
}

// NewTxn starts a SERIALIZABLE transaction; it begins on the server with
// its first read.
func (d *DB) NewTxn() store.Txn { return &txn{db: d, begin: beginSerializable} }

// Shared reports true: many processes may use one database at once.
func (d *DB) Shared() bool { return true }

// Sync returns at once: a committed transaction is as durable as the
// server's synchronous_commit makes it, and the server flushes the rest of
// its log within moments on its own.
func (d *DB) Sync() error {
	if d.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// Close closes the pool, waiting for transactions that hold a connection to
// end. It is safe to call more than once.
func (d *DB) Close() error {
	if !d.closed.Swap(true) {
		d.analyzer.stop()
		d.pool.Close()
	}
	return nil
}

// Pool exposes the connection pool (statistics, administration).
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// acquire takes a connection for a View, or for a transaction (slot), in
// which case it first waits for a transaction slot; release gives both back.
func (d *DB) acquire(ctx context.Context, slot bool) (*pgxpool.Conn, error) {
	if d.closed.Load() {
		return nil, store.ErrClosed
	}
	if slot {
		d.txnSlots <- struct{}{}
	}
	c, err := d.pool.Acquire(ctx)
	if err != nil {
		if slot {
			<-d.txnSlots
		}
		if d.closed.Load() {
			return nil, store.ErrClosed
		}
		return nil, err
	}
	useByteaArrayCodec(c.Conn().TypeMap())
	return c, nil
}

func (d *DB) release(c *pgxpool.Conn, slot bool) {
	c.Release()
	if slot {
		<-d.txnSlots
	}
}

// Conflicts: serialization failures, deadlocks, and a unique violation,
// which only the INSERT of keys the transaction held to be absent can
// raise (another transaction made one meanwhile); the transaction must be
// redone from its start.
const (
	sqlstateSerializationFailure = "40001"
	sqlstateDeadlockDetected     = "40P01"
	sqlstateUniqueViolation      = "23505"
)

// sqlstateDiskFull is the server's disk full: the write is refused (and
// rolled back), reads go on, as with Badger's store.ErrNoSpace.
const sqlstateDiskFull = "53100"

// mapErr maps the server's conflict errors onto store.ErrConflict and its
// full disk onto store.ErrNoSpace, keeping the server's message.
func mapErr(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && (pg.Code == sqlstateSerializationFailure || pg.Code == sqlstateDeadlockDetected || pg.Code == sqlstateUniqueViolation) {
		return fmt.Errorf("%w: %s (SQLSTATE %s)", store.ErrConflict, pg.Message, pg.Code)
	}
	if errors.As(err, &pg) && pg.Code == sqlstateDiskFull {
		return fmt.Errorf("%w: the PostgreSQL server's disk is full: %s (SQLSTATE %s)", store.ErrNoSpace, pg.Message, pg.Code)
	}
	if err != nil && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("postgres: %w", err)
	}
	return err
}
