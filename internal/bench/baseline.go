package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
)

// Baseline is the bare Badger loop identification has to beat: per record,
// read an index key, then write the record and its index key, in
// transactions of RecordsPerTxn records, with Concurrency writers.
type Baseline struct {
	DB            *bdg.DB
	RecordsPerTxn int
	RecordSize    int
	Concurrency   int
}

// Run writes records for d (or until ctx ends) and returns records/s.
func (b *Baseline) Run(ctx context.Context, d time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	value := make([]byte, max(b.RecordSize, 1))
	var next, done atomic.Uint64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range max(b.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := max(b.RecordsPerTxn, 1)
				first := next.Add(uint64(n)) - uint64(n)
				err := b.DB.Update(func(txn *bdg.Txn) error {
					for i := range uint64(n) {
						id := binary.BigEndian.AppendUint64(nil, first+i)
						idx := append([]byte("i/"), id...)
						if _, err := txn.Get(idx); !errors.Is(err, bdg.ErrKeyNotFound) {
							return err
						}
						if err := txn.Set(append([]byte("r/"), id...), value); err != nil {
							return err
						}
						if err := txn.Set(idx, id); err != nil {
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
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), firstErr
}
