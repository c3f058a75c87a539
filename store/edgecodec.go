package store

import (
	"encoding/json"
	"fmt"
)

// The binary edge, after the format byte: sys_id (id), type (string),
// parent and child (ids), source (string), created (time).

// EncodeEdge is the stored form of a relation.
func EncodeEdge(e *Edge) ([]byte, error) {
	b := make([]byte, 0, 64+len(e.Type)+len(e.Source))
	b = append(b, formatBinary)
	b = AppendID(b, e.SysID)
	b = appendString(b, e.Type)
	b = AppendID(b, e.Parent)
	b = AppendID(b, e.Child)
	b = appendString(b, e.Source)
	return appendTime(b, e.Created), nil
}

// DecodeEdge reads what EncodeEdge wrote, or the JSON older versions wrote.
func DecodeEdge(b []byte) (*Edge, error) {
	var e Edge
	if len(b) > 0 && b[0] == formatBinary {
		d := decoder{b: b, s: string(b), off: 1}
		e.SysID = d.id("sys_id")
		e.Type = d.str("type")
		e.Parent = d.id("parent")
		e.Child = d.id("child")
		e.Source = d.str("source")
		e.Created = d.time("created")
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("store: corrupt edge: %w", err)
		}
		return &e, nil
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("store: corrupt edge: %w", err)
	}
	return &e, nil
}
