package store_test

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

// The binary encodings of the values written per CI besides its record:
// for each, decode(encode(x)) == x, the encoding is deterministic and not
// JSON, and the JSON older versions stored reads the same.

// codec is one value type's encoder and decoder, for the shared checks.
type codec[T any] struct {
	name   string
	gen    func(*rapid.T) T
	encode func(T) ([]byte, error)
	decode func([]byte) (T, error)
	// jsonSafe drops from x what JSON cannot hold or reads back otherwise.
	jsonSafe func(T) T
}

// genID draws a sys_id as the engine makes them, or any other string.
func genID(t *rapid.T, label string) string {
	if rapid.IntRange(0, 3).Draw(t, label+"_hex") > 0 {
		return rapid.StringMatching(`[0-9a-f]{32}`).Draw(t, label)
	}
	return rapid.String().Draw(t, label)
}

// genStrings draws a list, nil among them.
func genStrings(t *rapid.T, label string) []string {
	n := rapid.IntRange(-1, 3).Draw(t, label+"_n")
	if n < 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = rapid.String().Draw(t, label)
	}
	return out
}

func genEdge(t *rapid.T) *store.Edge {
	return &store.Edge{SysID: genID(t, "sys_id"), Type: rapid.String().Draw(t, "type"), Parent: genID(t, "parent"),
		Child: genID(t, "child"), Source: rapid.String().Draw(t, "source"), Created: genTime(t, "created")}
}

func genSourceInfo(t *rapid.T) *store.SourceInfo {
	si := &store.SourceInfo{Source: rapid.String().Draw(t, "source"), LastScan: genTime(t, "last_scan"),
		Name: rapid.String().Draw(t, "name"), NativeKey: rapid.String().Draw(t, "native_key"),
		Feed: rapid.String().Draw(t, "feed"), Recency: rapid.String().Draw(t, "recency")}
	if rapid.Bool().Draw(t, "with_report") {
		si.Report = genLastReport(t)
	}
	return si
}

func genMasked(t *rapid.T) []store.MaskedValue {
	n := rapid.IntRange(-1, 3).Draw(t, "masked_n")
	if n < 0 {
		return nil
	}
	out := make([]store.MaskedValue, n)
	for i := range out {
		out[i] = store.MaskedValue{Attribute: rapid.String().Draw(t, "attribute"), Source: rapid.String().Draw(t, "source"),
			Value: rapid.String().Draw(t, "value"), Null: rapid.Bool().Draw(t, "null"), At: genTime(t, "at"), Reason: rapid.String().Draw(t, "reason")}
	}
	return out
}

func genLastReport(t *rapid.T) *store.LastReport {
	r := &store.LastReport{At: genTime(t, "at"), Source: rapid.String().Draw(t, "source"),
		Operation: rapid.SampledFrom([]string{"INSERT", "UPDATE", "NO_CHANGE", "UPDATE_WITH_UPGRADE", "other"}).Draw(t, "op"),
		Entry:     genID(t, "entry"), Masked: genMasked(t), Omitted: rapid.IntRange(-2, 1000).Draw(t, "omitted")}
	if n := rapid.IntRange(-1, 4).Draw(t, "attempts_n"); n >= 0 {
		r.Attempts = make([]store.ReportAttempt, n)
		for i := range r.Attempts {
			r.Attempts[i] = store.ReportAttempt{Entry: rapid.String().Draw(t, "entry"), Attributes: genStrings(t, "attributes"),
				Result: rapid.SampledFrom([]string{"MATCHED", "NO_MATCH", "SKIPPED", "MULTI_MATCH", ""}).Draw(t, "result"),
				Info:   rapid.String().Draw(t, "info")}
		}
	}
	return r
}

func genValueChanges(t *rapid.T) map[string]store.ValueChange {
	if rapid.IntRange(0, 9).Draw(t, "attributes_nil") == 0 {
		return nil
	}
	m := map[string]store.ValueChange{}
	for range rapid.IntRange(0, 5).Draw(t, "attributes_n") {
		m[rapid.String().Draw(t, "attr")] = store.ValueChange{Before: genValue(t, "before"), After: genValue(t, "after")}
	}
	return m
}

func genChange(t *rapid.T) *store.Change {
	c := &store.Change{At: genTime(t, "at"), Source: rapid.String().Draw(t, "source"), Op: rapid.String().Draw(t, "op"),
		Class: rapid.String().Draw(t, "class"), ClassBefore: rapid.String().Draw(t, "class_before"), Attributes: genValueChanges(t)}
	if n := rapid.IntRange(-1, 3).Draw(t, "merged_n"); n >= 0 {
		c.Merged = make([]string, n)
		for i := range c.Merged {
			c.Merged[i] = genID(t, "merged")
		}
	}
	return c
}

func genReports(t *rapid.T) *store.Reports {
	r := &store.Reports{}
	if rapid.IntRange(0, 9).Draw(t, "values_nil") > 0 {
		r.Values = map[string]store.Report{}
		for range rapid.IntRange(0, 5).Draw(t, "values_n") {
			r.Values[rapid.String().Draw(t, "attr")] = store.Report{Value: genValue(t, "value"), At: genTime(t, "at")}
		}
	}
	return r
}

// jsonFloat reports whether JSON keeps f as a float64.
func jsonFloat(v any) bool {
	f, ok := v.(float64)
	return !ok || !(math.IsInf(f, 0) || math.IsNaN(f) || f == math.Trunc(f))
}

var (
	edgeCodec = codec[*store.Edge]{name: "edge", gen: genEdge, encode: store.EncodeEdge, decode: store.DecodeEdge,
		jsonSafe: func(e *store.Edge) *store.Edge { return e }}
	sourceInfoCodec = codec[*store.SourceInfo]{name: "source info", gen: genSourceInfo, encode: store.EncodeSourceInfo, decode: store.DecodeSourceInfo,
		jsonSafe: func(s *store.SourceInfo) *store.SourceInfo {
			s.Report = nil // older versions kept it under a key of its own
			return s
		}}
	lastReportCodec = codec[*store.LastReport]{name: "last report", gen: genLastReport, encode: store.EncodeLastReport, decode: store.DecodeLastReport,
		jsonSafe: func(r *store.LastReport) *store.LastReport {
			if len(r.Masked) == 0 {
				r.Masked = nil // omitempty
			}
			return r
		}}
	maskedCodec = codec[[]store.MaskedValue]{name: "masked values", gen: genMasked, encode: store.EncodeMasked, decode: store.DecodeMasked,
		jsonSafe: func(m []store.MaskedValue) []store.MaskedValue { return m }}
	changeCodec = codec[*store.Change]{name: "history entry", gen: genChange, encode: store.EncodeChange, decode: store.DecodeChange,
		jsonSafe: func(c *store.Change) *store.Change {
			for k, vc := range c.Attributes {
				if !jsonFloat(vc.Before) || !jsonFloat(vc.After) {
					delete(c.Attributes, k)
				}
			}
			if len(c.Merged) == 0 {
				c.Merged = nil // omitempty
			}
			return c
		}}
	reportsCodec = codec[*store.Reports]{name: "reports", gen: genReports, encode: store.EncodeReports, decode: store.DecodeReports,
		jsonSafe: func(r *store.Reports) *store.Reports {
			for k, v := range r.Values {
				if !jsonFloat(v.Value) {
					delete(r.Values, k)
				}
			}
			return r
		}}
)

// equalNaN compares values treating NaN as equal to itself.
var equalNaN = cmp.Comparer(func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) })

func (c codec[T]) roundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := c.gen(t)
		b, err := c.encode(x)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 || b[0] == '{' || b[0] == '[' || b[0] == 'n' {
			t.Fatalf("a binary %s starts like JSON: % x", c.name, b[:min(8, len(b))])
		}
		got, err := c.decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(x, got, equalNaN); d != "" {
			t.Fatalf("decode(encode(%s)) differs (-want +got):\n%s", c.name, d)
		}
		again, err := c.encode(got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, again) {
			t.Fatalf("the encoding of a %s depends on more than its value (map order?)", c.name)
		}
	})
}

func (c codec[T]) readsJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := c.jsonSafe(c.gen(t))
		j, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.decode(j)
		if err != nil {
			t.Fatalf("the JSON older versions stored: %v\n%s", err, j)
		}
		if d := cmp.Diff(x, got, equalNaN); d != "" {
			t.Fatalf("a %s stored as JSON reads otherwise (-want +got):\n%s", c.name, d)
		}
	})
}

// corrupt: every cut of an encoding, and a trailing byte, is an error that
// names the value, never a panic nor a value.
func (c codec[T]) corrupt(t *testing.T, x T) {
	good, err := c.encode(x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range good {
		if _, err := c.decode(good[:i]); err == nil {
			t.Fatalf("a %s cut to %d of %d bytes decoded", c.name, i, len(good))
		} else if !strings.Contains(err.Error(), "corrupt "+c.name) {
			t.Fatalf("a %s cut to %d bytes: %v", c.name, i, err)
		}
	}
	if _, err := c.decode(append(good, 0)); err == nil {
		t.Fatalf("a %s with a trailing byte decoded", c.name)
	}
}

// fuzz: no input makes the decoder panic, and what it accepts encodes and
// decodes to itself.
func (c codec[T]) fuzz(f *testing.F, seeds ...T) {
	for _, x := range seeds {
		b, err := c.encode(x)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		j, _ := json.Marshal(x)
		f.Add(j)
	}
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := c.decode(b)
		if err != nil {
			return
		}
		again, err := c.encode(x)
		if err != nil {
			return // JSON may hold a value the binary form refuses (none known)
		}
		y, err := c.decode(again)
		if err != nil {
			t.Fatalf("a re-encoded %s does not decode: %v", c.name, err)
		}
		if d := cmp.Diff(x, y, equalNaN); d != "" {
			t.Fatalf("a re-encoded %s differs (-first +second):\n%s", c.name, d)
		}
	})
}

var (
	seedTime       = time.Date(2026, 11, 29, 12, 0, 0, 5, time.UTC)
	seedEdge       = &store.Edge{SysID: "0123456789abcdef0123456789abcdef", Type: "Runs on::Runs", Parent: "00000000000000000000000000000001", Child: "not-hex", Source: "SCCM", Created: seedTime}
	seedSourceInfo = &store.SourceInfo{Source: "SCCM", LastScan: seedTime, Name: "SCCM", NativeKey: "k-1", Feed: "f", Recency: "2026-01-01 00:00:00"}
	seedMasked     = []store.MaskedValue{{Attribute: "ram", Source: "SCCM", Value: "4", At: seedTime, Reason: "lower priority"}, {Attribute: "name", Null: true}}
	seedLastReport = &store.LastReport{At: seedTime, Source: "SCCM", Operation: "UPDATE", Entry: "0123456789abcdef0123456789abcdef",
		Attempts: []store.ReportAttempt{{Entry: "Hardware Rule", Attributes: []string{"serial_number"}, Result: "MATCHED", Info: "i"}, {Attributes: []string{}}},
		Masked:   seedMasked, Omitted: 3}
	seedChange = &store.Change{At: seedTime, Source: "SCCM", Op: "UPDATE", Class: "cmdb_ci_linux_server", ClassBefore: "cmdb_ci_computer",
		Attributes: map[string]store.ValueChange{"ram": {Before: int64(4), After: int64(8)}, "gone": {Before: "x"}, "f": {After: 1.5}, "b": {Before: true, After: false}},
		Merged:     []string{"0123456789abcdef0123456789abcdef"}}
	seedReports = &store.Reports{Values: map[string]store.Report{"ram": {Value: int64(4), At: seedTime}, "name": {Value: "a", At: seedTime}, "z": {}}}
)

func TestEdgeCodec(t *testing.T) {
	edgeCodec.roundTrip(t)
	edgeCodec.readsJSON(t)
	edgeCodec.corrupt(t, seedEdge)
}

func TestSourceInfoCodec(t *testing.T) {
	sourceInfoCodec.roundTrip(t)
	sourceInfoCodec.readsJSON(t)
	sourceInfoCodec.corrupt(t, seedSourceInfo)
	withReport := *seedSourceInfo
	withReport.Report = seedLastReport
	sourceInfoCodec.corrupt(t, &withReport)
}

// A source info in the binary form of the previous version (format 1, no
// report) still reads.
func TestSourceInfoOfThePreviousVersionReads(t *testing.T) {
	b, err := store.EncodeSourceInfo(&store.SourceInfo{Source: "SCCM", LastScan: seedTime, Name: "SCCM", NativeKey: "k-1", Feed: "f", Recency: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 2 || b[len(b)-1] != 0 {
		t.Fatalf("format %d, last byte %d: want format 2 ending in 0 (no report)", b[0], b[len(b)-1])
	}
	old := append([]byte{1}, b[1:len(b)-1]...)
	si, err := store.DecodeSourceInfo(old)
	if err != nil {
		t.Fatal(err)
	}
	if si.Source != "SCCM" || si.Recency != "r" || !si.LastScan.Equal(seedTime) || si.Report != nil {
		t.Errorf("read %+v", si)
	}
	if _, err := store.DecodeSourceInfo(append(old, 0)); err == nil {
		t.Error("a format-1 source info with a trailing byte decoded")
	}
}

func TestLastReportCodec(t *testing.T) {
	lastReportCodec.roundTrip(t)
	lastReportCodec.readsJSON(t)
	lastReportCodec.corrupt(t, seedLastReport)
}

func TestMaskedCodec(t *testing.T) {
	maskedCodec.roundTrip(t)
	maskedCodec.readsJSON(t)
	maskedCodec.corrupt(t, seedMasked)
}

func TestChangeCodec(t *testing.T) {
	changeCodec.roundTrip(t)
	changeCodec.readsJSON(t)
	changeCodec.corrupt(t, seedChange)
}

func TestReportsCodec(t *testing.T) {
	reportsCodec.roundTrip(t)
	reportsCodec.readsJSON(t)
	reportsCodec.corrupt(t, seedReports)
}

// The binary forms are smaller than the JSON they replace.
func TestItemCodecsSmallerThanJSON(t *testing.T) {
	for name, x := range map[string]any{"edge": seedEdge, "source info": seedSourceInfo, "last report": seedLastReport,
		"masked values": seedMasked, "history entry": seedChange, "reports": seedReports} {
		var b []byte
		var err error
		switch v := x.(type) {
		case *store.Edge:
			b, err = store.EncodeEdge(v)
		case *store.SourceInfo:
			b, err = store.EncodeSourceInfo(v)
		case *store.LastReport:
			b, err = store.EncodeLastReport(v)
		case []store.MaskedValue:
			b, err = store.EncodeMasked(v)
		case *store.Change:
			b, err = store.EncodeChange(v)
		case *store.Reports:
			b, err = store.EncodeReports(v)
		}
		if err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(x)
		if len(b) >= len(j) {
			t.Errorf("%s: %d bytes binary, %d as JSON", name, len(b), len(j))
		}
	}
}

func FuzzDecodeEdge(f *testing.F)       { edgeCodec.fuzz(f, &store.Edge{}, seedEdge) }
func FuzzDecodeSourceInfo(f *testing.F) { sourceInfoCodec.fuzz(f, &store.SourceInfo{}, seedSourceInfo) }
func FuzzDecodeLastReport(f *testing.F) { lastReportCodec.fuzz(f, &store.LastReport{}, seedLastReport) }
func FuzzDecodeMasked(f *testing.F)     { maskedCodec.fuzz(f, nil, seedMasked) }
func FuzzDecodeChange(f *testing.F)     { changeCodec.fuzz(f, &store.Change{}, seedChange) }
func FuzzDecodeReports(f *testing.F)    { reportsCodec.fuzz(f, &store.Reports{}, seedReports) }

// The key of an edge under its child leads to its key under its parent.
func TestOutKeyOfIn(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		child := rapid.StringMatching(`[0-9a-f]{32}`).Draw(t, "child")
		relType := rapid.StringMatching(`[^\x00]*`).Draw(t, "type")
		parent := rapid.String().Draw(t, "parent")
		in := store.InKey(child, relType, parent)
		want := store.OutKey(parent, relType, child)
		if got, ok := store.OutKeyOfIn(child, in); !ok || !bytes.Equal(got, want) {
			t.Fatalf("OutKeyOfIn = %q, %v; want %q", got, ok, want)
		}
		if got, ok := store.OutKeyOfAnyIn(in); !ok || !bytes.Equal(got, want) {
			t.Fatalf("OutKeyOfAnyIn = %q, %v; want %q", got, ok, want)
		}
		if _, ok := store.OutKeyOfIn(child[1:], in); ok {
			t.Fatal("a key under another CI read as the child's")
		}
	})
	for _, k := range []string{"", "v1/in/", "v1/in/abc", "v1/in/abc/type-without-nul", "v1/out/a/t\x00b"} {
		if _, ok := store.OutKeyOfAnyIn([]byte(k)); ok {
			t.Errorf("%q read as a relation key", k)
		}
	}
}
