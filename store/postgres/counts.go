package postgres

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/irego/irego/store"
)

// AddCounts (store.CountAdder) notes the additions for the commit, which
// sends those to stored counts as one statement beside the writes: the
// counts are never read, which cost the engine's batches a round trip
// each. Reads in the transaction see the sums (countNow).
func (t *txn) AddCounts(keys [][]byte, deltas []int64) error {
	if t.done {
		return errDone
	}
	if len(keys) != len(deltas) {
		return fmt.Errorf("postgres: %d counts to add, with %d deltas", len(keys), len(deltas))
	}
	for i, k := range keys {
		if err := store.KeyTooLong(k); err != nil {
			return err
		}
		if deltas[i] == 0 {
			continue
		}
		if t.adds == nil {
			t.adds = map[string]int64{}
		}
		t.adds[string(k)] += deltas[i]
	}
	return nil
}

// addCount is the count at k, base (nil: none) plus d: its eight bytes, or
// nil when it is zero or below.
func addCount(k string, base []byte, d int64) ([]byte, error) {
	var n int64
	if base != nil {
		if len(base) != 8 {
			return nil, fmt.Errorf("postgres: the count at %q holds %d bytes, want 8", k, len(base))
		}
		n = int64(binary.BigEndian.Uint64(base))
	}
	if n += d; n <= 0 {
		return nil, nil
	}
	return binary.BigEndian.AppendUint64(nil, uint64(n)), nil
}

// countNow is the count at key, which has additions pending, as the
// transaction has it: nil when none.
func (t *txn) countNow(key []byte) ([]byte, error) {
	base, ok := t.writes[string(key)]
	if !ok {
		var err error
		if base, ok = t.reads[string(key)]; !ok {
			if base, err = t.read(key); err != nil {
				return nil, err
			}
		}
	}
	return addCount(string(key), base, t.adds[string(key)])
}

// countsUnder returns the counts under prefix with additions pending, as
// the transaction has them (nil values: none), reading the stored ones
// in one round trip.
func (t *txn) countsUnder(prefix []byte) ([]pendingWrite, error) {
	var keys [][]byte
	for k := range t.adds {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, []byte(k))
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	if err := t.Prefetch(keys); err != nil {
		return nil, err
	}
	out := make([]pendingWrite, 0, len(keys))
	for _, k := range keys {
		v, err := t.countNow(k)
		if err != nil {
			return nil, err
		}
		out = append(out, pendingWrite{k, v})
	}
	return out, nil
}

// queueAdds queues the additions to stored counts on the commit's batch:
// one statement adds them all, and one more deletes those that a negative
// delta may have brought to zero or below. Keys go in order, as the
// writes do. (Additions to counts the transaction wrote go with the
// writes.)
func (t *txn) queueAdds(b *pgx.Batch) {
	var keys, lower [][]byte
	var deltas []int64
	for _, k := range slices.Sorted(maps.Keys(t.adds)) {
		d := t.adds[k]
		if _, written := t.writes[k]; written || d == 0 {
			continue
		}
		keys, deltas = append(keys, []byte(k)), append(deltas, d)
		if d < 0 {
			lower = append(lower, []byte(k))
		}
	}
	if len(keys) > 0 {
		b.Queue(t.db.sql.addCounts, byteaArray(keys), deltas)
	}
	if len(lower) > 0 {
		b.Queue(t.db.sql.dropCounts, byteaArray(lower))
	}
}
