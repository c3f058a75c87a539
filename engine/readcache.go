package engine

import (
	"bytes"
	"errors"

	"github.com/irego/irego/store"
)

// readCache remembers what a write transaction read, so a key read again
// in it costs a map lookup instead of a store read: identification reads
// an identity guard and the write that holds the identity reads it again,
// relations.Put reads an edge and eventTxn reads it once more to see
// whether it is new. Every write through the transaction forgets the key
// first, so a read after a write goes to the transaction, which has it.
type readCache map[string]cachedRead

type cachedRead struct {
	value   []byte
	missing bool
}

// maxCachedReads bounds the cache of a transaction that reads a great
// many keys once (an import, a merge of large CIs): beyond it, reads go
// to the store as before.
const maxCachedReads = 1 << 14

// get reads k from r unless the transaction read it before. Callers own
// the value they get, as with store.Reader.Get.
func (c readCache) get(r store.Reader, k []byte) ([]byte, error) {
	if hit, ok := c[string(k)]; ok {
		if hit.missing {
			return nil, store.ErrNotFound
		}
		return bytes.Clone(hit.value), nil
	}
	v, err := r.Get(k)
	if len(c) < maxCachedReads {
		switch {
		case err == nil:
			c[string(k)] = cachedRead{value: bytes.Clone(v)}
		case errors.Is(err, store.ErrNotFound):
			c[string(k)] = cachedRead{missing: true}
		}
	}
	return v, err
}

// forget drops k, about to be written.
func (c readCache) forget(k []byte) {
	if len(c) > 0 {
		delete(c, string(k))
	}
}
