package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/irego/irego/internal/pgtest"
)

// The store analyzes its table when the rows it wrote pass a thousand, and
// again at four times as many, so that the server plans its statements
// from statistics of the table as it is rather than as it was when new.
func TestTableAnalyzedAsItGrows(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, pgtest.DSN(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Only the store's own analyses count here.
	if _, err := d.pool.Exec(ctx, `ALTER TABLE irego_kv SET (autovacuum_enabled = false)`); err != nil {
		t.Fatal(err)
	}
	rows := 0
	write := func(n int) {
		t.Helper()
		tx := d.NewTxn()
		for range n {
			tx.Set(fmt.Appendf(nil, "k%06d", rows), []byte("v"))
			rows++
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		d.analyzer.running.Wait()
	}
	tuples := func() float64 {
		t.Helper()
		var n float64
		if err := d.pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = to_regclass('irego_kv')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	never := tuples() // -1 on PostgreSQL 14 and later, 0 before
	write(999)
	if got := tuples(); got != never {
		t.Fatalf("analyzed after %d rows: reltuples %v", rows, got)
	}
	write(2)
	if got := tuples(); got != float64(rows) {
		t.Fatalf("after %d rows reltuples is %v, want the table analyzed", rows, got)
	}
	write(2000)
	if got := tuples(); got != 1001 {
		t.Fatalf("analyzed again before four times as many rows: reltuples %v", got)
	}
	write(1003)
	if got := tuples(); got != float64(rows) {
		t.Fatalf("after %d rows reltuples is %v, want the table analyzed again", rows, got)
	}
}
