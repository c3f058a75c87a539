package storetest

import (
	"errors"
	"testing"

	"github.com/irego/irego/store"
)

// ExpectReads checks what tx reads for each key: its value, or absent for
// "".
func ExpectReads(t testing.TB, tx store.Reader, want map[string]string) {
	t.Helper()
	for k, w := range want {
		v, err := tx.Get([]byte(k))
		switch {
		case w == "" && !errors.Is(err, store.ErrNotFound):
			t.Errorf("Get(%s) = %q, %v: want ErrNotFound", k, v, err)
		case w != "" && (err != nil || string(v) != w):
			t.Errorf("Get(%s) = %q, %v: want %q", k, v, err, w)
		}
	}
}
