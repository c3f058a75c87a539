package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Index count deltas. A transaction that adds or removes index entries
// does not read and rewrite their chunk counts: it writes what it changed
// in one key of its own, numbered with the first change event of its
// commit (which follows commit order),
//
//	v1/ixd/<event number, 8 bytes> → the count keys and the change to each
//	v1/ixdw                        → the first event number not yet folded (8 bytes)
//
// and the engine adds such deltas to the counts later, in transactions of
// their own, deleting them and moving the mark past them. Readers start
// at the mark, so the deleted deltas before it cost them nothing. Two
// writers never read the same key for it, so counts cost writers neither
// reads nor conflicts. A count is its stored value plus every delta of it
// from the mark on.

// IndexDeltasPrefix is the prefix of every index count delta.
func IndexDeltasPrefix() []byte { return prefixIndexDelta }

// IndexDeltaKey is the key of the deltas of the commit whose first change
// event is seq.
func IndexDeltaKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixIndexDelta...), seq)
}

// IndexDeltaSeq is the event number of a delta key; false for another key.
func IndexDeltaSeq(k []byte) (uint64, bool) {
	if len(k) != len(prefixIndexDelta)+8 || !bytes.HasPrefix(k, prefixIndexDelta) {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[len(prefixIndexDelta):]), true
}

// IndexDeltaMarkKey holds the first event number whose deltas are not yet
// folded; absent, every delta stored is.
func IndexDeltaMarkKey() []byte { return keyIndexDeltaMark }

// indexDeltasFormat leads the stored form, so that another one can follow.
const indexDeltasFormat = 1

// EncodeIndexDeltas is the stored form of deltas (count key → change),
// without the changes that are zero; nil when none is left.
func EncodeIndexDeltas(deltas map[string]int64) []byte {
	keys := make([]string, 0, len(deltas))
	for k, d := range deltas {
		if d != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	b := binary.AppendUvarint([]byte{indexDeltasFormat}, uint64(len(keys)))
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendVarint(b, deltas[k])
	}
	return b
}

// DecodeIndexDeltas calls fn with each count key and change of b, the
// stored form of deltas. The key is only valid during the call.
func DecodeIndexDeltas(b []byte, fn func(countKey []byte, delta int64) error) error {
	if len(b) == 0 || b[0] != indexDeltasFormat {
		return errors.New("store: index count deltas: unknown format")
	}
	b = b[1:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return errors.New("store: index count deltas: bad length")
	}
	b = b[w:]
	for i := range n {
		l, w := binary.Uvarint(b)
		if w <= 0 || l > uint64(len(b)-w) {
			return fmt.Errorf("store: index count deltas: entry %d: bad key length", i)
		}
		k := b[w : w+int(l)]
		b = b[w+int(l):]
		d, w := binary.Varint(b)
		if w <= 0 {
			return fmt.Errorf("store: index count deltas: entry %d: bad change", i)
		}
		b = b[w:]
		if err := fn(k, d); err != nil {
			return err
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("store: index count deltas: %d bytes after the last entry", len(b))
	}
	return nil
}
