package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/irego/irego/store"
)

// The reindex after a rule change runs once, in whichever process holds the
// lease (meta/ruleslease): a holder and an expiry, renewed while it runs.
// A holder that dies stops renewing; once the lease has expired another
// process takes it over and finishes the reindex, so a killed reindexer
// blocks writes only for the lease's lifetime.

// DefaultLeaseTTL is how long a rule change's lease lasts unless renewed.
const DefaultLeaseTTL = 30 * time.Second

// RulesLease is the lease of a rule change's reindex: who holds it, and
// until when unless renewed.
type RulesLease struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
}

// LeaseHeldError says who holds the lease of a rule change, and until when.
type LeaseHeldError struct {
	Holder  string
	Expires time.Time
}

// Error names the holder and when its lease runs out.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("engine: %s is changing the rules (its lease runs until %s unless renewed); try again once it is done",
		e.Holder, e.Expires.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrRulesLeaseHeld) true.
func (e *LeaseHeldError) Is(target error) bool { return target == ErrRulesLeaseHeld }

// newHolder names this process for a lease: host, process id and a random
// part, so two engines in one process differ too.
func newHolder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), NewSysID()[:8])
}

// ReadRulesLease returns the lease of a rule change under way; nil when
// there is none.
func ReadRulesLease(st store.Store) (*RulesLease, error) {
	var l *RulesLease
	err := st.View(func(r store.Reader) (err error) {
		l, err = readLease(r)
		return err
	})
	return l, err
}

// readLease returns the lease; nil when there is none.
func readLease(r store.Reader) (*RulesLease, error) {
	b, err := r.Get(store.RulesLeaseKey())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l RulesLease
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("engine: the rule change lease is damaged: %v", err)
	}
	return &l, nil
}

// takeLease makes holder the lease's holder until now+ttl when the lease is
// free, expired or already holder's (which renews it); otherwise it returns
// a LeaseHeldError.
func takeLease(st store.Store, holder string, now time.Time, ttl time.Duration) error {
	return retryConflicts(func() error {
		txn := st.NewTxn()
		defer txn.Discard()
		l, err := readLease(txn)
		if err != nil {
			return err
		}
		if l != nil && l.Holder != holder && now.Before(l.Expires) {
			return &LeaseHeldError{Holder: l.Holder, Expires: l.Expires}
		}
		b, err := json.Marshal(RulesLease{Holder: holder, Expires: now.Add(ttl)})
		if err != nil {
			return err
		}
		if err := txn.Set(store.RulesLeaseKey(), b); err != nil {
			return err
		}
		return txn.Commit()
	})
}

// holdsLease checks in txn that holder still holds the lease.
func holdsLease(txn store.Txn, holder string) error {
	l, err := readLease(txn)
	if err != nil {
		return err
	}
	if l == nil || l.Holder != holder {
		taker := "nobody"
		if l != nil {
			taker = l.Holder
		}
		return fmt.Errorf("engine: the rule change's lease expired and %s took it over; it finishes the reindex", taker)
	}
	return nil
}

// releaseLease gives the lease up if holder still holds it.
func releaseLease(st store.Store, holder string) error {
	return retryConflicts(func() error {
		txn := st.NewTxn()
		defer txn.Discard()
		l, err := readLease(txn)
		if err != nil || l == nil || l.Holder != holder {
			return err
		}
		if err := txn.Delete(store.RulesLeaseKey()); err != nil {
			return err
		}
		return txn.Commit()
	})
}

// renewLease renews holder's lease every third of ttl until the returned
// stop is called. A renewal that finds the lease taken stops renewing;
// the final step of the reindex then finds it lost.
func renewLease(st store.Store, holder string, now func() time.Time, ttl time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := takeLease(st, holder, now(), ttl); errors.Is(err, ErrRulesLeaseHeld) {
					return
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// retryConflicts runs fn again while it fails with a conflict, a few times.
func retryConflicts(fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if !errors.Is(err, store.ErrConflict) || attempt >= 64 {
			return err
		}
		backoff(attempt)
	}
}
