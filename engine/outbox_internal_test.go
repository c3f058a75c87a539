package engine

import (
	"context"
	"testing"

	"github.com/irego/irego/store"
)

// Two write transactions open at once that both change a CI both commit:
// neither reads an event counter the other writes. Their events are
// numbered in the order they commit, and each record's version is its
// event's number.
func TestOverlappingWritersBothCommitNumberedInCommitOrder(t *testing.T) {
	e, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a, b := e.newTxn("ServiceNow"), e.newTxn("ServiceNow")
	defer a.Discard()
	defer b.Discard()
	for id, txn := range map[string]*eventTxn{"ci-a": a, "ci-b": b} {
		rec := &store.Record{SysID: id, Class: "cmdb_ci_computer", Values: map[string]any{"name": id}}
		if err := putCIRecord(txn, rec, nil, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatalf("the second of two overlapping writers: %v", err)
	}
	evs, err := e.ReadEvents(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].SysID != "ci-b" || evs[1].SysID != "ci-a" || evs[0].Seq >= evs[1].Seq {
		t.Fatalf("events %+v, want ci-b's then ci-a's", evs)
	}
	for _, ev := range evs {
		if ev.Commit != ev.Seq || ev.Op != "INSERT" {
			t.Errorf("event %d: commit %d, op %s", ev.Seq, ev.Commit, ev.Op)
		}
		var rec *store.Record
		if err := e.st.View(func(r store.Reader) (err error) { rec, err = getRecord(r, ev.SysID); return err }); err != nil {
			t.Fatal(err)
		}
		if rec.Version != ev.Seq {
			t.Errorf("%s at version %d, its event is %d", ev.SysID, rec.Version, ev.Seq)
		}
	}
	if last, err := e.LastEvent(context.Background()); err != nil || last != evs[1].Seq {
		t.Errorf("LastEvent %d, %v; want %d", last, err, evs[1].Seq)
	}
}
