package badger

import (
	"fmt"
	"testing"

	bdg "github.com/dgraph-io/badger/v4"
)

// Badger reads an unencrypted table's index and bloom filter in place from
// the table's memory map and consults an index cache only for encrypted
// tables: a cache would bound nothing of the store's anonymous memory.
// The store therefore sets none; this test fails, and asks for another
// look, if a Badger upgrade starts using the cache for plain tables.
func TestIndexCacheUnused(t *testing.T) {
	opts := Options{Dir: t.TempDir(), memTableSize: 1 << 20, vlogFileSize: 1 << 20}
	bo := badgerOptions(opts, &readErrors{}).WithIndexCacheSize(8 << 20)
	db, err := bdg.Open(bo)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if db != nil {
			db.Close() // the store open at the end
		}
	}()
	key := func(i int) []byte { return fmt.Appendf(nil, "v1/id/%08d", i) }
	const n = 20000
	for i := 0; i < n; i += 1000 {
		err := db.Update(func(txn *bdg.Txn) error {
			for j := i; j < i+1000; j++ {
				if err := txn.Set(key(j), make([]byte, 100)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Closing writes the memtables out as tables (a flush of a full one
	// may still be under way at this point); the reopened store reads
	// them.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = bdg.Open(bo); err != nil {
		t.Fatal(err)
	}
	tables := db.Tables()
	if len(tables) == 0 {
		t.Fatal("no table written: the test reads nothing from tables")
	}
	// Present keys (index lookups) and absent ones (bloom filter lookups).
	err = db.View(func(txn *bdg.Txn) error {
		for i := 0; i < 2*n; i += 7 {
			if _, err := txn.Get(key(i)); err != nil && err != bdg.ErrKeyNotFound {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := db.IndexCacheMetrics()
	if m == nil {
		t.Fatal("no index cache: IndexCacheSize was not applied")
	}
	if used := m.Hits() + m.Misses(); used != 0 {
		t.Errorf("the index cache was consulted %d times over %d plain tables: revisit the index cache (badger.go)", used, len(tables))
	}
}
