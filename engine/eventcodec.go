package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/store"
)

// The stored form of a change event: binary (this file), or the JSON of
// the wire format in stores older versions wrote, which decodeEvent still
// reads. The event's number is its key's; after the format byte:
//
//	commit offset   uvarint: seq - commit, the event's place in its commit
//	at              time
//	source          string
//	operation       byte: an op code below, or 0 then the operation as a string
//	sys_id          id
//	class, class_before  strings
//	scope           id
//	flags           byte: 1 related, 2 retired
//	values          values (nil map kept apart from an empty one)
//	attributes      uvarint: 0 no map; 1 the insert of values (each value,
//	                from absent); else count+2, then per attribute by name:
//	                name, before value, then 1 when after is the value in
//	                values, else 0 and the after value
//	relations       uvarint count+1 (0: no list), then each: type
//	                (string), child (id), removed (byte)
//	related_records ids
//
// An insert stores its values once, not again as attributes, and an
// update stores each changed value once.
const eventFormat byte = 1

// Operation codes; 0 stores the operation as a string.
var eventOps = [...]string{1: identify.OpInsert, 2: identify.OpUpdate, 3: OpRetire, 4: OpDelete}

const (
	eventRelated byte = 1 << iota
	eventRetired
)

// Attribute markers.
const (
	attrsNone     = 0
	attrsInserted = 1
	attrsListed   = 2 // + count
)

// encodeEvent is the stored form of ev, the place-th event of its commit
// (numbered later: ev.Seq and ev.Commit are not stored).
func encodeEvent(ev *Event, place uint64) ([]byte, error) {
	b := make([]byte, 0, 128+24*len(ev.Values))
	b = append(b, eventFormat)
	b = binary.AppendUvarint(b, place)
	b = store.AppendTime(b, ev.At)
	b = store.AppendString(b, ev.Source)
	op := byte(0)
	for i, name := range eventOps {
		if i > 0 && name == ev.Op {
			op = byte(i)
		}
	}
	b = append(b, op)
	if op == 0 {
		b = store.AppendString(b, ev.Op)
	}
	b = store.AppendID(b, ev.SysID)
	b = store.AppendString(b, ev.Class)
	b = store.AppendString(b, ev.ClassBefore)
	b = store.AppendID(b, ev.Scope)
	var flags byte
	if ev.Related {
		flags |= eventRelated
	}
	if ev.Retired {
		flags |= eventRetired
	}
	b = append(b, flags)
	b, err := store.AppendValues(b, ev.Values)
	if err != nil {
		return nil, fmt.Errorf("engine: event of %s: %w", ev.SysID, err)
	}
	if b, err = appendAttributes(b, ev.Attributes, ev.Values); err != nil {
		return nil, fmt.Errorf("engine: event of %s: %w", ev.SysID, err)
	}
	if ev.Relations == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(ev.Relations))+1)
		for _, rc := range ev.Relations {
			b = store.AppendString(b, rc.Type)
			b = store.AppendID(b, rc.Child)
			if rc.Removed {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	}
	return store.AppendIDs(b, ev.RelatedRecords), nil
}

func appendAttributes(b []byte, attrs map[string]store.ValueChange, values map[string]any) ([]byte, error) {
	if attrs == nil {
		return append(b, attrsNone), nil
	}
	if inserted(attrs, values) {
		return append(b, attrsInserted), nil
	}
	b = binary.AppendUvarint(b, uint64(len(attrs))+attrsListed)
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		vc := attrs[k]
		b = store.AppendString(b, k)
		var err error
		if b, err = store.AppendValue(b, vc.Before); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		if v, ok := values[k]; ok && sameValue(vc.After, v) {
			b = append(b, 1)
			continue
		}
		if b, err = store.AppendValue(append(b, 0), vc.After); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
	}
	return b, nil
}

// inserted reports whether attrs is exactly the insert of values: every
// value, from absent.
func inserted(attrs map[string]store.ValueChange, values map[string]any) bool {
	if len(attrs) != len(values) {
		return false
	}
	for k, v := range values {
		vc, ok := attrs[k]
		if !ok || vc.Before != nil || !sameValue(vc.After, v) {
			return false
		}
	}
	return true
}

// sameValue reports whether a and b are the same canonical value, so that
// storing one of them keeps both (floats by their bits: NaN is itself,
// -0 is not 0). Other values are never the same: each is stored.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return false
}

// decodeBinaryEvent reads what encodeEvent wrote, numbered seq (its key's).
func decodeBinaryEvent(seq uint64, v []byte) (*Event, error) {
	r := store.NewBinaryReader(v)
	ev := &Event{Seq: seq}
	if place := r.Uvarint("commit"); place > seq {
		r.Fail("commit", fmt.Errorf("event %d is number %d of its commit", seq, place))
	} else {
		ev.Commit = seq - place
	}
	ev.At = r.Time("at")
	ev.Source = r.String("source")
	switch op := r.Byte("operation"); {
	case op == 0:
		ev.Op = r.String("operation")
	case int(op) < len(eventOps):
		ev.Op = eventOps[op]
	default:
		r.Fail("operation", fmt.Errorf("unknown code %d", op))
	}
	ev.SysID = r.ID("sys_id")
	ev.Class = r.String("class")
	ev.ClassBefore = r.String("class_before")
	ev.Scope = r.ID("scope")
	flags := r.Byte("flags")
	if flags&^(eventRelated|eventRetired) != 0 {
		r.Fail("flags", fmt.Errorf("unknown flags %#x", flags))
	}
	ev.Related, ev.Retired = flags&eventRelated != 0, flags&eventRetired != 0
	ev.Values = r.Values("values")
	ev.Attributes = readAttributes(r, ev.Values)
	if n := r.OptCount("relations"); n > 0 {
		ev.Relations = make([]RelationChange, 0, n-1)
		for range n - 1 {
			rc := RelationChange{Type: r.String("relations"), Child: r.ID("relations")}
			switch r.Byte("relations") {
			case 0:
			case 1:
				rc.Removed = true
			default:
				r.Fail("relations", errors.New("removed is not 0 or 1"))
			}
			if r.Failed() {
				break
			}
			ev.Relations = append(ev.Relations, rc)
		}
	}
	ev.RelatedRecords = r.IDs("related_records")
	if err := r.End(); err != nil {
		return nil, err
	}
	return ev, nil
}

func readAttributes(r *store.BinaryReader, values map[string]any) map[string]store.ValueChange {
	switch n := r.Uvarint("attributes"); {
	case r.Failed():
		return nil
	case n == attrsNone:
		return nil
	case n == attrsInserted:
		out := make(map[string]store.ValueChange, len(values))
		for k, v := range values {
			out[k] = store.ValueChange{After: v}
		}
		return out
	default:
		n -= attrsListed
		if n > uint64(r.Left()) { // each attribute takes bytes
			r.Fail("attributes", fmt.Errorf("count %d past the end", n))
			return nil
		}
		out := make(map[string]store.ValueChange, n)
		for range n {
			k := r.String("attributes")
			vc := store.ValueChange{Before: r.Value(k)}
			switch r.Byte("attributes") {
			case 0:
				vc.After = r.Value(k)
			case 1:
				v, ok := values[k]
				if !ok && !r.Failed() {
					r.Fail("attributes", fmt.Errorf("attribute %s: after is its value, and it has none", k))
				}
				vc.After = v
			default:
				r.Fail("attributes", fmt.Errorf("attribute %s: unknown after marker", k))
			}
			if r.Failed() {
				return nil
			}
			out[k] = vc
		}
		return out
	}
}

// eventAt reads only when a stored event happened.
func eventAt(v []byte) (time.Time, error) {
	if len(v) > 0 && v[0] == eventFormat {
		r := store.NewBinaryReader(v)
		r.Uvarint("commit")
		at := r.Time("at")
		if r.Failed() {
			return time.Time{}, r.End()
		}
		return at, nil
	}
	var ev struct {
		At time.Time `json:"at"`
	}
	err := unmarshalNumbers(v, &ev)
	return ev.At, err
}
