package engine

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/irego/irego/store"
)

// Batched updates of last_discovered, as ServiceNow's IRE makes them by
// default (glide.identification_engine.batch_update_last_discovered).
// A CI reported again unchanged only has its last_discovered move. Written
// in the payload's transaction, that write makes every concurrent payload
// that reports the same CI conflict and start again: a cloud account or a
// datacenter is in thousands of payloads. So the move is kept in memory
// once the payload commits and written with the others of the moment in a
// transaction of its own, at most Options.LastDiscoveredFlush later. A later
// report that changes the CI writes its discovery times with it, as
// before. Until a batch is written, reads show the previous
// last_discovered; Close and FlushLastDiscovered write what is pending.
// A crash loses at most the moves of the last interval, never a change.

// DefaultLastDiscoveredFlush is how often batched last_discovered moves are
// written.
const DefaultLastDiscoveredFlush = time.Second

// lastSeenBatchSize bounds the CIs one flush transaction writes.
const lastSeenBatchSize = 1000

// lastSeen holds the last_discovered moves waiting to be written.
type lastSeen struct {
	mu      sync.Mutex
	pending map[string]time.Time // sys_id → the latest last_discovered reported
	flushMu sync.Mutex           // one flush at a time
	// writing is held shared by every payload transaction of this engine
	// and exclusively by a flush while it writes: a flush that committed
	// during a payload's transaction would make it conflict and start
	// again whole (100 payloads, with ApplyBatch), so the flush waits for
	// the transactions under way and holds new ones back for its own.
	writing sync.RWMutex
	stop    chan struct{}
	stopped chan struct{}
}

func newLastSeen() *lastSeen {
	return &lastSeen{pending: map[string]time.Time{}, stop: make(chan struct{}), stopped: make(chan struct{})}
}

// add notes moves committed by a payload.
func (l *lastSeen) add(moves map[string]time.Time) {
	if len(moves) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, at := range moves {
		if at.After(l.pending[id]) {
			l.pending[id] = at
		}
	}
}

// take removes and returns what is pending.
func (l *lastSeen) take() map[string]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) == 0 {
		return nil
	}
	out := l.pending
	l.pending = map[string]time.Time{}
	return out
}

// runLastSeen writes the pending moves every interval until stop is closed, then
// once more.
func (e *Engine) runLastSeen(every time.Duration) {
	l := e.seen
	defer close(l.stopped)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			e.flushLastSeen() // its error is the store's: nothing more to do on close
			return
		case <-tick.C:
			e.flushLastSeen() // a failed batch is put back and tried at the next tick
		}
	}
}

// FlushLastDiscovered writes the last_discovered moves of CIs reported
// unchanged that are still waiting for their batch (see
// Options.ImmediateLastDiscovered), so that reads show them.
func (e *Engine) FlushLastDiscovered() error {
	if e.seen == nil {
		return nil
	}
	return e.flushLastSeen()
}

// flushLastSeen writes what is pending, in transactions of at most
// lastSeenBatchSize CIs. A move reaches the store only when it is later
// than the stored last_discovered, and it keeps the record's version: the
// CI did not change. What a failed transaction held is put back.
func (e *Engine) flushLastSeen() error {
	l := e.seen
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	moves := l.take()
	ids := slices.Sorted(maps.Keys(moves))
	for len(ids) > 0 {
		n := min(len(ids), lastSeenBatchSize)
		batch := ids[:n]
		err := retryConflicts(func() error {
			l.writing.Lock()
			defer l.writing.Unlock()
			return writeLastSeen(e.st, batch, moves)
		})
		if err != nil {
			rest := map[string]time.Time{}
			for _, id := range ids {
				rest[id] = moves[id]
			}
			l.add(rest)
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// writeLastSeen moves the last_discovered of the CIs ids in one
// transaction. CIs deleted or merged meanwhile are skipped.
func writeLastSeen(st store.Store, ids []string, moves map[string]time.Time) error {
	txn := st.NewTxn()
	defer txn.Discard()
	if pf, ok := txn.(store.Prefetcher); ok {
		// One round trip for the batch on a store whose reads are each one.
		keys := make([][]byte, len(ids))
		for i, id := range ids {
			keys[i] = store.CIKey(id)
		}
		if err := pf.Prefetch(keys); err != nil {
			return err
		}
	}
	wrote := false
	for _, id := range ids {
		b, err := txn.Get(store.CIKey(id))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		rec, err := store.DecodeRecord(b)
		if err != nil {
			return err
		}
		at := moves[id]
		if !at.After(rec.LastDiscovered) {
			continue
		}
		out, ok := store.WithLastDiscovered(b, at)
		if !ok {
			rec.LastDiscovered = at
			if out, err = store.EncodeRecord(rec); err != nil {
				return err
			}
		}
		if err := txn.Set(store.CIKey(id), out); err != nil {
			return err
		}
		wrote = true
	}
	if !wrote {
		return nil
	}
	return txn.Commit()
}

// seeLater notes that the CI's last_discovered moves to at once the
// transaction commits.
func (t *eventTxn) seeLater(sysID string, at time.Time) {
	if t.lastSeen == nil {
		t.lastSeen = map[string]time.Time{}
	}
	if at.After(t.lastSeen[sysID]) {
		t.lastSeen[sysID] = at
	}
}
