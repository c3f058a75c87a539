package auth

import (
	"errors"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/irego/irego/store/badger"
)

// Clients that start together with the same credentials cost one bcrypt
// check between them, and a wrong password fails for each of them.
func TestConcurrentSignInsShareOneCheck(t *testing.T) {
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := New(db)
	u.Cost = bcrypt.DefaultCost // slow enough for the clients to overlap
	if _, err := u.Add("sam", "sam-password", []string{"itil"}); err != nil {
		t.Fatal(err)
	}
	verifyAll := func(password string) []error {
		errs := make([]error, 16)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := range errs {
			wg.Go(func() {
				start.Wait()
				_, errs[i] = u.Verify("sam", password)
			})
		}
		start.Done()
		wg.Wait()
		return errs
	}
	for i, err := range verifyAll("sam-password") {
		if err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
	if n := u.compares.Load(); n != 1 {
		t.Errorf("16 clients with the right password made %d bcrypt checks, want 1", n)
	}
	for i, err := range verifyAll("wrong-password") {
		if !errors.Is(err, ErrBadCredentials) {
			t.Errorf("client %d with a wrong password: %v", i, err)
		}
	}
	if _, err := u.Verify("sam", "sam-password"); err != nil {
		t.Errorf("the right password after the wrong ones: %v", err)
	}
}
