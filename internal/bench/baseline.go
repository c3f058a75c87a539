package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
)

// Baseline is the bare Badger loop identification has to beat: per record,
// read an index key, then write the record and its index key, in
// transactions of RecordsPerTxn records, with Concurrency writers.
//
// With Writes, each record writes instead what identification wrote per
// item: WritesPerRecord keys on average, shaped as Writes in turn (a
// sample of a run's writes, Counting.Shapes), each key random after its
// prefix as sys_ids and identity keys are, and the index key read is
// random too. That is the cost of the store alone: no rule, no match, no
// record decoded.
type Baseline struct {
	DB            *bdg.DB
	RecordsPerTxn int
	RecordSize    int
	Concurrency   int

	Writes          []Write
	WritesPerRecord float64
}

// Run writes records for d (or until ctx ends) and returns records/s.
func (b *Baseline) Run(ctx context.Context, d time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	size := b.RecordSize
	for _, w := range b.Writes {
		size = max(size, w.Value)
	}
	value := make([]byte, max(size, 1))
	var next, done atomic.Uint64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for g := range max(b.Concurrency, 1) {
		wg.Go(func() {
			w := writer{b: b, value: value, rng: rand.New(rand.NewPCG(uint64(g), 0x1ce))}
			for ctx.Err() == nil {
				n := max(b.RecordsPerTxn, 1)
				first := next.Add(uint64(n)) - uint64(n)
				err := b.DB.Update(func(txn *bdg.Txn) error {
					for i := range uint64(n) {
						if err := w.record(txn, first+i); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				done.Add(uint64(n))
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), firstErr
}

// writer is one goroutine of a baseline run.
type writer struct {
	b     *Baseline
	value []byte
	rng   *rand.Rand
	next  int     // the next of b.Writes to write
	owed  float64 // keys owed to WritesPerRecord
}

// record reads the index key of record n, finds it absent and writes.
func (w *writer) record(txn *bdg.Txn, n uint64) error {
	if len(w.b.Writes) > 0 {
		n = w.rng.Uint64()
	}
	id := binary.BigEndian.AppendUint64(nil, n)
	idx := append([]byte("i/"), id...)
	if _, err := txn.Get(idx); !errors.Is(err, bdg.ErrKeyNotFound) {
		return err
	}
	if len(w.b.Writes) == 0 {
		if err := txn.Set(append([]byte("r/"), id...), w.value[:max(w.b.RecordSize, 1)]); err != nil {
			return err
		}
		return txn.Set(idx, id)
	}
	for w.owed += w.b.WritesPerRecord; w.owed >= 1; w.owed-- {
		s := w.b.Writes[w.next%len(w.b.Writes)]
		w.next++
		key := make([]byte, max(s.Key, len(s.Prefix)+8))
		n := copy(key, s.Prefix)
		for ; n < len(key); n += 8 {
			var r [8]byte
			binary.LittleEndian.PutUint64(r[:], w.rng.Uint64())
			copy(key[n:], r[:])
		}
		if err := txn.Set(key, w.value[:s.Value]); err != nil {
			return err
		}
	}
	return nil
}
