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

// TestUsersAPIRefusesCaseVariantKeys: "roles" and "Roles" in one body do
// not let one of them win (the second used to make an admin).
func TestUsersAPIRefusesCaseVariantKeys(t *testing.T) {
	v := newEnv(t)
	resp, body := v.do(t, "root", "POST", "/api/irego/users", strings.NewReader(`{"name": "eve", "password": "a-long-secret", "roles": ["itil"], "Roles": ["admin"]}`))
	if resp.StatusCode != 400 || !strings.Contains(body, `keys \"roles\" and \"Roles\" differ only in case`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp, _ := v.do(t, "root", "GET", "/api/irego/users/eve", nil); resp.StatusCode != 404 {
		t.Fatalf("the user was created: %d", resp.StatusCode)
	}
}
