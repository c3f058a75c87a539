package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/irego/irego/store"
)

// migrateBatch is how many records one transaction of the record
// migration rewrites; migrateScan bounds the records it reads, so a
// stretch of records already converted does not make one transaction
// read the whole store either.
const (
	migrateBatch = 500
	migrateScan  = 4 * migrateBatch
)

// migrateRecords rewrites the CI records older versions stored as JSON in
// the binary format, once per store. It works in bounded transactions,
// each recording how far it got under store.RecordFormatKey, so a
// migration cut short (the process killed) resumes where it stopped; when
// every record is converted it records store.RecordFormat, and later opens
// cost one read. Readers take either format meanwhile. It returns how
// many records it rewrote.
func migrateRecords(st store.Store) (int, error) {
	total := 0
	for {
		n, done, err := migrateStep(st, migrateBatch, migrateScan)
		total += n
		if err != nil || done {
			return total, err
		}
	}
}

// migrateStep converts up to batch JSON records among the next scan
// records after the recorded position, in one transaction (retried on
// conflict). done says the migration is complete.
func migrateStep(st store.Store, batch, scan int) (n int, done bool, err error) {
	for attempt := 1; ; attempt++ {
		n, done, err = migrateOnce(st, batch, scan)
		if !errors.Is(err, store.ErrConflict) || attempt >= 64 {
			if err != nil {
				err = fmt.Errorf("engine: converting the stored records to the %s format: %w", store.RecordFormat, err)
			}
			return n, done, err
		}
		backoff(attempt)
	}
}

const migratingPrefix = "migrating "

func migrateOnce(st store.Store, batch, scan int) (int, bool, error) {
	t := st.NewTxn()
	defer t.Discard()
	state, err := t.Get(store.RecordFormatKey())
	switch {
	case errors.Is(err, store.ErrNotFound):
		state = nil
	case err != nil:
		return 0, false, err
	case string(state) == store.RecordFormat:
		return 0, true, nil
	case !bytes.HasPrefix(state, []byte(migratingPrefix)):
		return 0, false, fmt.Errorf("%s holds %q: a record format this version does not know", store.RecordFormatKey(), state)
	}
	start := store.CIPrefix()
	if len(state) > 0 {
		start = append([]byte(state[len(migratingPrefix):]), 0) // just past the last key done
	}
	type kv struct{ k, v []byte }
	var todo []kv
	var last []byte
	scanned, more := 0, false
	err = t.IterateFrom(store.CIPrefix(), start, func(k, v []byte) error {
		if scanned == scan || len(todo) == batch {
			more = true
			return store.ErrStop
		}
		scanned++
		last = append(last[:0], k...)
		if store.IsJSONRecord(v) {
			todo = append(todo, kv{bytes.Clone(k), bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	converted := 0
	for _, x := range todo {
		rec, err := store.DecodeRecord(x.v)
		if err != nil {
			continue // left as it is, for Check to report
		}
		b, err := store.EncodeRecord(rec)
		if err != nil {
			return 0, false, err
		}
		if err := t.Set(x.k, b); err != nil {
			return 0, false, err
		}
		converted++
	}
	next := []byte(store.RecordFormat)
	if more {
		next = append([]byte(migratingPrefix), last...)
	}
	if err := t.Set(store.RecordFormatKey(), next); err != nil {
		return 0, false, err
	}
	if err := t.Commit(); err != nil {
		return 0, false, err
	}
	return converted, !more, nil
}
