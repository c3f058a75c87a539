package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/irego/irego/store"
	"github.com/irego/irego/store/postgres/pgtest"
)

// Pending writes are bounded; overwriting a key does not count it twice.
func TestPendingWritesAreBounded(t *testing.T) {
	tx := &txn{}
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
