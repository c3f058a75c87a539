package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// DefaultRulesPoll is how often an engine on a shared store looks for a
// rule change when Options.RulesPoll is 0. Writes do not depend on it: each
// write transaction reads the store's rule set record and adopts a change
// it finds there before writing.
const DefaultRulesPoll = 5 * time.Second

// activeRules is the rule set an engine identifies with, swapped whole when
// the store's rules change. A payload attempt that saw another one than is
// current when it would commit runs again (see fresh).
type activeRules struct {
	rs       *rules.RuleSet
	fp       string
	sources  sourceList
	keyAttrs map[string]bool // keyAttributes(rs)
}

func (e *Engine) newActive(rs *rules.RuleSet) *activeRules {
	return &activeRules{rs: rs, fp: Fingerprint(rs), sources: newSourceList(e.opts.Sources, rs.Sources()), keyAttrs: keyAttributes(rs)}
}

// ruleSet is the rule set in force now.
func (e *Engine) ruleSet() *rules.RuleSet { return e.cur.Load().rs }

// follower keeps an engine on a shared store in step with its rules.
type follower struct {
	mu       sync.Mutex // one sync at a time
	badFP    string     // the stored rules that failed to load, and why
	badErr   error
	stop     chan struct{}
	closing  atomic.Bool
	wg       sync.WaitGroup
	resuming sync.Mutex            // one takeover at a time
	takeErr  atomic.Pointer[error] // why the last takeover failed
}

// settleRules decides at Open which rules the engine writes with: the
// store's when it records some (refusing other rules on a shared store
// unless Options.AdoptStoredRules), else its own, which it records. A
// Badger store belongs to this process alone, so other rules there are a
// rule change, done at once. indexed says it rebuilt the indexes for the
// rules, so that Open need not look again.
func (e *Engine) settleRules() (indexed bool, err error) {
	ro := RuleChangeOptions{Now: e.opts.Now, Holder: e.holder, LeaseTTL: e.opts.LeaseTTL}
	for {
		sr, _, err := ReadStoredRules(e.st)
		if err != nil {
			return false, err
		}
		cur := e.cur.Load()
		if sr != nil && sr.Fingerprint != cur.fp {
			switch {
			case e.opts.AdoptStoredRules:
				rs, _, err := loadStoredRules(e.st)
				if err != nil {
					return false, err
				}
				e.notices = append(e.notices, fmt.Sprintf("uses the store's rules %s (fingerprint %s) instead of %s (fingerprint %s)", sr.Name, short(sr.Fingerprint), ruleName(cur.rs), short(cur.fp)))
				e.cur.Store(e.newActive(rs))
				continue
			case e.shared:
				return false, &RulesMismatchError{Name: ruleName(cur.rs), Fingerprint: cur.fp, Stored: *sr}
			}
		}
		if sr == nil || sr.Fingerprint != cur.fp {
			// A new store, one from before rule sets were recorded, or
			// (Badger) other rules: this process's rules become the store's.
			ch, err := ChangeRules(context.Background(), e.st, cur.rs, ro)
			if errors.Is(err, ErrRulesLeaseHeld) {
				waitBriefly()
				continue // another process on a new store: wait for its rules
			}
			if err != nil {
				return false, err
			}
			e.notices = append(e.notices, ch.Notices...)
			indexed = indexed || !ch.Unchanged
			if sr != nil && !ch.Unchanged {
				e.notices = append(e.notices, fmt.Sprintf("the store's rules changed from %s (fingerprint %s) to %s (fingerprint %s); the CIs of %d classes were reindexed",
					sr.Name, short(sr.Fingerprint), ruleName(cur.rs), short(cur.fp), ch.Classes))
			}
			continue
		}
		if sr.State == RulesActive {
			return indexed, nil
		}
		// The rules are being changed to these: wait for the reindex, or
		// finish it when its lease has expired.
		if err := resumeChange(e.st, ro); err != nil {
			return false, err
		}
		waitBriefly()
	}
}

// waitBriefly paces a wait for another process's reindex.
func waitBriefly() { time.Sleep(50 * time.Millisecond) }

// startFollowing polls the store's rules every interval until Close.
func (e *Engine) startFollowing() {
	d := e.opts.RulesPoll
	if d == 0 {
		d = DefaultRulesPoll
	}
	e.follow.stop = make(chan struct{})
	if d < 0 {
		return
	}
	e.follow.wg.Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-e.follow.stop:
				return
			case <-t.C:
				e.syncRules()
			}
		}
	})
}

// stopFollowing ends the polling and waits for it.
func (e *Engine) stopFollowing() {
	if e.follow.stop != nil {
		e.follow.mu.Lock() // no sync starts a takeover after this
		e.follow.closing.Store(true)
		e.follow.mu.Unlock()
		close(e.follow.stop)
		e.follow.wg.Wait()
	}
}

// syncRules brings the engine to the store's rules: it adopts active rules
// it does not use yet, and takes over a change whose reindexer's lease
// expired. It returns ErrRulesChanging while a change is under way, or
// why the store's rules cannot be used.
func (e *Engine) syncRules() error {
	f := &e.follow
	f.mu.Lock()
	defer f.mu.Unlock()
	var sr *StoredRules
	var lease *RulesLease
	err := e.st.View(func(r store.Reader) (err error) {
		if sr, err = readStoredRules(r); err != nil {
			return err
		}
		lease, err = readLease(r)
		return err
	})
	if err != nil || sr == nil {
		return err
	}
	if sr.State == RulesReindexing {
		if (lease == nil || !e.opts.Now().Before(lease.Expires)) && !f.closing.Load() {
			f.wg.Go(e.takeOver)
		}
		why := ""
		if err := f.takeErr.Load(); err != nil {
			why = "; taking the change over failed: " + (*err).Error()
		}
		return fmt.Errorf("%w (to rules %s, fingerprint %s%s)", ErrRulesChanging, sr.Name, short(sr.Fingerprint), why)
	}
	cur := e.cur.Load()
	if sr.Fingerprint == cur.fp {
		return nil
	}
	if f.badFP == sr.Fingerprint {
		return f.badErr
	}
	rs, got, err := loadStoredRules(e.st)
	if err != nil {
		f.badFP, f.badErr = sr.Fingerprint, err
		return err
	}
	if got.Fingerprint != sr.Fingerprint || got.State != RulesActive {
		return fmt.Errorf("%w (to rules %s, fingerprint %s)", ErrRulesChanging, got.Name, short(got.Fingerprint))
	}
	e.cur.Store(e.newActive(rs))
	if h := e.opts.RulesChanged; h != nil {
		h(cur.fp, *got)
	}
	return nil
}

// takeOver finishes a rule change whose reindexer stopped renewing its
// lease; the next sync adopts the rules.
func (e *Engine) takeOver() {
	if !e.follow.resuming.TryLock() {
		return
	}
	defer e.follow.resuming.Unlock()
	if err := resumeChange(e.st, RuleChangeOptions{Now: e.opts.Now, Holder: e.holder, LeaseTTL: e.opts.LeaseTTL}); err != nil {
		e.follow.takeErr.Store(&err)
		return
	}
	e.follow.takeErr.Store(nil)
}

// errRulesMoved: the store's rule set record is not the engine's rules.
var errRulesMoved = errors.New("engine: the store's rules changed")

// checkRules is the first read of every write transaction on a shared
// store: the store must record the rules the attempt identifies with, in
// force. A change committed after this read conflicts with the write, so no
// write made under the old rules lands after the reindex.
func (e *Engine) checkRules(txn store.Txn, cur *activeRules) error {
	if !e.shared {
		return nil
	}
	sr, err := readStoredRules(txn)
	if err != nil || (sr != nil && sr.State == RulesActive && sr.Fingerprint == cur.fp) {
		return err
	}
	if sr == nil {
		return nil // a store recording no rules is written only before Open records them
	}
	return errRulesMoved
}

// adoptForReading makes a read-only engine use the store's rules when
// Options.AdoptStoredRules asks for it: reads (irego check above all)
// must see the store with the rules its indexes were built for.
func (e *Engine) adoptForReading() error {
	if !e.opts.AdoptStoredRules {
		return nil
	}
	rs, sr, err := loadStoredRules(e.st)
	if err != nil || sr == nil || sr.Fingerprint == e.cur.Load().fp {
		return err
	}
	e.notices = append(e.notices, fmt.Sprintf("uses the store's rules %s (fingerprint %s)", sr.Name, short(sr.Fingerprint)))
	e.cur.Store(e.newActive(rs))
	return nil
}
