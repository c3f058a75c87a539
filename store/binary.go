package store

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// The building blocks of the binary formats: the record's (codec.go), the
// other per-CI values' (edges, source info, last reports, history,
// reports) and the engine's change events. Each stored value starts with
// formatBinary, a byte JSON never starts with, so a reader tells it from
// the JSON older versions wrote and reads both.
//
//	string   uvarint length, bytes
//	id       a sys_id: 0 then 16 bytes when it is 32 lowercase hex digits,
//	         else uvarint length+1, bytes
//	time     zigzag varint Unix seconds, uvarint nanoseconds (UTC)
//	value    a type byte, then the value (codec.go)
//	values   uvarint count+1 (0: no map), then per attribute by name: string, value
//	strings  uvarint count+1 (0: no list), then each string (ids: each id)
//	bool     1 byte, 0 or 1

// AppendString appends s in the binary formats' string form.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// AppendID appends a sys_id, packed to 16 bytes when it is 32 lowercase
// hex digits (as the engine makes them); any other string is kept as is.
func AppendID(b []byte, s string) []byte {
	if isPackedID(s) {
		b = append(b, 0)
		var raw [16]byte
		hex.Decode(raw[:], []byte(s))
		return append(b, raw[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(s))+1)
	return append(b, s...)
}

func isPackedID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// AppendTime appends an instant; it reads back in UTC.
func AppendTime(b []byte, t time.Time) []byte { return appendTime(b, t) }

// AppendValue appends a canonical value (string, bool, int64, float64 or
// nil); any other value is kept as the JSON it encodes to.
func AppendValue(b []byte, v any) ([]byte, error) { return appendValue(b, v) }

// AppendValues appends a map of attribute values, in name order; a nil map
// reads back as nil, an empty one as empty.
func AppendValues(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, 0), nil
	}
	b = binary.AppendUvarint(b, uint64(len(m))+1)
	for _, k := range sortedKeys(m) {
		b = appendString(b, k)
		var err error
		if b, err = appendValue(b, m[k]); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
	}
	return b, nil
}

// AppendStrings appends a list of strings; nil reads back as nil, empty as
// empty.
func AppendStrings(b []byte, ss []string) []byte {
	return appendList(b, ss, appendString)
}

// AppendIDs appends a list of sys_ids (see AppendID); nil reads back as
// nil, empty as empty.
func AppendIDs(b []byte, ids []string) []byte {
	return appendList(b, ids, AppendID)
}

func appendList(b []byte, ss []string, each func([]byte, string) []byte) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ss))+1)
	for _, s := range ss {
		b = each(b, s)
	}
	return b
}

// BinaryReader reads a value in a binary format, field by field. The first
// problem it meets sticks (later reads return zero values) and names the
// field and byte offset; End reports it.
type BinaryReader struct{ d decoder }

// NewBinaryReader reads b, which starts with its format byte.
func NewBinaryReader(b []byte) *BinaryReader {
	return &BinaryReader{d: decoder{b: b, s: string(b), off: 1}}
}

// String reads a string.
func (r *BinaryReader) String(field string) string { return r.d.str(field) }

// ID reads a sys_id.
func (r *BinaryReader) ID(field string) string { return r.d.id(field) }

// Uvarint reads an unsigned varint.
func (r *BinaryReader) Uvarint(field string) uint64 { return r.d.uvarint(field) }

// Byte reads one byte.
func (r *BinaryReader) Byte(field string) byte { return r.d.byte(field) }

// Time reads an instant, in UTC.
func (r *BinaryReader) Time(field string) time.Time { return r.d.time(field) }

// Value reads a value of attribute attr.
func (r *BinaryReader) Value(attr string) any { return r.d.value(attr) }

// Values reads a map of attribute values.
func (r *BinaryReader) Values(field string) map[string]any { return r.d.values(field) }

// Strings reads a list of strings.
func (r *BinaryReader) Strings(field string) []string { return r.d.list(field, r.d.str) }

// IDs reads a list of sys_ids.
func (r *BinaryReader) IDs(field string) []string { return r.d.list(field, r.d.id) }

// OptCount reads the count of a list that may be absent, as the lists
// above store it: 0 for none, else 1 + the number of parts that follow.
func (r *BinaryReader) OptCount(field string) int { return r.d.optCount(field) }

// Left returns how many bytes are left to read.
func (r *BinaryReader) Left() int { return len(r.d.b) - r.d.off }

// Fail records a problem the caller found in field (the first one sticks).
func (r *BinaryReader) Fail(field string, err error) { r.d.fail(field, err) }

// Failed reports whether a read failed.
func (r *BinaryReader) Failed() bool { return r.d.err != nil }

// End returns the first problem met, or one when bytes are left over.
func (r *BinaryReader) End() error { return r.d.end() }

// optCount reads the count of a list or map that may be absent: 0 for
// none, else 1 + the number of parts that follow, each at least a byte.
func (d *decoder) optCount(field string) int {
	n := d.uvarint(field)
	if n > 0 && n-1 > uint64(len(d.s)-d.off) {
		d.fail(field, fmt.Errorf("count %d past the end", n-1))
		return 0
	}
	return int(n)
}

// end fails on bytes left over, and returns the first problem met.
func (d *decoder) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("end", fmt.Errorf("%d bytes left over", len(d.b)-d.off))
	}
	return d.err
}

func (d *decoder) id(field string) string {
	if d.err != nil {
		return ""
	}
	if d.off < len(d.b) && d.b[d.off] == 0 {
		if len(d.b)-d.off < 17 {
			d.fail(field, errShort)
			return ""
		}
		var s [32]byte
		hex.Encode(s[:], d.b[d.off+1:d.off+17])
		d.off += 17
		return string(s[:])
	}
	n := d.uvarint(field)
	if d.err != nil {
		return ""
	}
	if n-1 > uint64(len(d.b)-d.off) {
		d.fail(field, fmt.Errorf("length %d past the end", n-1))
		return ""
	}
	s := d.s[d.off : d.off+int(n-1)]
	d.off += int(n - 1)
	return s
}

// values reads what AppendValues wrote.
func (d *decoder) values(field string) map[string]any {
	n := d.optCount(field)
	if n == 0 {
		return nil
	}
	m := make(map[string]any, n-1)
	for range n - 1 {
		k := d.str(field)
		v := d.value(k)
		if d.err != nil {
			return nil
		}
		m[k] = v
	}
	return m
}

// list reads what appendList wrote, each element with one.
func (d *decoder) list(field string, one func(string) string) []string {
	n := d.optCount(field)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n-1)
	for range n - 1 {
		s := one(field)
		if d.err != nil {
			return nil
		}
		out = append(out, s)
	}
	return out
}

// bool reads a byte that must be 0 or 1.
func (d *decoder) bool(field string) bool {
	switch d.byte(field) {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail(field, fmt.Errorf("not 0 or 1"))
	return false
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}
