package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// openSeen opens an engine on dir whose batched last_discovered moves are
// written only when flushed or closed (the interval is an hour), or at
// once when immediate.
func openSeen(t *testing.T, dir string, c *clock, immediate bool) *engine.Engine {
	t.Helper()
	e, err := engine.Open(dir, engine.Options{Now: c.Now, Sources: []string{"*"}, ImmediateLastDiscovered: immediate, LastDiscoveredFlush: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func storedBytes(t *testing.T, e *engine.Engine, id string) []byte {
	t.Helper()
	var b []byte
	err := e.Store().View(func(r store.Reader) (err error) {
		b, err = r.Get(store.CIKey(id))
		b = append([]byte(nil), b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A transaction that read a CI, as a concurrent payload reporting the same
// CI does, conflicts with a report that moved its last_discovered only
// when the move is written in the report's own transaction.
func TestUnchangedReportDoesNotConflictWithReaders(t *testing.T) {
	for _, immediate := range []bool{false, true} {
		c := newClock()
		e := openSeen(t, t.TempDir(), c, immediate)
		id := applyOpts(t, e, "ServiceNow", computer("c1", 2), "").Items[0].SysID
		before := storedBytes(t, e, id)

		reader := e.Store().NewTxn()
		if _, err := reader.Get(store.CIKey(id)); err != nil {
			t.Fatal(err)
		}
		if err := reader.Set([]byte("test/elsewhere"), []byte("x")); err != nil {
			t.Fatal(err)
		}
		c.advance(time.Hour)
		if r := applyOpts(t, e, "ServiceNow", computer("c1", 2), "").Items[0]; r.Operation != "NO_CHANGE" {
			t.Fatalf("immediate %v: %+v", immediate, r)
		}
		err := reader.Commit()
		unchanged := string(storedBytes(t, e, id)) == string(before)
		switch {
		case !immediate && (err != nil || !unchanged):
			t.Errorf("batched: the reader's commit: %v; record unchanged until the batch: %v", err, unchanged)
		case immediate && (!errors.Is(err, store.ErrConflict) || unchanged):
			t.Errorf("immediate: the reader's commit: %v (want a conflict); record unchanged: %v", err, unchanged)
		}
		if got := getCI(t, e, id).LastDiscovered; !got.Equal(c.now) {
			t.Errorf("immediate %v: last_discovered %v once flushed, want %v", immediate, got, c.now)
		}
		if !immediate {
			if string(storedBytes(t, e, id)) == string(before) {
				t.Error("the flush wrote nothing")
			}
		}
		e.Close()
	}
}

// Close writes the moves still waiting for their batch.
func TestCloseWritesBatchedLastDiscovered(t *testing.T) {
	dir, c := t.TempDir(), newClock()
	e := openSeen(t, dir, c, false)
	id := applyOpts(t, e, "ServiceNow", computer("c1", 2), "").Items[0].SysID
	c.advance(time.Hour)
	applyOpts(t, e, "ServiceNow", computer("c1", 2), "")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openSeen(t, dir, c, false)
	defer e.Close()
	rec, err := e.Record(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.LastDiscovered.Equal(c.now) {
		t.Errorf("last_discovered %v after close and reopen, want %v", rec.LastDiscovered, c.now)
	}
}

// A batched move never takes last_discovered back, keeps the record's
// version, and does not bring back a CI deleted meanwhile.
func TestBatchedLastDiscoveredOnlyMovesForward(t *testing.T) {
	c := newClock()
	e := openSeen(t, t.TempDir(), c, false)
	defer e.Close()
	id := applyOpts(t, e, "ServiceNow", computer("c1", 2), "").Items[0].SysID
	gone := applyOpts(t, e, "ServiceNow", computer("c2", 2), "").Items[0].SysID
	c.advance(time.Hour)
	applyOpts(t, e, "ServiceNow", computer("c1", 2), "") // waits: an hour later
	applyOpts(t, e, "ServiceNow", computer("c2", 2), "")
	later := c.now.Add(24 * time.Hour)
	changed := `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","cpu_count":4,"last_discovered":"` + later.Format(time.DateTime) + `"}}]}`
	if r := applyOpts(t, e, "ServiceNow", changed, "").Items[0]; r.Operation != "UPDATE" {
		t.Fatalf("%+v", r)
	}
	version := getRecord(t, e, id).Version
	if _, err := e.Delete(context.Background(), gone, engine.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.FlushLastDiscovered(); err != nil {
		t.Fatal(err)
	}
	rec := getRecord(t, e, id)
	if !rec.LastDiscovered.Equal(later) || rec.Version != version {
		t.Errorf("last_discovered %v version %d after the flush, want %v and %d", rec.LastDiscovered, rec.Version, later, version)
	}
	if _, err := e.Record(context.Background(), gone); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the deleted CI after the flush: %v", err)
	}
}

func getRecord(t *testing.T, e *engine.Engine, id string) *store.Record {
	t.Helper()
	rec, err := e.Record(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
