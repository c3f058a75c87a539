package store_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/irego/irego/store"
)

// genTime draws an instant in UTC, the zero time among them, as the engine
// stores them.
func genTime(t *rapid.T, label string) time.Time {
	if rapid.Bool().Draw(t, label+"_zero") {
		return time.Time{}
	}
	// Years 1 to 9999, what JSON records could hold.
	sec := rapid.Int64Range(-62135596800, 253402300799).Draw(t, label+"_sec")
	ns := rapid.Int64Range(0, 999_999_999).Draw(t, label+"_ns")
	return time.Unix(sec, ns).UTC()
}

func genValue(t *rapid.T, label string) any {
	switch rapid.IntRange(0, 5).Draw(t, label+"_type") {
	case 0:
		return rapid.String().Draw(t, label)
	case 1:
		return rapid.Bool().Draw(t, label)
	case 2:
		return rapid.Int64().Draw(t, label)
	case 3:
		return rapid.Float64().Draw(t, label)
	case 4:
		return nil
	}
	return rapid.SampledFrom([]float64{math.Inf(1), math.Inf(-1), math.MaxFloat64, -0.5}).Draw(t, label)
}

func genRecord(t *rapid.T) *store.Record {
	keys := func(label string) [][]byte {
		n := rapid.IntRange(0, 3).Draw(t, label+"_n")
		if n == 0 {
			return nil
		}
		out := make([][]byte, n)
		for i := range out {
			out[i] = rapid.SliceOf(rapid.Byte()).Draw(t, label)
		}
		return out
	}
	r := &store.Record{
		SysID: rapid.StringMatching(`[0-9a-f]{32}`).Draw(t, "sys_id"),
		Class: rapid.String().Draw(t, "class"), Scope: rapid.String().Draw(t, "scope"),
		Related: rapid.Bool().Draw(t, "related"), Source: rapid.String().Draw(t, "source"),
		Created: genTime(t, "created"), Updated: genTime(t, "updated"),
		FirstDiscovered: genTime(t, "first"), LastDiscovered: genTime(t, "last"),
		IdentityKeys: keys("identity_keys"), IndexKeys: keys("index_keys"),
		Retired: rapid.Bool().Draw(t, "retired"), Version: rapid.Uint64().Draw(t, "version"),
	}
	if rapid.IntRange(0, 9).Draw(t, "values_nil") > 0 {
		r.Values = map[string]any{}
		for range rapid.IntRange(0, 8).Draw(t, "values_n") {
			r.Values[rapid.String().Draw(t, "attr")] = genValue(t, "value")
		}
	}
	if n := rapid.IntRange(0, 4).Draw(t, "owners_n"); n > 0 {
		r.Owners = map[string]string{}
		for range n {
			r.Owners[rapid.String().Draw(t, "owned")] = rapid.String().Draw(t, "owner")
		}
	}
	return r
}

// equalRecords compares records treating NaN as equal to itself.
func equalRecords(a, b *store.Record) string {
	return cmp.Diff(a, b, cmp.Comparer(func(x, y float64) bool {
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	}))
}

func TestRecordCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRecord(t)
		b, err := store.EncodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if store.IsJSONRecord(b) {
			t.Fatalf("a binary record reads as JSON: % x", b[:min(8, len(b))])
		}
		got, err := store.DecodeRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		if d := equalRecords(r, got); d != "" {
			t.Fatalf("decode(encode(r)) != r (-want +got):\n%s", d)
		}
		again, err := store.EncodeRecord(got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, again) {
			t.Fatal("the encoding of a record depends on more than the record (map order?)")
		}
		// Moving last_discovered in the stored bytes is the same as
		// encoding the record with it moved.
		last := genTime(t, "new_last")
		patched, ok := store.WithLastDiscovered(b, last)
		if !ok {
			t.Fatal("WithLastDiscovered refused a binary record")
		}
		moved := *r
		moved.LastDiscovered = last
		want, err := store.EncodeRecord(&moved)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(patched, want) {
			t.Fatal("WithLastDiscovered differs from encoding the record with the new time")
		}
	})
}

// TestRecordCodecReadsJSON: records older versions stored as JSON read
// the same as their binary encoding, and are told apart from it.
func TestRecordCodecReadsJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRecord(t)
		for k, v := range r.Values {
			if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f) || f == math.Trunc(f)) {
				delete(r.Values, k) // JSON cannot hold them, or reads them back as integers
			}
		}
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if !store.IsJSONRecord(j) {
			t.Fatal("a JSON record is not recognised as one")
		}
		if _, ok := store.WithLastDiscovered(j, time.Now()); ok {
			t.Fatal("WithLastDiscovered patched a JSON record")
		}
		fromJSON, err := store.DecodeRecord(j)
		if err != nil {
			t.Fatal(err)
		}
		if d := equalRecords(r, fromJSON); d != "" {
			t.Fatalf("JSON record (-want +got):\n%s", d)
		}
	})
}

func TestRecordCodecOtherValues(t *testing.T) {
	r := &store.Record{SysID: "x", Values: map[string]any{"list": []any{"a", int64(2)}, "n": 7}}
	b, err := store.EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := store.DecodeRecord(j)
	if err != nil {
		t.Fatal(err)
	}
	if want := fromJSON.Values; !reflect.DeepEqual(got.Values, want) {
		t.Fatalf("values %#v, want %#v (as the JSON records kept them)", got.Values, want)
	}
	if _, err := store.EncodeRecord(&store.Record{SysID: "y", Values: map[string]any{"c": make(chan int)}}); err == nil || !strings.Contains(err.Error(), "attribute c") {
		t.Fatalf("an unencodable value: err %v, want one naming the attribute", err)
	}
}

func TestRecordCodecCorrupt(t *testing.T) {
	good, err := store.EncodeRecord(&store.Record{SysID: "0123", Class: "cmdb_ci", Values: map[string]any{"name": "a"}, IdentityKeys: [][]byte{[]byte("k")}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range good {
		if _, err := store.DecodeRecord(good[:i]); err == nil {
			t.Fatalf("a record cut to %d of %d bytes decoded", i, len(good))
		} else if !strings.Contains(err.Error(), "corrupt record") {
			t.Fatalf("cut to %d bytes: %v", i, err)
		}
	}
	if _, err := store.DecodeRecord(append(good, 0)); err == nil {
		t.Fatal("a record with a trailing byte decoded")
	}
}

// FuzzDecodeRecord: no input makes the record decoder panic, and what it
// accepts encodes and decodes to itself.
func FuzzDecodeRecord(f *testing.F) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 5, time.UTC)
	for _, r := range []*store.Record{
		{},
		{SysID: "0123456789abcdef0123456789abcdef", Class: "cmdb_ci_computer", Values: map[string]any{"name": "a", "n": int64(-3), "f": 1.5, "b": true, "z": nil},
			Source: "SCCM", Created: now, Updated: now, LastDiscovered: now, IdentityKeys: [][]byte{[]byte("v1/id/x")}, Owners: map[string]string{"name": "SCCM"}, Version: 9, Related: true},
	} {
		b, err := store.EncodeRecord(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		j, _ := json.Marshal(r)
		f.Add(j)
	}
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := store.DecodeRecord(b)
		if err != nil {
			if r != nil {
				t.Fatal("a record and an error")
			}
			return
		}
		again, err := store.EncodeRecord(r)
		if err != nil {
			return // a JSON record may hold what the binary format refuses (none known)
		}
		r2, err := store.DecodeRecord(again)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if d := equalRecords(r, r2); d != "" {
			t.Fatalf("re-encoded record differs (-first +second):\n%s", d)
		}
	})
}
