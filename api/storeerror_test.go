package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// A write refused while the rules change asks to be sent again (503, which
// the error writers give a Retry-After); a full disk is 507; the rest 500.
func TestStoreErrorStatus(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("%w (to rules b.yaml)", engine.ErrRulesChanging), http.StatusServiceUnavailable},
		{store.ErrNoSpace, http.StatusInsufficientStorage},
		{store.ErrClosed, http.StatusInternalServerError},
	} {
		if got := StoreError(c.err).Status; got != c.want {
			t.Errorf("%v: %d, want %d", c.err, got, c.want)
		}
	}
}
