package postgres

import (
	"encoding/binary"
	"slices"

	"github.com/jackc/pgx/v5/pgtype"
)

// byteaArray is a bytea[] parameter (the keys and values of a read-ahead,
// an upsert or a delete) that encodes itself in PostgreSQL's binary array
// format. pgx's own array encoding boxes every element into an interface
// and plans it by reflection, a measurable share of irego's CPU and
// allocations on PostgreSQL; the bytes sent are the same.
type byteaArray [][]byte

// byteaArrayCodec is pgx's bytea[] codec with the fast path for byteaArray;
// every other value goes to the codec it wraps.
type byteaArrayCodec struct{ pgtype.Codec }

func (c byteaArrayCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(byteaArray); ok && format == pgtype.BinaryFormatCode {
		return byteaArrayPlan{}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

// useByteaArrayCodec installs byteaArrayCodec in a connection's type map,
// once: the map is the connection's own, and pools made by a caller (New)
// have no hook of ours to do it when they connect.
func useByteaArrayCodec(m *pgtype.Map) {
	t, ok := m.TypeForOID(pgtype.ByteaArrayOID)
	if !ok {
		return
	}
	if _, done := t.Codec.(byteaArrayCodec); done {
		return
	}
	m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: byteaArrayCodec{t.Codec}})
}

type byteaArrayPlan struct{}

// Encode appends the array: its header (one dimension, a NULL flag, the
// element type, the dimension's length and lower bound; an empty array too,
// as pgx sends it), then each element as a length and its bytes, -1 for a
// nil one (NULL).
func (byteaArrayPlan) Encode(value any, buf []byte) ([]byte, error) {
	a := value.(byteaArray)
	if a == nil {
		return nil, nil // NULL, as pgx encodes a nil slice
	}
	size, hasNull := 20, uint32(0)
	for _, e := range a {
		size += 4 + len(e)
		if e == nil {
			hasNull = 1
		}
	}
	buf = slices.Grow(buf, size)
	buf = binary.BigEndian.AppendUint32(buf, 1) // dimensions
	buf = binary.BigEndian.AppendUint32(buf, hasNull)
	buf = binary.BigEndian.AppendUint32(buf, pgtype.ByteaOID)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(a)))
	buf = binary.BigEndian.AppendUint32(buf, 1) // lower bound
	for _, e := range a {
		if e == nil {
			buf = binary.BigEndian.AppendUint32(buf, 0xffffffff)
			continue
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(e)))
		buf = append(buf, e...)
	}
	return buf, nil
}
