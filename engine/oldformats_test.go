package engine_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/relations"
	"github.com/irego/irego/store"
)

// ciReads is everything a reader sees of a CI besides its record: its
// sources and relations (Get), history, last report and graph.
type ciReads struct {
	CI         *engine.CI
	History    []store.Change
	LastReport *store.LastReport
	Walk       []relations.Step
}

func readCIs(t *testing.T, e *engine.Engine) (map[string]ciReads, []engine.Event) {
	t.Helper()
	ctx := context.Background()
	out := map[string]ciReads{}
	for id := range recordSysIDs(t, e) {
		var r ciReads
		var err error
		if r.CI, err = e.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
		if r.History, err = e.History(ctx, id); err != nil {
			t.Fatal(err)
		}
		if r.LastReport, err = e.LastReport(ctx, id); err != nil {
			t.Fatal(err)
		}
		if r.Walk, err = e.Walk(ctx, id, relations.Both, 2); err != nil {
			t.Fatal(err)
		}
		out[id] = r
	}
	return out, readAll(t, e, 0)
}

// jsonAgain rewrites every value under prefix as the JSON older versions
// stored, decoding it with decode.
func jsonAgain(t *testing.T, txn store.Txn, prefix []byte, decode func([]byte) (any, error)) int {
	t.Helper()
	type kv struct{ k, v []byte }
	var all []kv
	if err := txn.Iterate(prefix, func(k, v []byte) error {
		x, err := decode(v)
		if err != nil {
			return err
		}
		j, err := json.Marshal(x)
		if err != nil {
			return err
		}
		all = append(all, kv{append([]byte(nil), k...), j})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		if err := txn.Set(x.k, x.v); err != nil {
			t.Fatal(err)
		}
	}
	return len(all)
}

// TestOldFormatsReadTheSame: a store whose per-CI values older versions
// wrote as JSON (edges whole under both ends, source info, last reports
// under a key of their own, history, change events) reads exactly as the
// binary one, takes writes, and checks clean: no conversion is needed.
func TestOldFormatsReadTheSame(t *testing.T) {
	e := openDisk(t)
	res := apply(t, e, byol(t))
	if res.HasError {
		t.Fatalf("apply: %+v", res)
	}
	p := byol(t)
	p.Items[0].Values["ram"] = int64(65536)
	apply(t, e, p) // an update: history and an UPDATE event
	want, wantEvents := readCIs(t, e)

	txn := e.Store().NewTxn()
	defer txn.Discard()
	n := 0
	decodeAny := func(f func([]byte) (any, error)) func([]byte) (any, error) { return f }
	for id := range want {
		n += jsonAgain(t, txn, store.SourcePrefix(id), decodeAny(func(b []byte) (any, error) { return store.DecodeSourceInfo(b) }))
		// Older versions kept the last report under a key of its own.
		if lr := want[id].LastReport; lr != nil {
			j, _ := json.Marshal(lr)
			if err := txn.Set(store.LastReportKey(id), j); err != nil {
				t.Fatal(err)
			}
			n++
		}
		n += jsonAgain(t, txn, store.HistoryPrefix(id), decodeAny(func(b []byte) (any, error) { return store.DecodeChange(b) }))
		n += jsonAgain(t, txn, store.OutPrefix(id), decodeAny(func(b []byte) (any, error) { return store.DecodeEdge(b) }))
		// Older versions stored the edge whole under its child too.
		eds, err := relations.Outbound(txn, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, ed := range eds {
			j, _ := json.Marshal(ed)
			if err := txn.Set(store.InKey(ed.Child, ed.Type, ed.Parent), j); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	for _, ev := range wantEvents {
		j, _ := json.Marshal(ev)
		if err := txn.Set(store.EventKey(ev.Seq), j); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if n < 3*len(want) {
		t.Fatalf("rewrote only %d values for %d CIs", n, len(want))
	}
	got, gotEvents := readCIs(t, e)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("a store of JSON values reads otherwise (-binary +JSON):\n%s", d)
	}
	if d := cmp.Diff(wantEvents, gotEvents); d != "" {
		t.Errorf("JSON events read otherwise (-binary +JSON):\n%s", d)
	}
	checkClean(t, e)

	// Writes over the old values leave a mixed store that reads and
	// checks clean; a cascading delete removes old and new alike.
	p = byol(t)
	p.Items[0].Values["ram"] = int64(1024)
	if res := apply(t, e, p); res.HasError {
		t.Fatalf("apply over JSON values: %+v", res)
	}
	mixed, _ := readCIs(t, e)
	comp := res.Items[0].SysID
	if h := mixed[comp].History; len(h) != len(want[comp].History)+1 {
		t.Fatalf("history after one more change: %d entries, had %d", len(h), len(want[comp].History))
	}
	for id, r := range mixed {
		if len(r.CI.Inbound) != len(want[id].CI.Inbound) || len(r.CI.Outbound) != len(want[id].CI.Outbound) {
			t.Errorf("%s: relations moved: %+v, had %+v", id, r.CI, want[id].CI)
		}
	}
	checkClean(t, e)
	if _, err := e.Delete(context.Background(), comp, engine.DeleteOptions{Cascade: true, Source: "admin"}); err != nil {
		t.Fatal(err)
	}
	checkClean(t, e)
}

// TestCheckFindsDanglingInboundKey: the key of an edge under its child
// leads to the edge under its parent; Check reports one that leads
// nowhere, and reading the child's relations says which.
func TestCheckFindsDanglingInboundKey(t *testing.T) {
	e := openDisk(t)
	apply(t, e, byol(t))
	checkClean(t, e)
	var out []byte
	var child string
	if err := e.Store().View(func(r store.Reader) error {
		return r.Iterate(store.EdgePrefix(), func(k, v []byte) error {
			ed, err := store.DecodeEdge(v)
			out, child = append([]byte(nil), k...), ed.Child
			if err != nil {
				return err
			}
			return store.ErrStop
		})
	}); err != nil || out == nil {
		t.Fatalf("no edge: %v", err)
	}
	txn := e.Store().NewTxn()
	defer txn.Discard()
	if err := txn.Delete(out); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	problems, err := e.Check(context.Background())
	if err != nil || len(problems) != 1 {
		t.Fatalf("Check: %v, %q; want the one dangling key", err, problems)
	}
	if _, err := e.Get(context.Background(), child); err == nil {
		t.Error("reading the child's relations over a dangling key: no error")
	}
}
