package storetest

import (
	"encoding/json"
	"testing"

	"github.com/irego/irego/store"
)

// AsJSONRecords rewrites every CI record of st in the JSON format that
// versions before the binary record codec wrote, and removes the record
// format the store notes, leaving st as such a version left it: for tests
// of the migration from JSON records.
func AsJSONRecords(t testing.TB, st store.Store) int {
	t.Helper()
	type kv struct{ k, v []byte }
	var recs []kv
	err := st.View(func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(k, v []byte) error {
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			j, err := json.Marshal(rec)
			recs = append(recs, kv{append([]byte(nil), k...), j})
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	txn := st.NewTxn()
	defer txn.Discard()
	for _, x := range recs {
		if err := txn.Set(x.k, x.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Delete(store.RecordFormatKey()); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// RecordFormats counts the CI records of st in the JSON and the binary
// format.
func RecordFormats(t testing.TB, st store.Store) (jsonRecords, binaryRecords int) {
	t.Helper()
	err := st.View(func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			if store.IsJSONRecord(v) {
				jsonRecords++
			} else {
				binaryRecords++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return jsonRecords, binaryRecords
}
