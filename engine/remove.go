package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/relations"
	"github.com/irego/irego/store"
)

// ErrReferenced is what errors.Is finds in a *ReferencedError.
var ErrReferenced = errors.New("engine: other CIs refer to the CI")

// ReferencedError refuses to delete a CI that other CIs point to.
type ReferencedError struct {
	SysID string
	// By are the relations whose child the CI is, seen from the CI: Other
	// is the CI pointing at it. Dependent CIs (identified under this one)
	// are among them, through the relation that qualifies them.
	By []Link
}

// Error names the CI and what still refers to it.
func (e *ReferencedError) Error() string {
	refs := make([]string, len(e.By))
	for i, l := range e.By {
		refs[i] = fmt.Sprintf("%s %s (%s)", l.Other.Class, l.Other.SysID, l.Type)
	}
	return fmt.Sprintf("CI %s is referenced by %s; remove those relations first, or delete with cascade", e.SysID, strings.Join(refs, ", "))
}

// Is makes errors.Is(err, ErrReferenced) true.
func (e *ReferencedError) Is(target error) bool { return target == ErrReferenced }

// DeleteOptions shape Delete.
type DeleteOptions struct {
	// Cascade deletes a CI others point to: the relations pointing at it go
	// with it (the CIs holding them stay), and so do the CIs identified
	// under it (dependent CIs), recursively.
	Cascade bool
	// Source names who deletes, in the change events.
	Source string
	// IfVersions makes the delete conditional, as ApplyOptions.IfVersions
	// makes an apply.
	IfVersions map[string]uint64
}

// Delete removes a CI with its related records, its relations, its
// identities, its index entries and its history, in one transaction. It
// returns the sys_ids it deleted, the CI's first. It returns ErrNotFound
// when no CI has sysID, and a *ReferencedError (errors.Is ErrReferenced)
// when another CI points at it and o.Cascade is false.
func (e *Engine) Delete(ctx context.Context, sysID string, o DeleteOptions) ([]string, error) {
	var deleted []string
	err := e.inTxn(ctx, o.Source, func(txn store.Txn) (bool, error) {
		deleted = nil
		if err := checkVersions(txn, o.IfVersions); err != nil {
			return false, err
		}
		rec, err := getRecord(txn, sysID)
		if err != nil {
			return false, err
		}
		return true, deleteTree(txn, rec, o.Cascade, &deleted)
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// deleteTree deletes rec and, with cascade, the CIs that depend on it.
func deleteTree(txn store.Txn, rec *store.Record, cascade bool, deleted *[]string) error {
	in, err := relations.Inbound(txn, rec.SysID)
	if err != nil {
		return err
	}
	if len(in) > 0 && !cascade {
		re := &ReferencedError{SysID: rec.SysID}
		for _, ed := range in {
			if re.By, err = appendLink(txn, re.By, ed, ed.Parent); err != nil {
				return err
			}
		}
		return re
	}
	dups, err := duplicatesOf(txn, rec.SysID)
	if err != nil {
		return err
	}
	if len(dups) > 0 && !cascade {
		return fmt.Errorf("%w: CI %s is the main CI of %s, merged into it (duplicate_of); delete those first, or delete with cascade", ErrReferenced, rec.SysID, strings.Join(dups, ", "))
	}
	deps, err := dependentsOf(txn, rec.SysID)
	if err != nil {
		return err
	}
	deps = append(deps, dups...) // with cascade, the retired duplicates go too
	if err := deleteCI(txn, rec); err != nil {
		return err
	}
	if rec.Related {
		if err := txn.Delete(store.SubKey(rec.Scope, rec.SysID)); err != nil {
			return err
		}
	}
	*deleted = append(*deleted, rec.SysID)
	for _, id := range deps {
		dep, err := getRecord(txn, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted already, through another path
		}
		if err != nil {
			return err
		}
		if err := deleteTree(txn, dep, true, deleted); err != nil {
			return err
		}
	}
	return nil
}

// Removal names what ApplyRemoving takes away from stored CIs.
type Removal struct {
	// Attributes to drop, by sys_id.
	Attributes map[string][]string
	// Relations to drop; those already gone are skipped.
	Relations []Unlink
	// Records to delete as Delete does without cascade (related records no
	// longer reported, say); those already gone are skipped.
	Records []string
	// IfVersions makes the call conditional, as ApplyOptions.IfVersions
	// makes an apply.
	IfVersions map[string]uint64
}

// Unlink names a relation by its type and ends.
type Unlink struct{ Type, Parent, Child string }

// ApplyRemoving takes away what rm names, then applies p as Apply does with
// StrictApplyOptions, in one transaction: when an item or relation of p
// fails, nothing at all is written and the result says why. It serves
// updates that replace what they send, such as a JSON merge patch, where
// Apply alone would only ever add. A CI that rm refers to and that another
// CI points at fails the call with a *ReferencedError.
func (e *Engine) ApplyRemoving(ctx context.Context, source string, p *payload.Payload, rm Removal) (*Result, error) {
	if why := e.cur.Load().sources.fault(source); why != "" {
		return invalidSource(p, why), nil
	}
	o := StrictApplyOptions().effective()
	io := identify.Options{Source: source, Deduplicate: o.DeduplicatePayloads, PartialCommits: o.PartialCommits, NewSysID: e.opts.NewSysID, Now: e.opts.Now}
	var res *Result
	err := e.inTxn(ctx, source, func(txn store.Txn) (bool, error) {
		if err := checkVersions(txn, rm.IfVersions); err != nil {
			return false, err
		}
		if err := e.remove(txn, rm, source, e.opts.Now().UTC()); err != nil {
			return false, err
		}
		var err error
		if res, _, err = e.stage(txn, p, io, o, true); err != nil {
			return false, err
		}
		return !res.HasError, nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (e *Engine) remove(txn store.Txn, rm Removal, source string, now time.Time) error {
	for _, id := range rm.Records {
		rec, err := getRecord(txn, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		var deleted []string
		if err := deleteTree(txn, rec, false, &deleted); err != nil {
			return err
		}
	}
	for _, u := range rm.Relations {
		ed, err := relations.Find(txn, u.Parent, u.Type, u.Child)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := relations.Delete(txn, ed); err != nil {
			return err
		}
	}
	for id, attrs := range rm.Attributes {
		if err := e.dropAttributes(txn, id, attrs, source, now); err != nil {
			return err
		}
	}
	return nil
}

// dropAttributes removes attributes from a stored CI, with their owners,
// and brings its identities and index entries up to date.
func (e *Engine) dropAttributes(txn store.Txn, sysID string, attrs []string, source string, now time.Time) error {
	rec, err := getRecord(txn, sysID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c := store.Change{At: now, Source: source, Op: identify.OpUpdate, Class: rec.Class, Attributes: map[string]store.ValueChange{}}
	for _, a := range attrs {
		if v, ok := rec.Values[a]; ok {
			c.Attributes[a] = store.ValueChange{Before: v}
			delete(rec.Values, a)
			delete(rec.Owners, a)
		}
	}
	if len(c.Attributes) == 0 {
		return nil
	}
	var main *store.Record
	if rec.Related {
		if main, err = getRecord(txn, rec.Scope); err != nil {
			return err
		}
	}
	keys := identify.KeysFor(e.ruleSet(), rec, main)
	if err := store.ChangeIdentities(txn, sysID, rec.IdentityKeys, keys); err != nil {
		return err
	}
	rec.IdentityKeys = keys
	class, _ := e.ruleSet().Class(rec.Class)
	if err := reindexRecord(txn, class, rec, rec.IndexKeys); err != nil {
		return err
	}
	rec.Updated = now
	if err := putChange(txn, sysID, c, now); err != nil {
		return err
	}
	b, err := store.EncodeRecord(rec)
	if err != nil {
		return err
	}
	return txn.Set(store.CIKey(sysID), b)
}

// inTxn runs fn in a write transaction and commits it when fn says so;
// when a concurrent write conflicts, it runs fn again on a fresh one.
// Its changes of CIs are events of source.
func (e *Engine) inTxn(ctx context.Context, source string, fn func(store.Txn) (commit bool, err error)) error {
	var s serializer
	defer s.done()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		eventful := false
		err := func() error {
			cur := e.cur.Load()
			txn := e.newTxn(source)
			defer txn.Discard()
			defer func() { eventful = txn.eventful() }()
			if err := e.checkRules(txn, cur); err != nil {
				return err
			}
			commit, err := fn(txn)
			if err != nil || !commit {
				return err
			}
			if e.cur.Load() != cur {
				return store.ErrConflict // the rules were swapped meanwhile: run again
			}
			return txn.Commit()
		}()
		if errors.Is(err, errRulesMoved) {
			if err := e.syncRules(); err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if attempt >= e.opts.MaxAttempts {
			return ErrTooManyConflicts
		}
		s.lost(e, eventful)
		backoff(attempt)
	}
}
