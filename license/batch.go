package license

import (
	"errors"

	"github.com/irego/irego/store"
)

// batchSize bounds the writes of one transaction of a batch.
const batchSize = 512

// batch writes many keys in transactions of at most batchSize writes, for
// data too large for one transaction that becomes visible some other way
// (an import's keys are read only once the state names the import). A
// conflicting commit is replayed.
type batch struct {
	m   *Manager
	ops []op
}

type op struct {
	key, value []byte
	del        bool
}

func (b *batch) set(key, value []byte) error {
	b.ops = append(b.ops, op{key: key, value: value})
	return b.maybeFlush()
}

func (b *batch) delete(key []byte) error {
	b.ops = append(b.ops, op{key: key, del: true})
	return b.maybeFlush()
}

func (b *batch) maybeFlush() error {
	if len(b.ops) < batchSize {
		return nil
	}
	return b.flush()
}

// flush commits what is pending.
func (b *batch) flush() error {
	if len(b.ops) == 0 {
		return nil
	}
	ops := b.ops
	b.ops = nil
	err := b.m.update(func(txn store.Txn) error { return apply(txn, ops) })
	if errors.Is(err, store.ErrTxnTooBig) && len(ops) > 1 {
		half := len(ops) / 2
		b.ops = ops[:half]
		if err := b.flush(); err != nil {
			return err
		}
		b.ops = ops[half:]
		return b.flush()
	}
	return err
}

func apply(txn store.Txn, ops []op) error {
	for _, o := range ops {
		var err error
		if o.del {
			err = txn.Delete(o.key)
		} else {
			err = txn.Set(o.key, o.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix removes every key under prefix, in batches.
func (m *Manager) deletePrefix(prefix []byte) error {
	var keys [][]byte
	err := m.st.View(func(r store.Reader) error {
		return r.Iterate(prefix, func(k, _ []byte) error {
			keys = append(keys, append([]byte(nil), k...))
			return nil
		})
	})
	if err != nil {
		return err
	}
	b := &batch{m: m}
	for _, k := range keys {
		if err := b.delete(k); err != nil {
			return err
		}
	}
	return b.flush()
}
