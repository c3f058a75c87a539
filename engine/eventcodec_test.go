package engine

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/irego/irego/store"
)

// The stored form of change events: decode(encode(ev)) == ev, the wire
// form (JSON) of a decoded event is the original's byte for byte, and
// events older versions stored as JSON read the same.

func genEventValue(t *rapid.T, label string) any {
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
	return rapid.SampledFrom([]float64{math.Inf(1), math.NaN(), math.Copysign(0, -1), 0}).Draw(t, label)
}

func genEventID(t *rapid.T, label string) string {
	if rapid.Bool().Draw(t, label+"_hex") {
		return rapid.StringMatching(`[0-9a-f]{32}`).Draw(t, label)
	}
	return rapid.String().Draw(t, label)
}

func genEvent(t *rapid.T) (*Event, uint64) {
	seq := rapid.Uint64Range(1, math.MaxUint64).Draw(t, "seq")
	place := rapid.Uint64Range(0, min(seq-1, 1000)).Draw(t, "place")
	ev := &Event{Seq: seq, Commit: seq - place,
		At:     time.Unix(rapid.Int64Range(-62135596800, 253402300799).Draw(t, "at"), rapid.Int64Range(0, 999_999_999).Draw(t, "ns")).UTC(),
		Source: rapid.String().Draw(t, "source"), Op: rapid.SampledFrom([]string{"INSERT", "UPDATE", "RETIRE", "DELETE", "", "OTHER"}).Draw(t, "op"),
		SysID: genEventID(t, "sys_id"), Class: rapid.String().Draw(t, "class"), ClassBefore: rapid.String().Draw(t, "class_before"),
		Scope: genEventID(t, "scope"), Related: rapid.Bool().Draw(t, "related"), Retired: rapid.Bool().Draw(t, "retired")}
	if rapid.IntRange(0, 9).Draw(t, "values_nil") > 0 {
		ev.Values = map[string]any{}
		for range rapid.IntRange(0, 6).Draw(t, "values_n") {
			ev.Values[rapid.String().Draw(t, "attr")] = genEventValue(t, "value")
		}
	}
	switch rapid.IntRange(0, 3).Draw(t, "attributes_kind") {
	case 0: // none
	case 1: // an insert's
		ev.Attributes = map[string]store.ValueChange{}
		for k, v := range ev.Values {
			ev.Attributes[k] = store.ValueChange{After: v}
		}
	case 2: // an update's: some values changed, some removed
		ev.Attributes = map[string]store.ValueChange{}
		for k, v := range ev.Values {
			if rapid.Bool().Draw(t, "changed") {
				ev.Attributes[k] = store.ValueChange{Before: genEventValue(t, "before"), After: v}
			}
		}
		for range rapid.IntRange(0, 2).Draw(t, "removed_n") {
			ev.Attributes[rapid.String().Draw(t, "removed")] = store.ValueChange{Before: genEventValue(t, "before")}
		}
	default: // anything
		ev.Attributes = map[string]store.ValueChange{}
		for range rapid.IntRange(0, 4).Draw(t, "attributes_n") {
			ev.Attributes[rapid.String().Draw(t, "attr")] = store.ValueChange{Before: genEventValue(t, "before"), After: genEventValue(t, "after")}
		}
	}
	if n := rapid.IntRange(-1, 3).Draw(t, "relations_n"); n >= 0 {
		ev.Relations = make([]RelationChange, n)
		for i := range ev.Relations {
			ev.Relations[i] = RelationChange{Type: rapid.String().Draw(t, "type"), Child: genEventID(t, "child"), Removed: rapid.Bool().Draw(t, "removed")}
		}
	}
	if n := rapid.IntRange(-1, 3).Draw(t, "related_n"); n >= 0 {
		ev.RelatedRecords = make([]string, n)
		for i := range ev.RelatedRecords {
			ev.RelatedRecords[i] = genEventID(t, "related_record")
		}
	}
	return ev, place
}

var equalNaN = cmp.Comparer(func(x, y float64) bool {
	return math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
})

func TestEventCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ev, place := genEvent(t)
		b, err := encodeEvent(ev, place)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] == '{' {
			t.Fatal("a binary event starts like JSON")
		}
		got, err := decodeEvent(store.EventKey(ev.Seq), b)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(ev, got, equalNaN); d != "" {
			t.Fatalf("decode(encode(event)) differs (-want +got):\n%s", d)
		}
		again, err := encodeEvent(got, place)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, again) {
			t.Fatal("the encoding of an event depends on more than the event (map order?)")
		}
		// What followers and the events API send is unchanged.
		want, errW := json.Marshal(ev)
		wire, errG := json.Marshal(got)
		if (errW == nil) != (errG == nil) || !bytes.Equal(want, wire) {
			t.Fatalf("wire form changed:\nwant %s (%v)\ngot  %s (%v)", want, errW, wire, errG)
		}
	})
}

// TestEventCodecReadsJSON: events older versions stored as JSON read as
// they were written.
func TestEventCodecReadsJSON(t *testing.T) {
	jsonSafe := func(v any) bool {
		f, ok := v.(float64)
		return !ok || !(math.IsInf(f, 0) || math.IsNaN(f) || f == math.Trunc(f))
	}
	rapid.Check(t, func(t *rapid.T) {
		ev, _ := genEvent(t)
		for k, v := range ev.Values {
			if !jsonSafe(v) {
				delete(ev.Values, k)
			}
		}
		for k, vc := range ev.Attributes {
			if !jsonSafe(vc.Before) || !jsonSafe(vc.After) {
				delete(ev.Attributes, k)
			}
		}
		if len(ev.Relations) == 0 {
			ev.Relations = nil // omitempty
		}
		if len(ev.RelatedRecords) == 0 {
			ev.RelatedRecords = nil
		}
		j, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEvent(store.EventKey(ev.Seq), j)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(ev, got); d != "" {
			t.Fatalf("a JSON event reads otherwise (-want +got):\n%s", d)
		}
		at, err := eventAt(j)
		if err != nil || !at.Equal(ev.At) {
			t.Fatalf("eventAt of JSON: %v, %v; want %v", at, err, ev.At)
		}
		b, err := encodeEvent(ev, ev.Seq-ev.Commit)
		if err != nil {
			t.Fatal(err)
		}
		if at, err := eventAt(b); err != nil || !at.Equal(ev.At) {
			t.Fatalf("eventAt of binary: %v, %v; want %v", at, err, ev.At)
		}
	})
}

// An insert's attributes are its values: stored once, the event is
// smaller than its JSON by more than half.
func TestEventCodecStoresAnInsertsValuesOnce(t *testing.T) {
	ev := &Event{Seq: 7, Commit: 7, At: time.Date(2026, 11, 30, 9, 0, 0, 1, time.UTC), Source: "ServiceNow", Op: "INSERT",
		SysID: "0123456789abcdef0123456789abcdef", Class: "cmdb_ci_computer",
		Values: map[string]any{"name": "comp-1", "cpu_count": int64(2), "ram": int64(16384), "virtual": true}}
	ev.Attributes = map[string]store.ValueChange{}
	for k, v := range ev.Values {
		ev.Attributes[k] = store.ValueChange{After: v}
	}
	b, err := encodeEvent(ev, 0)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(ev)
	if 2*len(b) > len(j) {
		t.Fatalf("%d bytes binary, %d as JSON", len(b), len(j))
	}
}

func TestEventCodecCorrupt(t *testing.T) {
	ev := &Event{Seq: 9, Commit: 8, At: time.Unix(5, 6).UTC(), Source: "s", Op: "UPDATE", SysID: "0123456789abcdef0123456789abcdef",
		Class: "c", Values: map[string]any{"a": "x", "b": int64(1)},
		Attributes: map[string]store.ValueChange{"a": {Before: "y", After: "x"}, "c": {Before: 1.5}},
		Relations:  []RelationChange{{Type: "t", Child: "0123456789abcdef0123456789abcdef"}}, RelatedRecords: []string{"r"}}
	good, err := encodeEvent(ev, 1)
	if err != nil {
		t.Fatal(err)
	}
	k := store.EventKey(ev.Seq)
	for i := range good {
		if _, err := decodeEvent(k, good[:i]); err == nil {
			t.Fatalf("an event cut to %d of %d bytes decoded", i, len(good))
		} else if !strings.Contains(err.Error(), "corrupt event 9") {
			t.Fatalf("cut to %d bytes: %v", i, err)
		}
	}
	if _, err := decodeEvent(k, append(good, 0)); err == nil {
		t.Fatal("an event with a trailing byte decoded")
	}
	// Its place in the commit cannot be past its number.
	if _, err := decodeEvent(store.EventKey(0), good); err == nil || !strings.Contains(err.Error(), "commit") {
		t.Fatalf("event 0, second of its commit: %v", err)
	}
}

// FuzzDecodeEvent: no stored event makes the decoder panic, and what it
// accepts encodes and decodes to itself, with the same wire form.
func FuzzDecodeEvent(f *testing.F) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 5, time.UTC)
	for _, ev := range []*Event{
		{Seq: 1, Commit: 1},
		{Seq: 12, Commit: 10, At: at, Source: "SCCM", Op: "UPDATE", SysID: "0123456789abcdef0123456789abcdef", Class: "cmdb_ci_computer",
			Values:     map[string]any{"name": "a", "n": int64(-3), "f": 1.5, "b": true, "z": nil},
			Attributes: map[string]store.ValueChange{"n": {Before: int64(2), After: int64(-3)}, "gone": {Before: "x"}},
			Relations:  []RelationChange{{Type: "Runs on::Runs", Child: "00000000000000000000000000000001", Removed: true}}, RelatedRecords: []string{"x"}},
		{Seq: 3, Commit: 3, At: at, Op: "INSERT", Values: map[string]any{"a": "b"}, Attributes: map[string]store.ValueChange{"a": {After: "b"}}},
	} {
		b, err := encodeEvent(ev, ev.Seq-ev.Commit)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ev.Seq, b)
		j, _ := json.Marshal(ev)
		f.Add(ev.Seq, j)
	}
	f.Fuzz(func(t *testing.T, seq uint64, b []byte) {
		ev, err := decodeEvent(store.EventKey(seq), b)
		if err != nil {
			if ev != nil {
				t.Fatal("an event and an error")
			}
			return
		}
		_, _ = eventAt(b)
		if ev.Commit > ev.Seq {
			return // a JSON event may say so; the binary form cannot
		}
		again, err := encodeEvent(ev, ev.Seq-ev.Commit)
		if err != nil {
			return
		}
		ev2, err := decodeEvent(store.EventKey(ev.Seq), again)
		if err != nil {
			t.Fatalf("a re-encoded event does not decode: %v", err)
		}
		if d := cmp.Diff(ev, ev2, equalNaN); d != "" {
			t.Fatalf("a re-encoded event differs (-first +second):\n%s", d)
		}
	})
}
