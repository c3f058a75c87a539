package badger

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/irego/irego/store"
)

// liveHeap is the heap in use once garbage is collected.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// heapWatcher is a backup's reader that looks at the live heap before
// taking each record, as a slow client lets a backup run ahead of it.
type heapWatcher struct {
	buf  bytes.Buffer
	peak uint64
}

func (h *heapWatcher) Write(p []byte) (int, error) {
	h.peak = max(h.peak, liveHeap())
	return h.buf.Write(p)
}

// A backup holds a bounded batch in memory, not the store: 27 MiB of keys
// and values (small ones in the tree, large ones in the value log) are
// backed up with a few MiB of heap, and restore to the same keys and
// values. (Badger's Stream.Backup held 32 MiB buffers, up to 32 of them.)
func TestBackupMemoryIsBounded(t *testing.T) {
	src, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 200+(i%7)*400) } // 200 B … 2.6 KB
	const n = 20_000
	for start := 0; start < n; start += 1000 {
		tx := src.NewTxn()
		for i := start; i < start+1000; i++ {
			if err := tx.Set(fmt.Appendf(nil, "v1/k/%06d", i), value(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	tx := src.NewTxn() // a deleted key is not in the backup
	tx.Delete([]byte("v1/k/000007"))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	base := liveHeap()
	w := &heapWatcher{}
	if err := src.Backup(w); err != nil {
		t.Fatal(err)
	}
	grew := w.peak - min(w.peak, base)
	t.Logf("backup of %d keys: %.1f MiB, live heap %.1f MiB over the %.1f MiB before (the backup's bytes excluded)",
		n, float64(w.buf.Len())/(1<<20), float64(grew-min(grew, uint64(w.buf.Cap())))/(1<<20), float64(base)/(1<<20))
	// The reader's own buffer of what it took so far is on the heap too.
	if own := grew - min(grew, uint64(w.buf.Cap())); own > 16<<20 {
		t.Errorf("the backup held %.1f MiB of heap beyond what its reader took; want a bounded batch (under 16 MiB)", float64(own)/(1<<20))
	}

	dst, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if err := dst.Restore(&w.buf); err != nil {
		t.Fatal(err)
	}
	err = dst.View(func(r store.Reader) error {
		got := 0
		if err := r.Iterate([]byte("v1/k/"), func(k, v []byte) error {
			var i int
			fmt.Sscanf(string(k), "v1/k/%06d", &i)
			if !bytes.Equal(v, value(i)) {
				return fmt.Errorf("key %s: restored value differs", k)
			}
			got++
			return nil
		}); err != nil {
			return err
		}
		if got != n-1 {
			return fmt.Errorf("restored %d keys, want %d", got, n-1)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// A restore into a store that once held the same keys and deleted them
// gives every key back: the restored keys are written at the store's own
// versions, above its deletes (Badger's Load kept the backup's versions,
// under which the deletes won and the keys stayed gone).
func TestRestoreIntoAStoreEmptiedByDeletes(t *testing.T) {
	src, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	put := func(db *DB, prefix string, n int) {
		txn := db.NewTxn()
		defer txn.Discard()
		for i := range n {
			if err := txn.Set(fmt.Appendf(nil, "k/%03d", i), []byte(prefix)); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	put(src, "src", 50) // src's versions stay low
	for range 20 {      // dst's climb above them, then its keys are deleted
		put(dst, "dst", 50)
	}
	txn := dst.NewTxn()
	for i := range 50 {
		if err := txn.Delete(fmt.Appendf(nil, "k/%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := src.Backup(&b); err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(&b); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := dst.View(func(r store.Reader) error {
		return r.Iterate([]byte("k/"), func(k, v []byte) error {
			if string(v) != "src" {
				return fmt.Errorf("%s = %q after the restore, want src", k, v)
			}
			n++
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if n != 50 {
		t.Errorf("%d keys after the restore, want 50", n)
	}
}
