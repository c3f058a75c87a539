package engine

import (
	"context"
	"time"

	"github.com/irego/irego/store"
)

// History returns every recorded change of a CI, oldest first: who (the
// source), when, the operation, and each attribute's value before and after.
func (e *Engine) History(ctx context.Context, sysID string) ([]store.Change, error) {
	var out []store.Change
	err := e.st.View(func(r store.Reader) error {
		if _, err := getRecord(r, sysID); err != nil {
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
			out = append(out, *c)
			return nil
		})
	})
	return out, err
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
