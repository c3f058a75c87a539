package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentUserUpdates: concurrent changes to one user all succeed
// (conflicts are retried) or answer 409, never 500.
func TestConcurrentUserUpdates(t *testing.T) {
	v := newEnv(t)
	var wg sync.WaitGroup
	codes := make(chan string, 40)
	for i := range 40 {
		wg.Go(func() {
			roles := `["itil"]`
			if i%2 == 1 {
				roles = `["itil", "admin"]`
			}
			resp, body := v.do(t, "root", "PUT", "/api/irego/users/ann", strings.NewReader(`{"roles": `+roles+`}`))
			codes <- fmt.Sprintf("%d %s", resp.StatusCode, body)
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if !strings.HasPrefix(c, "200 ") && !strings.HasPrefix(c, "409 ") {
			t.Errorf("concurrent update: %s", c)
		}
	}
}
