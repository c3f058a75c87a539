package engine

import (
	"errors"
	"fmt"
	"testing"

	"github.com/irego/irego/store"
)

func openIntents(t *testing.T) *Engine {
	t.Helper()
	e, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// sys_ids of the holders.
const (
	ci1 = "11111111111111111111111111111111"
	ci2 = "22222222222222222222222222222222"
	ci3 = "33333333333333333333333333333333"
)

func guard(name string) []byte {
	return store.IdentityKey("entry", "", []string{name}, nil)
}

// hold starts a write that holds the guard k for sysID.
func hold(t *testing.T, e *Engine, k []byte, sysID string) *eventTxn {
	t.Helper()
	txn := e.newTxn("S")
	if err := store.HoldIdentity(txn, k, sysID); err != nil {
		txn.Discard()
		t.Fatal(err)
	}
	return txn
}

// busyOn reads the guard k in txn and returns the intent error, failing
// when the read gives another error.
func busyOn(t *testing.T, txn *eventTxn, k []byte) *errIdentityBusy {
	t.Helper()
	_, err := txn.Get(k)
	var busy errIdentityBusy
	switch {
	case errors.As(err, &busy):
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("%v is not a conflict", err)
		}
		return &busy
	case err != nil && !errors.Is(err, store.ErrNotFound):
		t.Fatal(err)
	}
	return nil
}

// A write that holds an identity's guard makes another write reading it
// stop (it would conflict) until the holder commits; a write that began
// before the commit stops at once after it, one begun after reads the new
// holder, and a dry run, which never commits, is not stopped.
func TestIdentityIntentStopsWritesBoundToConflict(t *testing.T) {
	e := openIntents(t)
	x := guard("x")
	early := e.newTxn("S")
	defer early.Discard()
	holder := hold(t, e, x, ci1)
	defer holder.Discard()
	other := e.newTxn("S")
	defer other.Discard()
	busy := busyOn(t, other, x)
	if busy == nil || busy.wait == nil {
		t.Fatalf("a read of a guard another write holds: %v, want a busy error with a wait", busy)
	}
	if busyOn(t, holder, x) != nil {
		t.Fatal("the holder was stopped by its own intent")
	}
	dry := e.newTxn("S")
	dry.dry = true
	defer dry.Discard()
	if busyOn(t, dry, x) != nil {
		t.Fatal("a dry run was stopped")
	}
	select {
	case <-busy.wait:
		t.Fatal("the wait ended before the holder committed")
	default:
	}
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	<-busy.wait
	if b := busyOn(t, early, x); b == nil || b.wait != nil {
		t.Fatalf("a write begun before the commit read the guard after it: %v, want a busy error without a wait", b)
	}
	late := e.newTxn("S")
	defer late.Discard()
	if busyOn(t, late, x) != nil {
		t.Fatal("a write begun after the commit was stopped")
	}
	if ids, err := store.IdentityHolders(late, x); err != nil || len(ids) != 1 || ids[0] != ci1 {
		t.Fatalf("holders %v, %v", ids, err)
	}
}

// A holder that does not commit leaves nothing behind: writes that began
// before it read its guard as they found it.
func TestIdentityIntentOfADiscardedWriteIsGone(t *testing.T) {
	e := openIntents(t)
	y := guard("y")
	before := e.newTxn("S")
	defer before.Discard()
	holder := hold(t, e, y, ci2)
	busy := busyOn(t, before, y)
	if busy == nil {
		t.Fatal("not stopped by a held guard")
	}
	holder.Discard()
	<-busy.wait
	if busyOn(t, before, y) != nil {
		t.Fatal("stopped by the guard of a write that did not commit")
	}
	if len(e.intents.held) != 0 {
		t.Fatalf("intents left: %v", e.intents.held)
	}
}

// The released guards are kept in two turning maps: a write begun before
// what they forgot cannot tell and is not stopped (its commit conflicts),
// while one begun since still is.
func TestIdentityIntentsForgetOldReleases(t *testing.T) {
	e := openIntents(t)
	old := e.newTxn("S")
	defer old.Discard()
	z := guard("z")
	commitGuard := func(k []byte) {
		t.Helper()
		txn := hold(t, e, k, ci3)
		defer txn.Discard()
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	commitGuard(z)
	for i := range 2*releasesKept + 1 {
		commitGuard(guard(fmt.Sprint("g", i)))
	}
	recent := e.newTxn("S")
	defer recent.Discard()
	w := guard("w")
	commitGuard(w)
	if busyOn(t, old, z) != nil {
		t.Fatal("a write older than the kept releases was stopped")
	}
	if b := busyOn(t, recent, w); b == nil {
		t.Fatal("a write was not stopped by a guard released after it began")
	}
	if n := len(e.intents.released) + len(e.intents.older); n > 2*releasesKept {
		t.Fatalf("%d released guards kept", n)
	}
}
