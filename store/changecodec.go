package store

import (
	"encoding/binary"
	"fmt"
)

// The binary history entry, after the format byte: at (time), source,
// operation, class, class_before (strings), attributes (uvarint count+1,
// 0: no map; then per attribute by name: name, before and after values),
// merged (ids).

// EncodeChange is the stored form of a history entry.
func EncodeChange(c *Change) ([]byte, error) {
	b := make([]byte, 0, 64+32*len(c.Attributes))
	b = append(b, formatBinary)
	b = appendTime(b, c.At)
	b = appendString(b, c.Source)
	b = appendString(b, c.Op)
	b = appendString(b, c.Class)
	b = appendString(b, c.ClassBefore)
	b, err := appendValueChanges(b, c.Attributes)
	if err != nil {
		return nil, fmt.Errorf("store: history entry: %w", err)
	}
	return AppendIDs(b, c.Merged), nil
}

// DecodeChange decodes a history entry in either stored format (binary,
// or the JSON of older versions), restoring integers as int64.
func DecodeChange(b []byte) (*Change, error) {
	if len(b) == 0 || b[0] != formatBinary {
		return decodeJSONChange(b)
	}
	var c Change
	d := decoder{b: b, s: string(b), off: 1}
	c.At = d.time("at")
	c.Source = d.str("source")
	c.Op = d.str("operation")
	c.Class = d.str("class")
	c.ClassBefore = d.str("class_before")
	c.Attributes = d.valueChanges("attributes")
	c.Merged = d.list("merged", d.id)
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("store: corrupt history entry: %w", err)
	}
	return &c, nil
}

func appendValueChanges(b []byte, m map[string]ValueChange) ([]byte, error) {
	if m == nil {
		return append(b, 0), nil
	}
	b = binary.AppendUvarint(b, uint64(len(m))+1)
	for _, k := range sortedKeys(m) {
		b = appendString(b, k)
		var err error
		if b, err = appendValue(b, m[k].Before); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		if b, err = appendValue(b, m[k].After); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
	}
	return b, nil
}

func (d *decoder) valueChanges(field string) map[string]ValueChange {
	n := d.optCount(field)
	if n == 0 {
		return nil
	}
	m := make(map[string]ValueChange, n-1)
	for range n - 1 {
		k := d.str(field)
		before := d.value(k)
		after := d.value(k)
		if d.err != nil {
			return nil
		}
		m[k] = ValueChange{Before: before, After: after}
	}
	return m
}
