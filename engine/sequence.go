package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/irego/irego/store"
)

// Next hands out n consecutive numbers from the named sequence, kept in the
// store, and returns the first: 1 on a sequence's first use. Concurrent
// callers never get the same number. Adapters use it for numbers such as
// ServiceNow's PI0000001.
func (e *Engine) Next(ctx context.Context, sequence string, n int) (int64, error) {
	if n < 1 {
		return 0, fmt.Errorf("engine: Next: n = %d, want at least 1", n)
	}
	var first int64
	err := e.inTxn(ctx, "", func(txn store.Txn) (bool, error) {
		b, err := txn.Get(store.SequenceKey(sequence))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		last := int64(0)
		if err == nil {
			if last, err = strconv.ParseInt(string(b), 10, 64); err != nil {
				return false, fmt.Errorf("engine: sequence %s: corrupt value %q", sequence, b)
			}
		}
		first = last + 1
		return true, txn.Set(store.SequenceKey(sequence), strconv.AppendInt(nil, last+int64(n), 10))
	})
	return first, err
}
