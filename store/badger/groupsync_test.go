package badger

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every waiter must be covered by a sync that began after it asked, and
// concurrent waiters must share syncs.
func TestGroupSyncCoversEveryWaiterWithFewerSyncs(t *testing.T) {
	var syncs atomic.Int64
	var started atomic.Int64 // ticket count when the running sync began
	var tickets atomic.Int64
	g := newGroupSync(func() error {
		started.Store(tickets.Load())
		syncs.Add(1)
		time.Sleep(2 * time.Millisecond) // an fsync's worth
		return nil
	})
	const waiters = 200
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			my := tickets.Add(1)
			if err := g.wait(); err != nil {
				t.Error(err)
			}
			if started.Load() < my {
				bad.Add(1) // the last sync began before this waiter asked
			}
		}()
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d waiters returned without a sync that began after them", bad.Load())
	}
	if n := syncs.Load(); n >= waiters/4 {
		t.Fatalf("%d syncs for %d concurrent waiters: commits are not grouped", n, waiters)
	}
}

// ObserveSyncs reports every group sync of a durable store, and the
// commits reported add up to the commits made.
func TestObserveSyncsCountsEveryCommit(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir(), SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var syncs, commits atomic.Int64
	db.ObserveSyncs(func(n int, took time.Duration) {
		if n < 1 || took < 0 {
			t.Errorf("sync reported %d commits in %v", n, took)
		}
		syncs.Add(1)
		commits.Add(int64(n))
	})
	const writers = 8
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			txn := db.NewTxn()
			defer txn.Discard()
			if err := txn.Set([]byte{'k', byte(i)}, []byte("v")); err != nil {
				t.Error(err)
				return
			}
			if err := txn.Commit(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if commits.Load() != writers || syncs.Load() < 1 || syncs.Load() > writers {
		t.Fatalf("observed %d syncs covering %d commits, want %d commits", syncs.Load(), commits.Load(), writers)
	}
}
