package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

func readAll(t *testing.T, e *engine.Engine, from uint64) []engine.Event {
	t.Helper()
	evs, err := e.ReadEvents(context.Background(), from, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// recordSysIDs lists every stored record.
func recordSysIDs(t *testing.T, e *engine.Engine) map[string]*store.Record {
	t.Helper()
	out := map[string]*store.Record{}
	if err := e.Records(context.Background(), func(r *store.Record) error { out[r.SysID] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEventsOnePerCIChange(t *testing.T) {
	e := openDisk(t)
	res := apply(t, e, byol(t))
	if res.HasError {
		t.Fatalf("apply: %+v", res)
	}
	recs := recordSysIDs(t, e)
	evs := readAll(t, e, 0)
	if len(evs) != len(recs) {
		t.Fatalf("%d events for %d records: %+v", len(evs), len(recs), evs)
	}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) || ev.Commit != 1 || ev.Op != "INSERT" || ev.Source != "ServiceNow" {
			t.Errorf("event %d: seq %d commit %d op %s source %s", i, ev.Seq, ev.Commit, ev.Op, ev.Source)
		}
		rec := recs[ev.SysID]
		if rec == nil || rec.Version != ev.Seq || rec.Class != ev.Class {
			t.Errorf("event %d names %s (%s): record %+v", ev.Seq, ev.SysID, ev.Class, rec)
		}
	}
	if last, _ := e.LastEvent(context.Background()); last != uint64(len(evs)) {
		t.Errorf("LastEvent = %d, want %d", last, len(evs))
	}

	// The same payload again changes nothing: no event, no counter read.
	apply(t, e, byol(t))
	if n := len(readAll(t, e, 0)); n != len(evs) {
		t.Fatalf("unchanged apply added %d events", n-len(evs))
	}

	// One changed value: one UPDATE event, naming the value before and after.
	comp := res.Items[0].SysID
	p := byol(t)
	p.Items[0].Values["ram"] = int64(65536)
	apply(t, e, p)
	more := readAll(t, e, uint64(len(evs)+1))
	if len(more) != 1 || more[0].Op != "UPDATE" || more[0].SysID != comp {
		t.Fatalf("after one change: %+v", more)
	}
	if vc := more[0].Attributes["ram"]; vc.After != int64(65536) || len(more[0].Attributes) != 1 {
		t.Errorf("attributes %+v", more[0].Attributes)
	}
	if rec := recordSysIDs(t, e)[comp]; rec.Version != more[0].Seq {
		t.Errorf("version %d, event %d", rec.Version, more[0].Seq)
	}

	// A cascading delete: one DELETE per record, with the values it had.
	del, err := e.Delete(context.Background(), comp, engine.DeleteOptions{Cascade: true, Source: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	gone := readAll(t, e, more[0].Seq+1)
	deletes := map[string]bool{}
	for _, ev := range gone {
		if ev.Op == "DELETE" {
			deletes[ev.SysID] = true
			if ev.Source != "admin" || len(ev.Values) == 0 {
				t.Errorf("delete event %+v", ev)
			}
		}
	}
	for _, id := range del {
		if !deletes[id] {
			t.Errorf("no DELETE event for %s (events %+v)", id, gone)
		}
	}
}

func TestEventsSurviveRestartAndExpire(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e, err := engine.Open(dir, engine.Options{Now: clock, EventRetention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, e, mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"name":"a","serial_number":"S1"}}]}`))
	e.Close()

	now = now.Add(time.Hour)
	e, err = engine.Open(dir, engine.Options{Now: clock, EventRetention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if evs := readAll(t, e, 0); len(evs) != 1 || evs[0].Seq != 1 {
		t.Fatalf("after a restart: %+v", evs)
	}
	apply(t, e, mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"name":"b","serial_number":"S2"}}]}`))
	e.Close()

	// Two days on, both are past the retention and go; numbers go on.
	now = now.Add(48 * time.Hour)
	e, err = engine.Open(dir, engine.Options{Now: clock, EventRetention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if evs := readAll(t, e, 0); len(evs) != 0 {
		t.Fatalf("expired events kept: %+v", evs)
	}
	apply(t, e, mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c","serial_number":"S3"}}]}`))
	if evs := readAll(t, e, 0); len(evs) != 1 || evs[0].Seq != 3 {
		t.Fatalf("after expiry: %+v", evs)
	}
}

func TestEventsFollowWakesOnCommit(t *testing.T) {
	e := openDisk(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan engine.Event)
	go func() {
		for ev, err := range e.Events(ctx, 1) {
			if err != nil {
				t.Error(err)
				return
			}
			got <- ev
		}
	}()
	for i := range 3 {
		apply(t, e, mustDecode(t, fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"name":"c%d","serial_number":"S%d"}}]}`, i, i)))
		ev := <-got
		if ev.Seq != uint64(i+1) || ev.Values["name"] != fmt.Sprintf("c%d", i) {
			t.Fatalf("followed %+v", ev)
		}
	}
	cancel()
}

// Concurrent writers of different CIs get one sequence, numbered in commit
// order: each record's version is its event's number. Writers that still
// conflict (on an index count, say) retry, and the numbers of the failed
// commit are skipped, never handed out again: the sequence rises, with
// gaps that never fill.
func TestEventsConcurrentWritersOneSequence(t *testing.T) {
	e := openDisk(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				p := mustDecode(t, fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"name":"g%d-%d","serial_number":"G%d-%d"}}]}`, g, i, g, i))
				if _, err := e.Apply(context.Background(), "ServiceNow", p, seedOptions); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	evs := readAll(t, e, 0)
	if len(evs) != 40 {
		t.Fatalf("%d events", len(evs))
	}
	recs := recordSysIDs(t, e)
	prev := uint64(0)
	for i, ev := range evs {
		if ev.Seq <= prev || ev.Commit != ev.Seq {
			t.Errorf("event %d: seq %d (previous %d) commit %d", i, ev.Seq, prev, ev.Commit)
		}
		prev = ev.Seq
		if recs[ev.SysID].Version != ev.Seq {
			t.Errorf("record %s at version %d, its event is %d", ev.SysID, recs[ev.SysID].Version, ev.Seq)
		}
	}
}

func TestApplyIfVersions(t *testing.T) {
	e := openDisk(t)
	res := apply(t, e, mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"name":"a","serial_number":"S1","ram":1}}]}`))
	id := res.Items[0].SysID
	rec, err := e.Record(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	o := seedOptions
	o.IfVersions = map[string]uint64{id: rec.Version}
	p := mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1","ram":2}}]}`)
	if _, err := e.Apply(context.Background(), "ServiceNow", p, o); err != nil {
		t.Fatalf("at the version read: %v", err)
	}
	// The same condition again: the CI moved on, nothing is written.
	p = mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1","ram":3}}]}`)
	_, err = e.Apply(context.Background(), "ServiceNow", p, o)
	var ve *engine.VersionError
	if !errors.As(err, &ve) || !errors.Is(err, engine.ErrVersionMismatch) || ve.Want != rec.Version || ve.Has == rec.Version {
		t.Fatalf("stale condition: %v", err)
	}
	after, _ := e.Record(context.Background(), id)
	if after.Values["ram"] != int64(2) {
		t.Errorf("a refused apply wrote: ram %v", after.Values["ram"])
	}
	_, err = e.Delete(context.Background(), id, engine.DeleteOptions{IfVersions: map[string]uint64{id: rec.Version}})
	if !errors.Is(err, engine.ErrVersionMismatch) {
		t.Fatalf("stale delete: %v", err)
	}
	if _, err := e.Delete(context.Background(), id, engine.DeleteOptions{IfVersions: map[string]uint64{id: after.Version}}); err != nil {
		t.Fatalf("delete at the version read: %v", err)
	}
}

// Relations and related records move their CI's version: a product's
// ETag covers its characteristics and relations.
func TestEventsRelatedRecordsMoveTheMainVersion(t *testing.T) {
	e := openDisk(t)
	res := apply(t, e, byol(t))
	comp := res.Items[0].SysID
	before := recordSysIDs(t, e)[comp].Version
	last, err := e.LastEvent(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Another version of the software: a new install under the computer.
	p := byol(t)
	p.Items[0].Related[0].Values["version"] = "2019"
	apply(t, e, p)
	evs := readAll(t, e, last+1)
	if len(evs) != 2 || evs[0].Op != "INSERT" || !evs[0].Related || evs[1].SysID != comp || evs[1].Op != "UPDATE" {
		t.Fatalf("events %+v", evs)
	}
	after := recordSysIDs(t, e)[comp]
	if after.Version <= before {
		t.Errorf("computer version %d → %d", before, after.Version)
	}
	for _, ev := range evs {
		if ev.SysID == comp && (len(ev.RelatedRecords) != 1 || len(ev.Attributes) != 0) {
			t.Errorf("computer event %+v", ev)
		}
	}
}

// Reads from any number find the events from there on, across the blocks
// of 256 numbers the outbox is walked by.
func TestReadEventsFromAnyNumber(t *testing.T) {
	e := openDisk(t)
	const n = 600
	var items []string
	for i := range n {
		items = append(items, fmt.Sprintf(`{"className":"cmdb_ci_computer","values":{"name":"c%d","serial_number":"S%d"}}`, i, i))
	}
	apply(t, e, mustDecode(t, `{"items":[`+strings.Join(items, ",")+`]}`))
	for _, from := range []uint64{0, 1, 2, 255, 256, 257, 300, 511, 512, 513, 599, 600, 601, 5000} {
		for _, limit := range []int{1, 7, 256, 1000} {
			evs, err := e.ReadEvents(context.Background(), from, limit)
			if err != nil {
				t.Fatal(err)
			}
			first := max(from, 1)
			want := 0
			if first <= n {
				want = min(limit, int(n-first+1))
			}
			if len(evs) != want {
				t.Fatalf("from %d, limit %d: %d events, want %d", from, limit, len(evs), want)
			}
			for i, ev := range evs {
				if ev.Seq != first+uint64(i) {
					t.Fatalf("from %d, limit %d: event %d is numbered %d", from, limit, i, ev.Seq)
				}
			}
		}
	}
}
