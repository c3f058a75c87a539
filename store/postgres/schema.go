package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// LayoutVersion is the version of the table layout this package writes,
// recorded per table in irego_schema. (The layout of the keys inside the
// table is store.SchemaVersion, recorded under meta/schema like on Badger.)
const LayoutVersion = 1

// schemaTable records the layout version of every irego table in the
// database.
const schemaTable = "irego_schema"

// migrate creates the table and records its layout version, or checks the
// version already recorded. Several processes may start at once on an
// empty database: each step is idempotent, and a step that loses a race on
// the catalog is simply tried again.
func migrate(ctx context.Context, pool *pgxpool.Pool, table string) error {
	var err error
	for attempt := range 5 {
		if err = migrateOnce(ctx, pool, table); err == nil || !lostDDLRace(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("postgres: preparing table %s: %w", table, err)
	}
	return nil
}

func migrateOnce(ctx context.Context, pool *pgxpool.Pool, table string) error {
	// No explicit transaction: distributed engines restrict mixing DDL and
	// writes in one, and every statement here may be repeated.
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+schemaTable+` (name text PRIMARY KEY, version integer NOT NULL)`); err != nil {
		return err
	}
	var version int
	err := pool.QueryRow(ctx, `SELECT version FROM `+schemaTable+` WHERE name = $1`, table).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		ident := pgx.Identifier{table}.Sanitize()
		if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+ident+` (key bytea PRIMARY KEY, value bytea NOT NULL)`); err != nil {
			return err
		}
		_, err := pool.Exec(ctx, `INSERT INTO `+schemaTable+` (name, version) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, table, LayoutVersion)
		return err
	case err != nil:
		return err
	case version != LayoutVersion:
		return fmt.Errorf("table layout version %d, this build reads %d", version, LayoutVersion)
	}
	return nil
}

// lostDDLRace tells the errors of two sessions creating the same table at
// once.
func lostDDLRace(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return false
	}
	switch pg.Code {
	case "23505", // unique_violation, on the catalog
		"42P07", // duplicate_table
		"42710", // duplicate_object (the table's row type)
		sqlstateSerializationFailure, sqlstateDeadlockDetected:
		return true
	}
	return false
}

// statements are the SQL texts of one table, built once.
type statements struct {
	table   string // the table's name, quoted
	get     string // value of one key
	getMany string // keys and values of the keys $1 (an array) that exist
	// getWithHolders is getMany with the record ($2 || holder) of the
	// only holder of each identity guard (key in [$3, $4)) among them.
	getWithHolders string
	// getChain is getWithHolders that also follows links (store.Link):
	// $2, $3 and $4 are their guards, prefixes and suffixes. It returns the
	// node each row answers (-1 for a holder's record) and whether its key
	// is present (a link's key may not be).
	getChain    string
	scanBounded string // a page of a prefix: key >= $1 AND key < $2, at most $3 rows
	scanOpen    string // a page of a prefix without an upper bound: key >= $1, at most $2 rows
	scanBack    string // a page backwards: key >= $1 AND key < $2, descending, at most $3 rows
	upsert      string // set keys $1 to values $2 (arrays of equal length)
	insert      string // insert keys $1, none of which exists, with values $2
	delete      string // delete keys $1
	addCounts   string // add $2 (int8) to the counts (8 bytes, big endian) at keys $1
	dropCounts  string // delete the counts at keys $1 that are zero or below
}

func statementsFor(table string) statements {
	t := pgx.Identifier{table}.Sanitize()
	return statements{
		table:   t,
		get:     `SELECT value FROM ` + t + ` WHERE key = $1`,
		getMany: `SELECT key, value FROM ` + t + ` WHERE key = ANY($1::bytea[])`,
		// A guard held by one CI is the byte 1 (the holder count as a
		// uvarint) and the holder's sys_id (store/identity.go).
		getWithHolders: `WITH found AS (SELECT key, value FROM ` + t + ` WHERE key = ANY($1::bytea[])) ` +
			`SELECT key, value FROM found UNION ALL ` +
			`SELECT c.key, c.value FROM found g JOIN ` + t + ` c ON c.key = $2::bytea || substring(g.value from 2) ` +
			`WHERE g.key >= $3::bytea AND g.key < $4::bytea AND length(g.value) > 1 AND get_byte(g.value, 0) = 1`,
		getChain: `WITH RECURSIVE found AS (SELECT key, value FROM ` + t + ` WHERE key = ANY($1::bytea[])), ` +
			`link AS (SELECT l.guard, l.prefix, l.suffix, (l.n - 1 + cardinality($1::bytea[]))::int4 AS node ` +
			`FROM unnest($2::int4[], $3::bytea[], $4::bytea[]) WITH ORDINALITY AS l(guard, prefix, suffix, n)), ` +
			`chain(node, key, value, present) AS (` +
			`SELECT (k.i - 1)::int4, f.key, f.value, true FROM unnest($1::bytea[]) WITH ORDINALITY AS k(key, i) JOIN found f ON f.key = k.key ` +
			`UNION ALL ` +
			`SELECT l.node, l.prefix || substring(c.value from 2) || l.suffix, v.value, v.key IS NOT NULL ` +
			`FROM chain c JOIN link l ON l.guard = c.node LEFT JOIN ` + t + ` v ON v.key = l.prefix || substring(c.value from 2) || l.suffix ` +
			`WHERE c.present AND length(c.value) > 1 AND get_byte(c.value, 0) = 1) ` +
			`SELECT node, key, value, present FROM chain UNION ALL ` +
			`SELECT -1, h.key, h.value, true FROM ` + t + ` h WHERE h.key = ANY(ARRAY(SELECT $5::bytea || substring(g.value from 2) FROM chain g ` +
			`WHERE g.present AND g.key >= $6::bytea AND g.key < $7::bytea AND length(g.value) > 1 AND get_byte(g.value, 0) = 1))`,
		scanBounded: `SELECT key, value FROM ` + t + ` WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3`,
		scanOpen:    `SELECT key, value FROM ` + t + ` WHERE key >= $1 ORDER BY key LIMIT $2`,
		scanBack:    `SELECT key, value FROM ` + t + ` WHERE key >= $1 AND key < $2 ORDER BY key DESC LIMIT $3`,
		upsert: `INSERT INTO ` + t + ` (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) ` +
			`ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		insert: `INSERT INTO ` + t + ` (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[])`,
		delete: `DELETE FROM ` + t + ` WHERE key = ANY($1::bytea[])`,
		addCounts: `INSERT INTO ` + t + ` (key, value) SELECT k, ` + countBytes(`d`) +
			` FROM unnest($1::bytea[], $2::int8[]) AS a(k, d) ` +
			`ON CONFLICT (key) DO UPDATE SET value = ` + countBytes(countOf(t+`.value`)+` + `+countOf(`excluded.value`)),
		dropCounts: `DELETE FROM ` + t + ` WHERE key = ANY($1::bytea[]) AND ` + countOf(`value`) + ` <= 0`,
	}
}

// countOf reads a count's eight bytes as a bigint, and countBytes writes
// one, in SQL that needs no PostgreSQL-only function.
func countOf(v string) string { return `('x' || encode(` + v + `, 'hex'))::bit(64)::bigint` }

func countBytes(n string) string { return `decode(lpad(to_hex(` + n + `), 16, '0'), 'hex')` }

// Transaction control.
const (
	beginSerializable = "BEGIN ISOLATION LEVEL SERIALIZABLE"
	beginSnapshot     = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
)
