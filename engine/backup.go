package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/irego/irego/store"
)

// ErrNoBackup: the store cannot back itself up.
var ErrNoBackup = errors.New("engine: this store does not support backups")

// ErrBackupRunning: another backup of the store is running.
var ErrBackupRunning = errors.New("engine: a backup is already running; try again once it has finished")

// Backup writes a consistent backup of the whole store to w while
// payloads keep being applied. One runs at a time (each holds buffers of
// tens of MiB); another fails with ErrBackupRunning.
func (e *Engine) Backup(w io.Writer) error {
	b, ok := e.st.(store.Backuper)
	if !ok {
		return ErrNoBackup
	}
	if !e.backingUp.CompareAndSwap(false, true) {
		return ErrBackupRunning
	}
	defer e.backingUp.Store(false)
	return b.Backup(w)
}

// Restore loads a backup into this engine's store, which must be empty,
// then checks the schema and rebuilds the identity index if the backup was
// made under other rules.
func (e *Engine) Restore(r io.Reader) error {
	b, ok := e.st.(store.Backuper)
	if !ok {
		return ErrNoBackup
	}
	empty := true
	if err := e.st.View(func(rd store.Reader) error {
		return rd.Iterate([]byte("v1/"), func(_, _ []byte) error { empty = false; return store.ErrStop })
	}); err != nil {
		return err
	}
	if !empty {
		return fmt.Errorf("engine: restore needs an empty store; this one holds CIs")
	}
	// The backup says what format its records are in: a backup of an older
	// version says nothing, and its JSON records are converted below.
	t := e.st.NewTxn()
	defer t.Discard()
	if err := t.Delete(store.RecordFormatKey()); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return err
	}
	if err := b.Restore(r); err != nil {
		return fmt.Errorf("engine: restore: %w", err)
	}
	if err := store.CheckSchema(e.st); err != nil {
		return err
	}
	if _, err := migrateRecords(e.st); err != nil {
		return err
	}
	notices, _, err := reindexIfRulesChanged(e.st, e.ruleSet())
	e.notices = append(e.notices, notices...)
	if err != nil {
		return err
	}
	// A backup of an older release may hold its secondary index layout:
	// rebuilt here as on open, even when the rules are the same.
	if err := indexIfRulesChanged(e.st, e.ruleSet()); err != nil {
		return err
	}
	// The restoring engine's rules become the store's, as the backup may
	// record others.
	ch, err := ChangeRules(context.Background(), e.st, e.ruleSet(), RuleChangeOptions{Now: e.opts.Now, Holder: e.holder, LeaseTTL: e.opts.LeaseTTL})
	if ch != nil {
		e.notices = append(e.notices, ch.Notices...)
	}
	return err
}
