package badger

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every waiter must be covered by a sync that began after it asked, and
// concurrent waiters must share syncs.
func TestGroupSyncCoversEveryWaiterWithFewerSyncs(t *testing.T) {
	var syncs atomic.Int64
	var started atomic.Int64 // ticket count when the running sync began
	var tickets atomic.Int64
	g := newGroupSync(func() error {
		started.Store(tickets.Load())
		syncs.Add(1)
		time.Sleep(2 * time.Millisecond) // an fsync's worth
		return nil
	})
	const waiters = 200
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			my := tickets.Add(1)
			if err := g.wait(); err != nil {
				t.Error(err)
			}
			if started.Load() < my {
				bad.Add(1) // the last sync began before this waiter asked
			}
		}()
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d waiters returned without a sync that began after them", bad.Load())
	}
	if n := syncs.Load(); n >= waiters/4 {
		t.Fatalf("%d syncs for %d concurrent waiters: commits are not grouped", n, waiters)
	}
}
