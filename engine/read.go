package engine

import (
	"context"
	"errors"
	"time"

	"github.com/irego/irego/relations"
	"github.com/irego/irego/store"
)

// CI is a stored CI as read back: its values and its relations both ways.
type CI struct {
	SysID   string         `json:"sys_id"`
	Class   string         `json:"class"`
	Values  map[string]any `json:"values"`
	Source  string         `json:"source,omitempty"`
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
	// FirstDiscovered and LastDiscovered are first_discovered and
	// last_discovered (zero for records from before they were kept).
	FirstDiscovered time.Time `json:"first_discovered,omitzero"`
	LastDiscovered  time.Time `json:"last_discovered,omitzero"`
	// DependsOn is the CI whose scope identifies this one (the parent of a
	// dependent CI, the main CI of a related record).
	DependsOn string `json:"depends_on,omitempty"`
	// Related are the related records (e.g. software installs) under the CI.
	Related []Ref `json:"related"`
	// Outbound are relations where this CI is the parent; Inbound, the child.
	Outbound []Link `json:"outbound"`
	Inbound  []Link `json:"inbound"`
	// Owners says which source set each attribute; Sources, when each
	// source last reported the CI and under which native key.
	Owners  map[string]string  `json:"owners,omitempty"`
	Sources []store.SourceInfo `json:"sources"`
	// Masked are the values sources reported and could not set: the last
	// one per attribute and source.
	Masked  []store.MaskedValue `json:"masked,omitempty"`
	Retired bool                `json:"retired,omitempty"`
	// Version is store.Record.Version: it moves with every change event
	// of the CI. HTTP adapters make their ETag of it.
	Version uint64 `json:"version,omitempty"`
}

// Ref names another record.
type Ref struct {
	SysID string `json:"sys_id"`
	Class string `json:"class"`
}

// Link is one relation seen from one of its ends: Other is the far end.
type Link struct {
	SysID string `json:"sys_id"`
	Type  string `json:"type"`
	Other Ref    `json:"ci"`
}

// Get reads one CI with its relations and related records. It returns
// ErrNotFound when no CI has sysID.
func (e *Engine) Get(ctx context.Context, sysID string) (*CI, error) {
	var ci *CI
	err := e.st.View(func(r store.Reader) error {
		rec, err := getRecord(r, sysID)
		if err != nil {
			return err
		}
		ci = &CI{SysID: rec.SysID, Class: rec.Class, Values: rec.Values, Source: rec.Source,
			Created: rec.Created, Updated: rec.Updated, FirstDiscovered: rec.FirstDiscovered, LastDiscovered: rec.LastDiscovered, DependsOn: rec.Scope,
			Related: []Ref{}, Outbound: []Link{}, Inbound: []Link{}, Owners: rec.Owners, Sources: []store.SourceInfo{}, Retired: rec.Retired, Version: rec.Version}
		if err := r.Iterate(store.SourcePrefix(sysID), func(_, v []byte) error {
			si, err := store.DecodeSourceInfo(v)
			if err == nil {
				si.Report = nil // read on its own (LastReport)
				ci.Sources = append(ci.Sources, *si)
			}
			return err
		}); err != nil {
			return err
		}
		if ci.Masked, err = readMasked(r, sysID); err != nil {
			return err
		}
		if err := r.Iterate(store.SubPrefix(sysID), func(k, _ []byte) error {
			sub, err := getRecord(r, store.SysIDFromSubKey(k))
			if err != nil {
				return err
			}
			ci.Related = append(ci.Related, Ref{sub.SysID, sub.Class})
			return nil
		}); err != nil {
			return err
		}
		out, err := relations.Outbound(r, sysID)
		if err != nil {
			return err
		}
		for _, ed := range out {
			if ci.Outbound, err = appendLink(r, ci.Outbound, ed, ed.Child); err != nil {
				return err
			}
		}
		in, err := relations.Inbound(r, sysID)
		if err != nil {
			return err
		}
		for _, ed := range in {
			if ci.Inbound, err = appendLink(r, ci.Inbound, ed, ed.Parent); err != nil {
				return err
			}
		}
		return nil
	})
	return ci, err
}

func appendLink(r store.Reader, links []Link, ed *store.Edge, other string) ([]Link, error) {
	rec, err := getRecord(r, other)
	if err != nil {
		return nil, err
	}
	return append(links, Link{SysID: ed.SysID, Type: ed.Type, Other: Ref{other, rec.Class}}), nil
}

func getRecord(r store.Reader, sysID string) (*store.Record, error) {
	b, err := r.Get(store.CIKey(sysID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return store.DecodeRecord(b)
}

// Record reads the stored record of one CI.
func (e *Engine) Record(ctx context.Context, sysID string) (*store.Record, error) {
	var rec *store.Record
	err := e.st.View(func(r store.Reader) (err error) {
		rec, err = getRecord(r, sysID)
		return err
	})
	return rec, err
}

// Walk returns the relations reachable from sysID following dir, at most
// depth relations away (depth ≤ 0: no limit). Cycles are safe.
func (e *Engine) Walk(ctx context.Context, sysID string, dir relations.Direction, depth int) ([]relations.Step, error) {
	var steps []relations.Step
	err := e.st.View(func(r store.Reader) error {
		if _, err := getRecord(r, sysID); err != nil {
			return err
		}
		var err error
		steps, err = relations.Walk(r, sysID, dir, depth)
		return err
	})
	return steps, err
}

// Records calls fn for every stored record, in sys_id order.
func (e *Engine) Records(ctx context.Context, fn func(*store.Record) error) error {
	return e.st.View(func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			return fn(rec)
		})
	})
}
