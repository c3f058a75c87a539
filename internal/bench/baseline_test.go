package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/irego/irego/store/badger"
)

// baselineKeys runs b briefly on a new store and returns what it wrote:
// per key prefix (up to the first /), how many keys, and each key's and
// value's length.
func baselineKeys(t *testing.T, b Baseline) map[string][]Write {
	t.Helper()
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b.DB = db.Badger()
	if rate, err := b.Run(context.Background(), 200*time.Millisecond); err != nil || rate <= 0 {
		t.Fatalf("Run: %v records/s, %v", rate, err)
	}
	got := map[string][]Write{}
	err = b.DB.View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			p, _, _ := strings.Cut(string(k), "/")
			got[p] = append(got[p], Write{Prefix: p, Key: len(k), Value: int(it.Item().ValueSize())})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// The bare loop writes a record and its index key per record.
func TestBaselineWritesRecordAndIndex(t *testing.T) {
	got := baselineKeys(t, Baseline{RecordsPerTxn: 10, RecordSize: 300})
	if len(got["r"]) == 0 || len(got["r"]) != len(got["i"]) || len(got["r"])%10 != 0 || len(got) != 2 {
		t.Fatalf("wrote %d records and %d index keys (and %d kinds); want as many of each, whole transactions of 10", len(got["r"]), len(got["i"]), len(got))
	}
	for _, w := range got["r"] {
		if w.Value != 300 {
			t.Fatalf("a record of %d bytes; want 300", w.Value)
		}
	}
}

// With Writes, the loop writes WritesPerRecord keys per record, shaped as
// Writes in turn, each key its own (none written over another).
func TestBaselineWritesTheShapesGiven(t *testing.T) {
	shapes := []Write{{Prefix: "ci/", Key: 20, Value: 300}, {Prefix: "id/", Key: 41, Value: 10}}
	got := baselineKeys(t, Baseline{RecordsPerTxn: 10, Writes: shapes, WritesPerRecord: 1.5})
	ci, id := len(got["ci"]), len(got["id"])
	if total := ci + id; total == 0 || total%15 != 0 || ci-id != total%2 || len(got) != 2 {
		t.Fatalf("wrote %d and %d keys of the two shapes (and %d kinds); want 1.5 per record in whole transactions of 10, the shapes in turn", ci, id, len(got))
	}
	for _, s := range shapes {
		for _, w := range got[strings.TrimSuffix(s.Prefix, "/")] {
			if w.Key != s.Key || w.Value != s.Value {
				t.Fatalf("a %s key of %d bytes with a value of %d; want %d and %d", s.Prefix, w.Key, w.Value, s.Key, s.Value)
			}
		}
	}
}
