package engine_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
	"github.com/irego/irego/store/storetest"
)

// answersOfAll is what the store answers of every CI: the CI and its history.
func answersOfAll(t *testing.T, e *engine.Engine) map[string]string {
	t.Helper()
	var ids []string
	if err := e.Store().View(func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(k, _ []byte) error {
			ids = append(ids, store.SysIDFromCIKey(k))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, id := range ids {
		ci, err := e.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		h, err := e.History(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = mustJSON(ci) + mustJSON(h)
	}
	return out
}

func sameAnswers(t *testing.T, when string, want, got map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d CIs, want %d", when, len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Fatalf("%s: CI %s reads\n%s\nwant\n%s", when, id, got[id], w)
		}
	}
}

// TestMigrateJSONRecords: a store whose records older versions wrote as
// JSON is converted once when opened, also after a conversion cut short,
// and answers every read as before, in between too.
func TestMigrateJSONRecords(t *testing.T) {
	dir := t.TempDir()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, e, byol(t))
	for _, f := range []string{"server-sccm.json", "server-servicenow.json", "server-aws.json"} {
		b, err := os.ReadFile("../examples/" + f)
		if err != nil {
			t.Fatal(err)
		}
		applyFrom(t, e, strings.ToUpper(strings.Split(strings.TrimSuffix(f, ".json"), "-")[1]), string(b))
	}
	want := answersOfAll(t, e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// The store as an older version wrote it, then a migration killed
	// after its first step.
	st, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n := storetest.AsJSONRecords(t, st)
	if n < 6 {
		t.Fatalf("only %d records to convert", n)
	}
	if conv, done, err := engine.MigrateStep(st, 2, 3); err != nil || done || conv != 2 {
		t.Fatalf("first step: converted %d, done %v, err %v; want 2 converted, not done", conv, done, err)
	}
	if j, b := storetest.RecordFormats(t, st); j != n-2 || b != 2 {
		t.Fatalf("after one step: %d JSON and %d binary records, want %d and 2", j, b, n-2)
	}
	st.Close()

	// Readers take both formats while the migration is unfinished.
	ro, err := engine.Open(dir, engine.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, "half converted", want, answersOfAll(t, ro))
	ro.Close()

	e, err = engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(e.Notices(), func(s string) bool { return strings.Contains(s, "converted") }) {
		t.Fatalf("opening the old store says nothing of converting it: %q", e.Notices())
	}
	if j, b := storetest.RecordFormats(t, e.Store()); j != 0 || b != n {
		t.Fatalf("after open: %d JSON and %d binary records, want 0 and %d", j, b, n)
	}
	checkClean(t, e)
	sameAnswers(t, "converted", want, answersOfAll(t, e))
	if again := apply(t, e, byol(t)); !strings.HasPrefix(ops(again), "NO_CHANGE related:NO_CHANGE NO_CHANGE") {
		t.Fatalf("the converted store answers differently: %s", ops(again))
	}
	e.Close()

	// Once: the next open converts nothing.
	e, err = engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if len(e.Notices()) != 0 {
		t.Fatalf("second open: %q", e.Notices())
	}
	var format []byte
	if err := e.Store().View(func(r store.Reader) (err error) { format, err = r.Get(store.RecordFormatKey()); return err }); err != nil || string(format) != store.RecordFormat {
		t.Fatalf("record format %q (%v), want %q", format, err, store.RecordFormat)
	}
}
