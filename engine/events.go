package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/irego/irego/store"
)

// Event is one committed change of one CI (or related record), written in
// the transaction that made the change (a transactional outbox), so events
// are never lost and never tell of a change that was not committed. Every
// write path makes them: Apply and its kin, ApplyRemoving, Delete, merges,
// stale retirement and deletion.
//
// Seq numbers every event of a store, in commit order, shared by every
// process on the store; numbers may skip (a CI created and deleted by one
// transaction has none, expired events are gone). Events of one commit
// share Commit, the first number of the commit.
type Event struct {
	Seq    uint64    `json:"seq"`
	Commit uint64    `json:"commit"`
	At     time.Time `json:"at"`
	// Source is the data source the change came from (for deletes, merges
	// and stale removal, what the caller named).
	Source string `json:"source"`
	// Op is INSERT, UPDATE, RETIRE (an update that retired the CI) or
	// DELETE.
	Op    string `json:"operation"`
	SysID string `json:"sys_id"`
	// Class is the CI's class after the change (before it, for a delete);
	// ClassBefore is set when the change moved it.
	Class       string `json:"class"`
	ClassBefore string `json:"class_before,omitempty"`
	// Scope and Related are the record's: a related record's Scope is its
	// main CI.
	Scope   string `json:"scope,omitempty"`
	Related bool   `json:"related,omitempty"`
	Retired bool   `json:"retired,omitempty"`
	// Attributes holds every attribute the change touched, before and
	// after (all of them for an insert, none for a delete).
	Attributes map[string]store.ValueChange `json:"attributes"`
	// Values are the CI's values after the change (before it, for a
	// delete), exactly as committed.
	Values map[string]any `json:"values"`
	// Relations are the relations the change added or removed where the
	// CI is the parent; RelatedRecords the related records under it that
	// the same commit changed (each has its own event too).
	Relations      []RelationChange `json:"relations,omitempty"`
	RelatedRecords []string         `json:"related_records,omitempty"`
}

// RelationChange is a relation added to or removed from a CI, its parent.
type RelationChange struct {
	Type    string `json:"type"`
	Child   string `json:"child"`
	Removed bool   `json:"removed,omitempty"`
}

// Operations of events besides identify.OpInsert and identify.OpUpdate.
const (
	OpDelete = "DELETE"
	OpRetire = "RETIRE"
)

// DefaultEventRetention is how long events are kept when
// Options.EventRetention is 0.
const DefaultEventRetention = 7 * 24 * time.Hour

// ReadEvents returns up to limit events numbered from on, oldest first
// (fewer, or none, when fewer are stored).
func (e *Engine) ReadEvents(ctx context.Context, from uint64, limit int) ([]Event, error) {
	var out []Event
	err := e.st.View(func(r store.Reader) error {
		return iterateFrom(r, from, func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(out) >= limit {
				return store.ErrStop
			}
			ev, err := decodeEvent(k, v)
			if err != nil {
				return err
			}
			out = append(out, *ev)
			return nil
		})
	})
	if errors.Is(err, store.ErrStop) {
		err = nil
	}
	return out, err
}

// iterateFrom walks the events numbered from on, in order, seeking to
// the first: a follower's read costs what it reads, not the retention.
func iterateFrom(r store.Reader, from uint64, fn func(k, v []byte) error) error {
	return r.IterateFrom(store.EventPrefix(), store.EventKey(from), fn)
}

// unmarshalNumbers decodes JSON keeping numbers as json.Number.
func unmarshalNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// decodeEvent reads the event stored at k, in either stored format
// (eventcodec.go).
func decodeEvent(k, v []byte) (*Event, error) {
	if len(v) > 0 && v[0] == eventFormat {
		ev, err := decodeBinaryEvent(store.EventSeqOfKey(k), v)
		if err != nil {
			return nil, fmt.Errorf("engine: corrupt event %d: %w", store.EventSeqOfKey(k), err)
		}
		return ev, nil
	}
	var ev Event
	if err := unmarshalNumbers(v, &ev); err != nil {
		return nil, fmt.Errorf("engine: corrupt event %d: %w", store.EventSeqOfKey(k), err)
	}
	for a, vc := range ev.Attributes {
		vc.Before, vc.After = store.RestoreNumber(vc.Before), store.RestoreNumber(vc.After)
		ev.Attributes[a] = vc
	}
	for a, v := range ev.Values {
		ev.Values[a] = store.RestoreNumber(v)
	}
	return &ev, nil
}

// LastEvent returns the number of the last event handed out, 0 when
// there was none.
func (e *Engine) LastEvent(ctx context.Context) (uint64, error) {
	var last uint64
	err := e.st.View(func(r store.Reader) error {
		b, err := r.Get(store.EventSeqKey())
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(b) != 8 {
			return fmt.Errorf("engine: event counter holds %d bytes, want 8", len(b))
		}
		last = binary.BigEndian.Uint64(b)
		return nil
	})
	return last, err
}

// Events follows the outbox: it yields every event numbered from on, in
// order, then waits for more (woken by commits of this process, and
// looking every Options.EventPoll for those of others) until ctx ends or
// the engine closes. A store error is yielded and ends the sequence;
// ending ctx ends it without one. Events expired before they were read
// are skipped: compare Seq with the number expected to notice.
func (e *Engine) Events(ctx context.Context, from uint64) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for {
			wake := e.events.wait()
			release, ok := e.Hold()
			if !ok {
				return
			}
			evs, err := e.ReadEvents(ctx, from, 256)
			release()
			if err != nil {
				if ctx.Err() == nil {
					yield(Event{}, err)
				}
				return
			}
			for _, ev := range evs {
				if !yield(ev, nil) {
					return
				}
				from = ev.Seq + 1
			}
			if len(evs) > 0 {
				continue
			}
			if !e.WaitEvents(ctx, wake) {
				return
			}
		}
	}
}

// EventsWake returns a channel closed when this process next commits
// events; take it before reading, then wait on it with WaitEvents, so no
// commit between the read and the wait is missed.
func (e *Engine) EventsWake() <-chan struct{} { return e.events.wait() }

// WaitEvents waits until wake is closed, Options.EventPoll passes (for
// commits of other processes), ctx ends or the engine closes; it reports
// false for the last two.
func (e *Engine) WaitEvents(ctx context.Context, wake <-chan struct{}) bool {
	t := time.NewTimer(e.opts.EventPoll)
	defer t.Stop()
	select {
	case <-wake:
	case <-t.C:
	case <-ctx.Done():
		return false
	case <-e.events.closed:
		return false
	}
	return ctx.Err() == nil
}

// Done returns a channel closed when the engine starts closing:
// background work over the engine (event delivery, say) ends with it.
func (e *Engine) Done() <-chan struct{} { return e.events.closed }

// Hold keeps the engine, and its store, open until release is called; ok
// is false when it is closed already. Background work holds it while it
// reads or writes (not while it waits), so Close, which waits for every
// holder, never closes the store under it. A holder must not call Hold
// again before releasing.
func (e *Engine) Hold() (release func(), ok bool) {
	e.live.RLock()
	if e.closed {
		e.live.RUnlock()
		return nil, false
	}
	return e.live.RUnlock, true
}

// broadcast wakes the outbox's followers in this process.
type broadcast struct {
	mu     sync.Mutex
	ch     chan struct{}
	closed chan struct{}
}

func newBroadcast() *broadcast {
	return &broadcast{ch: make(chan struct{}), closed: make(chan struct{})}
}

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcast) wake() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}

// ExpireEvents deletes the events older than Options.EventRetention and
// returns how many it deleted.
func (e *Engine) ExpireEvents() (int, error) {
	if e.opts.EventRetention < 0 {
		return 0, nil
	}
	cut := e.opts.Now().Add(-e.opts.EventRetention)
	n := 0
	b := newBatch(e.st)
	err := e.st.View(func(r store.Reader) error {
		return r.Iterate(store.EventPrefix(), func(k, v []byte) error {
			if at, err := eventAt(v); err == nil && !at.Before(cut) {
				return store.ErrStop // numbered in commit order, so in time order
			}
			n++
			return b.del(append([]byte(nil), k...))
		})
	})
	if err != nil && !errors.Is(err, store.ErrStop) {
		return 0, err
	}
	return n, b.flush()
}

// VersionError refuses a conditional write: the CI is not at the version
// the caller read.
type VersionError struct {
	SysID     string
	Want, Has uint64
}

// Error names the CI and both versions.
func (e *VersionError) Error() string {
	return fmt.Sprintf("CI %s is at version %d, not %d: it changed since it was read", e.SysID, e.Has, e.Want)
}

// Is makes errors.Is(err, ErrVersionMismatch) true.
func (e *VersionError) Is(target error) bool { return target == ErrVersionMismatch }

// ErrVersionMismatch is what errors.Is finds in a *VersionError.
var ErrVersionMismatch = errors.New("engine: CI changed since it was read")

// checkVersions fails with a *VersionError unless every CI named is at
// the version given; the reads make a concurrent change conflict with the
// transaction, so the check holds at commit.
func checkVersions(r store.Reader, want map[string]uint64) error {
	for id, v := range want {
		rec, err := getRecord(r, id)
		if err != nil {
			return err
		}
		if rec.Version != v {
			return &VersionError{SysID: id, Want: v, Has: rec.Version}
		}
	}
	return nil
}
