package badger

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/irego/irego/store"
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

// On a durable store a commit is visible before its sync: the OnVisible
// function runs then (a new transaction reads the write, no sync has run
// yet), Commit returns after the sync, and a commit that fails runs none.
func TestOnVisibleRunsBeforeTheSync(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir(), SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var syncs atomic.Int64
	db.ObserveSyncs(func(int, time.Duration) { syncs.Add(1) })
	txn := db.NewTxn()
	defer txn.Discard()
	if err := txn.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	ran := false
	if !store.OnVisible(txn, func() {
		ran = true
		if n := syncs.Load(); n != 0 {
			t.Errorf("%d syncs before the commit was visible", n)
		}
		if err := db.View(func(r store.Reader) error { _, err := r.Get([]byte("k")); return err }); err != nil {
			t.Errorf("the write is not visible to a new transaction: %v", err)
		}
	}) {
		t.Fatal("a Badger transaction does not take OnVisible")
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if !ran || syncs.Load() != 1 {
		t.Fatalf("after Commit: visible ran %v, %d syncs; want true and 1", ran, syncs.Load())
	}

	// Two transactions read and write one key: the second to commit fails.
	a, b := db.NewTxn(), db.NewTxn()
	defer a.Discard()
	defer b.Discard()
	for _, x := range []store.Txn{a, b} {
		if _, err := x.Get([]byte("k")); err != nil {
			t.Fatal(err)
		}
		if err := x.Set([]byte("k"), []byte("w")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	store.OnVisible(b, func() { t.Error("OnVisible ran for a commit that failed") })
	if err := b.Commit(); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second commit: %v, want a conflict", err)
	}
}

// A sync waits commitDelay only while commitSiblings writers are open, and
// then covers the commits made during its wait.
func TestGroupSyncWaitsForOpenWriters(t *testing.T) {
	var syncs, pauses int
	g := newGroupSync(func() error { syncs++; return nil })
	var late sync.WaitGroup
	g.pause = func(d time.Duration) {
		pauses++
		if d != commitDelay {
			t.Errorf("paused %v, want %v", d, commitDelay)
		}
		if pauses > 1 {
			return // a second pause fails the test below
		}
		// A writer that was open commits during the wait: it asks for
		// durability and must be covered by the sync about to start.
		g.mu.Lock()
		asked := g.requested
		g.mu.Unlock()
		late.Go(func() {
			if err := g.wait(); err != nil {
				t.Error(err)
			}
		})
		for {
			g.mu.Lock()
			n := g.requested
			g.mu.Unlock()
			if n > asked {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}

	for range commitSiblings - 1 {
		g.opened()
	}
	if err := g.wait(); err != nil {
		t.Fatal(err)
	}
	if pauses != 0 || syncs != 1 {
		t.Fatalf("with %d writers open: %d pauses and %d syncs, want none and 1", commitSiblings-1, pauses, syncs)
	}

	g.opened()
	if err := g.wait(); err != nil {
		t.Fatal(err)
	}
	late.Wait()
	if pauses != 1 || syncs != 2 {
		t.Fatalf("with %d writers open: %d pauses and %d syncs, want 1 and 2 (the one after the pause covers the commit made during it)", commitSiblings, pauses, syncs)
	}
}

// Every write transaction leaves the count of open writers once it
// committed, failed to commit or was discarded, numbered or not; reads
// never enter it.
func TestOpenWritersCountReturnsToZero(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir(), SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	open := func() int64 { return db.durable.writers.Load() }
	write := func(key string) store.Txn {
		txn := db.NewTxn()
		if _, err := txn.Get([]byte(key)); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if err := txn.Set([]byte(key), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := txn.Set([]byte(key+"2"), []byte("v")); err != nil {
			t.Fatal(err)
		}
		return txn
	}

	reader := db.NewTxn()
	if _, err := reader.Get([]byte("k")); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	a, b, c := write("k"), write("k"), write("d")
	if n := open(); n != 3 {
		t.Fatalf("%d writers open, want 3 (a transaction that only read is not one)", n)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second commit of k: %v, want a conflict", err)
	}
	c.Discard()
	for _, x := range []store.Txn{a, b, c, reader} {
		x.Discard() // after a commit too, as callers defer it
	}
	numbered := write("n")
	if err := numbered.(store.NumberedTxn).CommitNumbered(1, func(uint64) error { return nil }); err != nil {
		t.Fatal(err)
	}
	numbered.Discard()
	if n := open(); n != 0 {
		t.Fatalf("%d writers open after every transaction ended, want 0", n)
	}
}
