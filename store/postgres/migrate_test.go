package postgres_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/postgres"
	"github.com/irego/irego/store/storetest"
)

// TestMigrateJSONRecords: a PostgreSQL store whose records an older
// version wrote as JSON is converted once when an engine opens it, and
// reads as before.
func TestMigrateJSONRecords(t *testing.T) {
	dsn := pgtest.DSN(t)
	open := func() *engine.Engine {
		t.Helper()
		st, err := postgres.Open(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.Open("", engine.Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := open()
	body, err := os.ReadFile("../../examples/byol-dedicated-vm.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := payload.DecodeBytes(body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), "ServiceNow", p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	id := res.Items[0].SysID
	read := func(e *engine.Engine) string {
		ci, err := e.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(ci)
		return string(b)
	}
	want := read(e)
	n := storetest.AsJSONRecords(t, e.Store())
	e.Close()

	e = open()
	defer e.Close()
	if j, b := storetest.RecordFormats(t, e.Store()); j != 0 || b != n {
		t.Fatalf("after open: %d JSON and %d binary records, want 0 and %d", j, b, n)
	}
	if got := read(e); got != want {
		t.Fatalf("converted CI reads\n%s\nwant\n%s", got, want)
	}
	if problems, err := e.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %q", err, problems)
	}
	var format []byte
	if err := e.Store().View(func(r store.Reader) (err error) { format, err = r.Get(store.RecordFormatKey()); return err }); err != nil || string(format) != store.RecordFormat {
		t.Fatalf("record format %q (%v), want %q", format, err, store.RecordFormat)
	}
}
