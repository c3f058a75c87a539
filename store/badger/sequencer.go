package badger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/irego/irego/store"
)

// sequencer hands out the numbers of the change event sequence at commit
// time. A counter key that every writer reads would make any two writers
// conflict; instead numbers are taken, and the transaction handed to
// Badger, under one lock. Badger gives commits their timestamps in the
// order they are handed over, and a reader sees every commit up to its
// read timestamp, so a reader that sees number k sees every committed
// number below k: followers never find a gap that fills later. The lock
// covers only numbering and the hand-over, not the write or the fsync,
// so commits still share Badger's write batches and one group sync.
// Numbers of a commit that then fails (a conflict) are skipped.
type sequencer struct {
	mu     sync.Mutex
	loaded bool
	next   uint64 // the next number to hand out, once loaded
}

// reset makes the next commit read the counter again (after a restore).
func (s *sequencer) reset() {
	s.mu.Lock()
	s.loaded = false
	s.mu.Unlock()
}

// load reads the last number handed out from the store, outside any
// write transaction so that no writer reads the counter.
func (s *sequencer) load(db *bdg.DB) error {
	if s.loaded {
		return nil
	}
	var last uint64
	err := db.View(func(t *bdg.Txn) error {
		it, err := t.Get(store.EventSeqKey())
		if errors.Is(err, bdg.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("store: event counter holds %d bytes, want 8", len(v))
			}
			last = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if err != nil {
		return mapErr(err)
	}
	s.next, s.loaded = last+1, true
	return nil
}

// CommitNumbered commits like Commit, after fill has written the keys that
// carry n numbers of the change event sequence, first to first+n-1; the
// counter key records the last. See sequencer for the order it keeps.
func (t *txn) CommitNumbered(n uint64, fill func(first uint64) error) (err error) {
	defer recoverDamage(t.dir, &err)
	if t.seq == nil {
		return errors.New("store: a transaction of a closed store cannot number its commit")
	}
	if err := t.space.check(); err != nil {
		return err
	}
	done := make(chan error, 1)
	if err := t.handOver(n, fill, done); err != nil {
		return err
	}
	err = <-done
	t.done()
	if err != nil {
		return mapErr(err)
	}
	return t.committed()
}

// handOver numbers the transaction and hands it to Badger, under the
// sequencer's lock; done receives the outcome of the commit.
func (t *txn) handOver(n uint64, fill func(first uint64) error, done chan error) error {
	s := t.seq
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(t.db); err != nil {
		return err
	}
	first := s.next
	if err := fill(first); err != nil {
		return err
	}
	if err := t.Set(store.EventSeqKey(), binary.BigEndian.AppendUint64(nil, first+n-1)); err != nil {
		return err
	}
	s.next = first + n
	t.t.CommitWith(func(err error) { done <- err })
	return nil
}
