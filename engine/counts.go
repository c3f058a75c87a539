package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/irego/irego/store"
)

// Chunk counts of the secondary indexes (store.IndexBucket). A write
// through the engine's transaction (eventTxn) does not read and rewrite the
// counts of the entries it adds or removes: it notes the changes and
// writes them as one delta key, numbered with its first change event, when
// it commits (store/indexdeltas.go). A
// background folder adds the deltas to the counts soon after, a batch of
// transactions at a time; readers add the deltas not yet folded. Counts
// so cost a writer no reads, and concurrent writers no conflicts.

// addCount adds delta to a chunk count: noted for the commit in an
// engine transaction, read and written at once otherwise (rebuilding
// indexes, imports, folding). On a store shared by processes
// (PostgreSQL) the commit adds the noted counts itself, on the server
// beside its writes (addCountsNow), instead of writing a delta: its
// conflicts are coarser than a key, and a fold committed in the middle of
// a large transaction made it start again (--batch 100 on PostgreSQL:
// 2,700 → 1,900 items/s, a retry per batch).
func addCount(txn store.Txn, key []byte, delta int64) error {
	if t, ok := txn.(*eventTxn); ok {
		if t.countDeltas == nil {
			t.countDeltas = map[string]int64{}
		}
		t.countDeltas[string(key)] += delta
		return nil
	}
	return addStoredCount(txn, key, delta)
}

// addStoredCount reads and rewrites a stored count.
func addStoredCount(txn store.Txn, key []byte, delta int64) error {
	n, err := readCount(txn, key)
	if err != nil {
		return err
	}
	if n += delta; n <= 0 {
		return txn.Delete(key) // a count that reaches zero goes
	}
	return txn.Set(key, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// addCountsNow adds the count changes the transaction noted to the counts
// themselves: through the store when it adds without reading
// (store.CountAdder), otherwise reading them (all in one round trip on a
// store that reads in batches).
func (t *eventTxn) addCountsNow() error {
	keys := slices.Sorted(maps.Keys(t.countDeltas))
	if ca, ok := t.Txn.(store.CountAdder); ok && len(keys) > 0 {
		// Added by the store without reading them (PostgreSQL: at commit).
		ks, deltas := make([][]byte, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			ks[i], deltas[i] = []byte(k), t.countDeltas[k]
		}
		t.countDeltas = nil
		return ca.AddCounts(ks, deltas)
	}
	if pf, ok := t.Txn.(store.Prefetcher); ok && len(keys) > 0 {
		ask := make([][]byte, 0, len(keys))
		for _, k := range keys {
			if t.countDeltas[k] != 0 {
				ask = append(ask, []byte(k))
			}
		}
		if err := pf.Prefetch(ask); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if d := t.countDeltas[k]; d != 0 {
			if err := addStoredCount(t.Txn, []byte(k), d); err != nil {
				return err
			}
		}
	}
	t.countDeltas = nil
	return nil
}

// readCount reads a stored count, without the deltas not yet folded in.
func readCount(r store.Reader, key []byte) (int64, error) {
	b, err := r.Get(key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return decodeCount(b)
}

func decodeCount(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("engine: corrupt index count (%d bytes)", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// countsUnder calls fn, in key order, with every chunk count under prefix
// that is above zero: its stored value plus the deltas not yet folded.
func countsUnder(r store.Reader, prefix []byte, fn func(k []byte, n int64) error) error {
	pending, err := pendingDeltas(r, prefix)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return r.Iterate(prefix, func(k, v []byte) error {
			n, err := decodeCount(v)
			if err != nil || n <= 0 {
				return err
			}
			return fn(k, n)
		})
	}
	err = r.Iterate(prefix, func(k, v []byte) error {
		n, err := decodeCount(v)
		pending[string(k)] += n
		return err
	})
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(pending)) {
		if n := pending[k]; n > 0 {
			if err := fn([]byte(k), n); err != nil {
				return err
			}
		}
	}
	return nil
}

// foldMark reads the first event number whose deltas are not folded.
func foldMark(r store.Reader) (uint64, error) {
	b, err := r.Get(store.IndexDeltaMarkKey())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	case len(b) != 8:
		return 0, fmt.Errorf("engine: corrupt index count fold mark (%d bytes)", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// sumDeltas adds the stored deltas of the counts under prefix into sums,
// from the fold mark on, in commit order (walking none of those folded
// before). With limit above zero it stops after that many delta keys and
// returns the keys it read.
func sumDeltas(r store.Reader, prefix []byte, sums map[string]int64, limit int) ([][]byte, error) {
	mark, err := foldMark(r)
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	err = r.IterateFrom(store.IndexDeltasPrefix(), store.IndexDeltaKey(mark), func(k, v []byte) error {
		if limit > 0 && len(keys) == limit {
			return store.ErrStop
		}
		err := store.DecodeIndexDeltas(v, func(ck []byte, d int64) error {
			if bytes.HasPrefix(ck, prefix) {
				sums[string(ck)] += d
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("engine: index count deltas %q: %w", k, err)
		}
		if limit > 0 {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	return keys, err
}

// pendingDeltas sums the stored deltas of the counts under prefix.
func pendingDeltas(r store.Reader, prefix []byte) (map[string]int64, error) {
	sums := map[string]int64{}
	_, err := sumDeltas(r, prefix, sums, 0)
	return sums, err
}

// maxFoldKeys bounds the delta keys one fold transaction takes.
const maxFoldKeys = 256

// foldCounts adds every stored delta to its counts and deletes it, in
// transactions of at most maxFoldKeys deltas. Processes sharing a store
// may fold at once: the loser of a conflict reads again.
func foldCounts(st store.Store) error {
	for attempt := 1; ; {
		n, err := foldOnce(st)
		switch {
		case errors.Is(err, store.ErrConflict) && attempt < 16:
			attempt++
			backoff(attempt)
		case err != nil || n < maxFoldKeys:
			return err
		}
	}
}

func foldOnce(st store.Store) (int, error) {
	txn := st.NewTxn()
	defer txn.Discard()
	sums := map[string]int64{}
	keys, err := sumDeltas(txn, nil, sums, maxFoldKeys)
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return 0, err
		}
	}
	for _, ck := range slices.Sorted(maps.Keys(sums)) {
		if d := sums[ck]; d != 0 {
			if err := addStoredCount(txn, []byte(ck), d); err != nil {
				return 0, err
			}
		}
	}
	last, ok := store.IndexDeltaSeq(keys[len(keys)-1])
	if !ok {
		return 0, fmt.Errorf("engine: %q is not an index count delta key", keys[len(keys)-1])
	}
	if err := txn.Set(store.IndexDeltaMarkKey(), binary.BigEndian.AppendUint64(nil, last+1)); err != nil {
		return 0, err
	}
	return len(keys), txn.Commit()
}

// countFolder folds the deltas in the background, soon after commits
// write them: it waits Options.IndexCountFold after a commit wakes it, so
// that one fold takes the deltas of many.
type countFolder struct {
	wake          chan struct{}
	stop, stopped chan struct{}
}

// DefaultIndexCountFold is Options.IndexCountFold's default.
const DefaultIndexCountFold = 50 * time.Millisecond

func newCountFolder() *countFolder {
	return &countFolder{wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
}

// woken tells the folder that a commit wrote deltas.
func (f *countFolder) woken() {
	if f == nil {
		return
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) runCountFolder(f *countFolder, delay time.Duration) {
	defer close(f.stopped)
	for {
		select {
		case <-f.stop:
			foldCounts(e.st) // its error is the store's: the deltas stay, and count
			return
		case <-f.wake:
		}
		select {
		case <-f.stop:
			foldCounts(e.st)
			return
		case <-time.After(delay):
		}
		if foldCounts(e.st) != nil {
			f.woken() // the deltas stay, and count; try again after a while
		}
	}
}
