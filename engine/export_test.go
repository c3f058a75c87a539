package engine

import (
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// CrashedRuleChange leaves st as a rule change to rs whose process was
// killed at once: holder holds the lease until now+ttl, and the store
// records rs, state reindexing.
func CrashedRuleChange(st store.Store, rs *rules.RuleSet, holder string, now time.Time, ttl time.Duration) error {
	if err := takeLease(st, holder, now, ttl); err != nil {
		return err
	}
	_, err := beginChange(st, rs, now)
	return err
}

// MigrateStep runs one bounded step of the record migration, as a process
// killed after it would have left the store.
func MigrateStep(st store.Store, batch, scan int) (int, bool, error) {
	return migrateStep(st, batch, scan)
}

// Clip bounds a text the engine keeps of a report.
var Clip = clip

// CountsUnder reads the index chunk counts under prefix as readers see
// them: the stored ones plus the deltas not yet folded.
var CountsUnder = countsUnder

// FoldCounts adds the pending index count deltas to the counts now.
func FoldCounts(e *Engine) error { return foldCounts(e.st) }

// StageOpen identifies and writes p in a write transaction it leaves
// open, as an Apply is just before it commits; commit commits it and
// discard drops it.
func StageOpen(e *Engine, source string, p *payload.Payload, o ApplyOptions) (res *Result, commit func() error, discard func(), err error) {
	o = o.effective()
	io := identify.Options{Source: source, Deduplicate: o.DeduplicatePayloads, PartialCommits: o.PartialCommits, NewSysID: e.opts.NewSysID, Now: e.opts.Now}
	txn := e.newTxn(source)
	if res, _, err = e.stage(txn, p, io, o, true); err != nil {
		txn.Discard()
		return nil, nil, nil, err
	}
	return res, txn.Commit, txn.Discard, nil
}

// ReadAheadRuns returns how many identifications the read-ahead ran.
func (e *Engine) ReadAheadRuns() int64 { return e.readAheadRuns.Load() }
