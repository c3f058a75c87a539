package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Index count deltas. A transaction that adds or removes index entries
// does not read and rewrite their chunk counts: it writes what it changed
// in one key of its own,
//
//	v1/ixd/<8 bytes of time><8 random bytes> → the count keys and the change to each
//
// and the engine adds such deltas to the counts later, in transactions of
// their own, deleting them as it does. Two writers never read the same
// key for it, so counts cost writers neither reads nor conflicts. A count
// is its stored value plus every delta of it still stored.

// IndexDeltasPrefix is the prefix of every index count delta.
func IndexDeltasPrefix() []byte { return prefixIndexDelta }

// NewIndexDeltaKey returns a key for the deltas of one transaction, unique
// across the processes sharing a store.
func NewIndexDeltaKey(now time.Time) []byte {
	k := append([]byte(nil), prefixIndexDelta...)
	k = binary.BigEndian.AppendUint64(k, uint64(now.UnixNano()))
	return binary.BigEndian.AppendUint64(k, rand.Uint64())
}

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
