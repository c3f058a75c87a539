package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// RuleChangeOptions steer ChangeRules.
type RuleChangeOptions struct {
	// LeaseTTL is how long the lease lasts unless renewed (it is renewed
	// every third of it); 0 means DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Now is the clock of the lease; nil means time.Now.
	Now func() time.Time
	// Holder names this process in the lease; "" means host/pid/random.
	Holder string
}

func (o RuleChangeOptions) effective() RuleChangeOptions {
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Holder == "" {
		o.Holder = newHolder()
	}
	return o
}

// RuleChange reports what ChangeRules did.
type RuleChange struct {
	// From and To are the fingerprints before and after ("" when the store
	// recorded no rules).
	From, To string
	// Unchanged: the store already used these rules; nothing was done.
	Unchanged bool
	// Classes is how many classes' CIs were reindexed.
	Classes int
	// Notices name CIs that lost an identity to an older CI.
	Notices []string
}

// ChangeRules makes rs the rules of every process on st: it records them
// (state RulesReindexing, which holds every process's writes back with
// ErrRulesChanging), rebuilds the indexes of the classes whose rules
// changed, once, under the store's lease, and marks them active. Running
// engines on the store adopt them without a restart. It fails with a
// LeaseHeldError when another process is changing the rules, and may be
// run again after a failure: an unfinished change is finished or replaced.
func ChangeRules(ctx context.Context, st store.Store, rs *rules.RuleSet, o RuleChangeOptions) (*RuleChange, error) {
	o = o.effective()
	if err := store.CheckSchema(st); err != nil {
		return nil, err
	}
	if err := takeLease(st, o.Holder, o.Now(), o.LeaseTTL); err != nil {
		return nil, err
	}
	stop := renewLease(st, o.Holder, o.Now, o.LeaseTTL)
	defer releaseLease(st, o.Holder)
	defer stop()
	ch, err := beginChange(st, rs, o.Now())
	if err != nil || ch.Unchanged {
		return ch, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch.Notices, ch.Classes, err = finishChange(st, rs, o.Holder)
	return ch, err
}

// beginChange records rs as the store's rules, state RulesReindexing.
func beginChange(st store.Store, rs *rules.RuleSet, now time.Time) (*RuleChange, error) {
	fp := Fingerprint(rs)
	ch := &RuleChange{To: fp}
	err := retryConflicts(func() error {
		txn := st.NewTxn()
		defer txn.Discard()
		cur, err := readStoredRules(txn)
		if err != nil {
			return err
		}
		next := &StoredRules{Fingerprint: fp, Name: ruleName(rs), State: RulesReindexing, Since: now.UTC()}
		if cur != nil {
			ch.From = cur.Fingerprint
			if cur.Fingerprint == fp && cur.State == RulesActive {
				ch.Unchanged = true
				return nil
			}
			next.Previous, next.Reindexes, next.ReindexedBy = cur.Fingerprint, cur.Reindexes, cur.ReindexedBy
			if cur.State == RulesReindexing {
				next.Previous = cur.Previous
				if cur.Fingerprint != fp {
					// An unfinished change to other rules left some CIs
					// with keys of neither set: reindex every class.
					if err := txn.Delete(store.RulesHashKey()); err != nil {
						return err
					}
				}
			}
		}
		if err := putStoredRules(txn, next, rs.Source()); err != nil {
			return err
		}
		return txn.Commit()
	})
	return ch, err
}

// finishChange rebuilds the indexes for rs, the rules the store records as
// being changed to, and marks them active, if holder still holds the lease.
func finishChange(st store.Store, rs *rules.RuleSet, holder string) ([]string, int, error) {
	var notices []string
	var classes int
	err := retryConflicts(func() error {
		n, c, err := reindexIfRulesChanged(st, rs)
		notices, classes = append(notices, n...), classes+c // kept when a later step conflicts
		if err != nil {
			return err
		}
		return indexIfRulesChanged(st, rs)
	})
	if err != nil {
		return notices, classes, err
	}
	err = retryConflicts(func() error {
		txn := st.NewTxn()
		defer txn.Discard()
		if err := holdsLease(txn, holder); err != nil {
			return err
		}
		cur, err := readStoredRules(txn)
		if err != nil {
			return err
		}
		if cur == nil || cur.Fingerprint != Fingerprint(rs) {
			return errors.New("engine: the rules were changed again meanwhile; that change finishes the reindex")
		}
		if cur.State == RulesActive {
			return nil
		}
		cur.State, cur.Reindexes, cur.ReindexedBy = RulesActive, cur.Reindexes+1, holder
		if err := putStoredRules(txn, cur, nil); err != nil {
			return err
		}
		return txn.Commit()
	})
	return notices, classes, err
}

// resumeChange finishes a change whose reindexer stopped renewing its
// lease, as holder. It returns nil without doing anything when the lease
// is still held or the change is done.
func resumeChange(st store.Store, o RuleChangeOptions) error {
	o = o.effective()
	if err := takeLease(st, o.Holder, o.Now(), o.LeaseTTL); err != nil {
		if errors.Is(err, ErrRulesLeaseHeld) {
			return nil
		}
		return err
	}
	stop := renewLease(st, o.Holder, o.Now, o.LeaseTTL)
	defer releaseLease(st, o.Holder)
	defer stop()
	rs, sr, err := loadStoredRules(st)
	if err != nil || sr == nil || sr.State != RulesReindexing {
		return err
	}
	if _, _, err := finishChange(st, rs, o.Holder); err != nil {
		return fmt.Errorf("engine: finishing the change to rules %s: %w", short(sr.Fingerprint), err)
	}
	return nil
}

// ruleName is the file name a rule set was loaded from.
func ruleName(rs *rules.RuleSet) string {
	if n := rs.Name(); n != "" {
		return n
	}
	return "rules"
}
