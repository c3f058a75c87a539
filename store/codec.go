package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The binary record format. A record starts with a format byte, so a
// reader tells it from the JSON records older versions wrote (which start
// with '{'). After the format byte, in order:
//
//	sys_id, class, scope, source        strings (uvarint length, bytes)
//	flags                               1 byte: 1 related, 2 retired
//	version                             uvarint
//	created, updated, first_discovered  times (zigzag varint Unix seconds, uvarint nanoseconds)
//	values                              uvarint count+1 (0: no map), then per attribute, by name:
//	                                    name, a type byte, the value
//	identity keys, index keys           uvarint count, then each as bytes (uvarint length, bytes)
//	owners                              uvarint count, then name and source per attribute, by name
//	last_discovered                     8 bytes Unix seconds and 4 bytes nanoseconds, big-endian
//
// last_discovered comes last at a fixed width, so a report that moves only
// it rewrites the stored bytes in place (WithLastDiscovered) instead of
// encoding the record again. Times are instants: they read back in UTC, as
// the engine writes them.
const formatBinary byte = 1

// Value type bytes.
const (
	tagNil byte = iota
	tagString
	tagTrue
	tagFalse
	tagInt
	tagFloat
	tagJSON // any other value, as JSON (not written by the engine)
)

const (
	flagRelated byte = 1 << iota
	flagRetired
)

// lastDiscoveredLen is the width of last_discovered at the end of a record.
const lastDiscoveredLen = 12

// IsJSONRecord reports whether b is a record in the JSON format older
// versions wrote (see MigrateRecords).
func IsJSONRecord(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// encodeBinary appends the binary form of r to dst.
func encodeBinary(dst []byte, r *Record) ([]byte, error) {
	b := append(dst, formatBinary)
	b = appendString(b, r.SysID)
	b = appendString(b, r.Class)
	b = appendString(b, r.Scope)
	b = appendString(b, r.Source)
	var flags byte
	if r.Related {
		flags |= flagRelated
	}
	if r.Retired {
		flags |= flagRetired
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, r.Version)
	b = appendTime(b, r.Created)
	b = appendTime(b, r.Updated)
	b = appendTime(b, r.FirstDiscovered)
	if r.Values == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(r.Values))+1)
		for _, k := range sortedKeys(r.Values) {
			b = appendString(b, k)
			var err error
			if b, err = appendValue(b, r.Values[k]); err != nil {
				return nil, fmt.Errorf("store: record %s: attribute %s: %w", r.SysID, k, err)
			}
		}
	}
	b = appendKeys(b, r.IdentityKeys)
	b = appendKeys(b, r.IndexKeys)
	b = binary.AppendUvarint(b, uint64(len(r.Owners)))
	for _, k := range sortedKeys(r.Owners) {
		b = appendString(b, k)
		b = appendString(b, r.Owners[k])
	}
	return appendFixedTime(b, r.LastDiscovered), nil
}

// WithLastDiscovered returns a copy of the stored record b with its
// last_discovered set to t, without decoding it; ok is false when b is not
// in the binary format (encode the record instead).
func WithLastDiscovered(b []byte, t time.Time) (out []byte, ok bool) {
	if len(b) < 1+lastDiscoveredLen || b[0] != formatBinary {
		return nil, false
	}
	out = slices.Clone(b)
	appendFixedTime(out[:len(out)-lastDiscoveredLen], t)
	return out, true
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendFixedTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func appendKeys(b []byte, keys [][]byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
	}
	return b
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case string:
		return appendString(append(b, tagString), x), nil
	case bool:
		if x {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), x), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x)), nil
	}
	// Not a canonical value: keep what JSON kept of it, as before.
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return appendString(append(b, tagJSON), string(j)), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// decoder reads a binary record. Strings are cut from one copy of the
// input, so a record's strings cost one allocation together.
type decoder struct {
	b   []byte // the input, read only
	s   string // the input, copied
	off int
	err error
}

var errShort = errors.New("truncated")

func decodeBinary(b []byte) (*Record, error) {
	d := decoder{b: b, s: string(b), off: 1}
	r := &Record{}
	r.SysID = d.str("sys_id")
	r.Class = d.str("class")
	r.Scope = d.str("scope")
	r.Source = d.str("source")
	flags := d.byte("flags")
	if flags&^(flagRelated|flagRetired) != 0 && d.err == nil {
		d.fail("flags", fmt.Errorf("unknown flags %#x", flags))
	}
	r.Related, r.Retired = flags&flagRelated != 0, flags&flagRetired != 0
	r.Version = d.uvarint("version")
	r.Created = d.time("created")
	r.Updated = d.time("updated")
	r.FirstDiscovered = d.time("first_discovered")
	if n := d.count("values"); n > 0 {
		r.Values = make(map[string]any, n-1)
		for range n - 1 {
			k := d.str("values")
			r.Values[k] = d.value(k)
			if d.err != nil {
				break
			}
		}
	}
	r.IdentityKeys = d.keys("identity_keys")
	r.IndexKeys = d.keys("index_keys")
	if n := d.count("owners"); n > 0 {
		r.Owners = make(map[string]string, n)
		for range n {
			k := d.str("owners")
			r.Owners[k] = d.str("owners")
			if d.err != nil {
				break
			}
		}
	}
	if d.err == nil && len(d.s)-d.off != lastDiscoveredLen {
		d.fail("last_discovered", fmt.Errorf("%d bytes left, want %d", len(d.s)-d.off, lastDiscoveredLen))
	}
	if d.err != nil {
		return nil, fmt.Errorf("store: corrupt record: %w", d.err)
	}
	sec := int64(binary.BigEndian.Uint64(d.b[d.off : d.off+8]))
	ns := binary.BigEndian.Uint32(d.b[d.off+8:])
	r.LastDiscovered = d.instant("last_discovered", sec, uint64(ns))
	if d.err != nil {
		return nil, fmt.Errorf("store: corrupt record: %w", d.err)
	}
	return r, nil
}

func (d *decoder) fail(field string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at byte %d: %w", field, d.off, err)
	}
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail(field, errShort)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail(field, errShort)
		return 0
	}
	d.off += n
	return v
}

// count reads a length that must fit in what is left (each counted part
// takes at least one byte), so a bad count cannot make a huge allocation.
func (d *decoder) count(field string) int {
	n := d.uvarint(field)
	if n > uint64(len(d.s)-d.off) {
		d.fail(field, fmt.Errorf("count %d past the end", n))
		return 0
	}
	return int(n)
}

func (d *decoder) bytesLen(field string) (string, bool) {
	n := d.count(field)
	if d.err != nil {
		return "", false
	}
	s := d.s[d.off : d.off+n]
	d.off += n
	return s, true
}

func (d *decoder) str(field string) string {
	s, _ := d.bytesLen(field)
	return s
}

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.s) {
		d.fail(field, errShort)
		return 0
	}
	d.off++
	return d.s[d.off-1]
}

func (d *decoder) time(field string) time.Time {
	sec := d.varint(field)
	ns := d.uvarint(field)
	return d.instant(field, sec, ns)
}

func (d *decoder) instant(field string, sec int64, ns uint64) time.Time {
	if d.err != nil {
		return time.Time{}
	}
	if ns >= 1e9 {
		d.fail(field, fmt.Errorf("%d nanoseconds", ns))
		return time.Time{}
	}
	return time.Unix(sec, int64(ns)).UTC()
}

func (d *decoder) keys(field string) [][]byte {
	n := d.count(field)
	if n == 0 {
		return nil
	}
	keys := make([][]byte, 0, n)
	for range n {
		k, ok := d.bytesLen(field)
		if !ok {
			return nil
		}
		keys = append(keys, []byte(k))
	}
	return keys
}

// value reads the value of attribute attr. The attribute's name goes
// into an error only when there is one: building it for every value would
// cost an allocation each.
func (d *decoder) value(attr string) any {
	had := d.err != nil
	v := d.rawValue()
	if !had && d.err != nil {
		d.err = fmt.Errorf("values.%s: %w", attr, d.err)
	}
	return v
}

func (d *decoder) rawValue() any {
	const field = "value"
	switch tag := d.byte(field); tag {
	case tagNil:
		return nil
	case tagString:
		return d.str(field)
	case tagTrue:
		return true
	case tagFalse:
		return false
	case tagInt:
		return d.varint(field)
	case tagFloat:
		if d.err != nil {
			return nil
		}
		if len(d.s)-d.off < 8 {
			d.fail(field, errShort)
			return nil
		}
		v := math.Float64frombits(binary.BigEndian.Uint64(d.b[d.off : d.off+8]))
		d.off += 8
		return v
	case tagJSON:
		s, ok := d.bytesLen(field)
		if !ok {
			return nil
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			d.fail(field, err)
			return nil
		}
		return restore(v)
	default:
		if d.err == nil {
			d.fail(field, fmt.Errorf("unknown value type %d", tag))
		}
		return nil
	}
}
