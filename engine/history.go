package engine

import (
	"context"
	"maps"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/store"
)

// History returns every recorded change of a CI, oldest first: who (the
// source), when, the operation, and each attribute's value before and after.
// Only updates are stored; the insert is derived from the record by undoing
// them, which saves a write per new CI.
func (e *Engine) History(ctx context.Context, sysID string) ([]store.Change, error) {
	var rec *store.Record
	var changes []store.Change
	err := e.st.View(func(r store.Reader) (err error) {
		if rec, err = getRecord(r, sysID); err != nil {
			return err
		}
		return r.Iterate(store.HistoryPrefix(sysID), func(_, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			c, err := store.DecodeChange(v)
			if err != nil {
				return err
			}
			changes = append(changes, *c)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	values, class := maps.Clone(rec.Values), rec.Class
	for i := len(changes) - 1; i >= 0; i-- {
		for k, vc := range changes[i].Attributes {
			if vc.Before == nil {
				delete(values, k)
			} else {
				values[k] = vc.Before
			}
		}
		if changes[i].ClassBefore != "" {
			class = changes[i].ClassBefore
		}
	}
	insert := store.Change{At: rec.Created, Source: rec.Source, Op: identify.OpInsert, Class: class, Attributes: map[string]store.ValueChange{}}
	for k, v := range values {
		insert.Attributes[k] = store.ValueChange{After: v}
	}
	return append([]store.Change{insert}, changes...), nil
}

// Snapshot is a CI as it was at a point in time.
type Snapshot struct {
	SysID  string         `json:"sys_id"`
	Class  string         `json:"class"`
	Values map[string]any `json:"values"`
	AsOf   time.Time      `json:"as_of"`
	// Source made the last change at or before AsOf.
	Source string `json:"source"`
}

// AsOf returns the CI as it was at t, replaying its history up to t. It
// returns ErrNotFound when the CI did not exist yet at t.
func (e *Engine) AsOf(ctx context.Context, sysID string, t time.Time) (*Snapshot, error) {
	changes, err := e.History(ctx, sysID)
	if err != nil {
		return nil, err
	}
	var snap *Snapshot
	for _, c := range changes {
		if c.At.After(t) {
			break
		}
		if snap == nil {
			snap = &Snapshot{SysID: sysID, Values: map[string]any{}, AsOf: t}
		}
		snap.Class, snap.Source = c.Class, c.Source
		for k, vc := range c.Attributes {
			if vc.After == nil {
				delete(snap.Values, k)
			} else {
				snap.Values[k] = vc.After
			}
		}
	}
	if snap == nil {
		return nil, ErrNotFound
	}
	return snap, nil
}
