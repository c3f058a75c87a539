package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/store"
)

// Pending writes are bounded; overwriting a key does not count it twice.
func TestPendingWritesAreBounded(t *testing.T) {
	tx := &txn{db: &DB{}}
	value := make([]byte, 1<<20)
	for range 100 {
		if err := tx.Set([]byte("same"), value); err != nil {
			t.Fatalf("overwriting one key: %v", err)
		}
	}
	var err error
	n := 0
	for ; err == nil; n++ {
		err = tx.Set([]byte{byte(n), byte(n >> 8)}, value)
	}
	if !errors.Is(err, store.ErrTxnTooBig) || n < 60 || n > 64 {
		t.Fatalf("Set failed after %d MiB with %v, want ErrTxnTooBig after about 64", n, err)
	}
	if err := tx.Delete([]byte("same")); err != nil {
		t.Errorf("a delete that shrinks the transaction: %v", err)
	}
}

// Tables are independent stores, names are checked, and a table written by
// a newer layout is refused.
func TestTables(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, dsn, Options{Table: "other_kv"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tx := a.NewTxn()
	tx.Set([]byte("k"), []byte("v"))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	err = b.View(func(r store.Reader) error { _, err := r.Get([]byte("k")); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a key of table irego_kv read from other_kv: %v", err)
	}
	if _, err := Open(ctx, dsn, Options{Table: "Robert'); DROP TABLE irego_kv; --"}); err == nil || !strings.Contains(err.Error(), "table name") {
		t.Errorf("a bad table name: %v", err)
	}
	if _, err := a.pool.Exec(ctx, `UPDATE irego_schema SET version = 2 WHERE name = 'irego_kv'`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dsn, Options{}); err == nil || !strings.Contains(err.Error(), "layout version 2") {
		t.Errorf("a table of a newer layout: %v", err)
	}
}

// The server's disk_full (SQLSTATE 53100) is store.ErrNoSpace, as Badger's
// full disk is (HTTP 507 above); other errors are not.
func TestDiskFullIsNoSpace(t *testing.T) {
	full := &pgconn.PgError{Severity: "ERROR", Code: "53100", Message: `could not extend file "base/16384/16385": No space left on device`}
	err := mapErr(fmt.Errorf("commit: %w", full))
	if !errors.Is(err, store.ErrNoSpace) || !strings.Contains(err.Error(), "No space left on device") || !strings.Contains(err.Error(), "53100") {
		t.Errorf("disk_full mapped to %v", err)
	}
	for _, code := range []string{"53200", "53300", "23502"} { // out of memory, too many connections, not null violation
		if err := mapErr(&pgconn.PgError{Code: code, Message: "m"}); errors.Is(err, store.ErrNoSpace) || errors.Is(err, store.ErrConflict) {
			t.Errorf("SQLSTATE %s mapped to %v", code, err)
		}
	}
}

// A real server refusing a write for a full disk (a trigger raises
// disk_full, as PostgreSQL does when it cannot extend a file): Commit
// returns ErrNoSpace, nothing is written, reads go on, and once the disk
// has room again writes do too.
func TestDiskFullOnARealServer(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.DSN(t), Options{Table: "full_kv"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	put := func(k string) error {
		tx := db.NewTxn()
		defer tx.Discard()
		if err := tx.Set([]byte(k), []byte("v")); err != nil {
			return err
		}
		return tx.Commit()
	}
	if err := put("before"); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`CREATE OR REPLACE FUNCTION irego_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`,
		`CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON full_kv FOR EACH ROW EXECUTE FUNCTION irego_test_disk_full()`,
	} {
		if _, err := db.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if err := put("during"); !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("a write on a full disk: %v, want store.ErrNoSpace", err)
	}
	err = db.View(func(r store.Reader) error {
		if _, err := r.Get([]byte("before")); err != nil {
			return err
		}
		_, err := r.Get([]byte("during"))
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reads on a full disk: %v, want the old key and ErrNotFound for the refused one", err)
	}
	if _, err := db.pool.Exec(ctx, `DROP TRIGGER disk_full ON full_kv`); err != nil {
		t.Fatal(err)
	}
	if err := put("after"); err != nil {
		t.Errorf("a write once the disk has room: %v", err)
	}
}
