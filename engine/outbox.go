package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// eventTxn is the write transaction every engine write runs in: it sees
// each record and relation the transaction writes or deletes, and turns
// them into change events committed with it (the transactional outbox).
// Watching the keys rather than the write paths means no path (apply,
// removal, merge, stale, delete) can forget its events.
//
// Events are numbered when the transaction commits, not when it makes
// them: records carry the number of their last event as their version, so
// a changed record is written once numbered, and reads of it before come
// from its pending event (heldRecord). A store
// that numbers commits itself (store.NumberedTxn: Badger) hands out the
// numbers in commit order without any reader of the counter, so
// concurrent writers do not conflict over it. On any other store
// (PostgreSQL, shared by processes) the transaction reads and writes the
// counter key at commit, so two commits that both add events conflict and
// the engine retries the later one. Either way event numbers follow commit
// order, shared by every process. Writes that change no CI (discovery
// times, source records, partial payloads) number nothing.
type eventTxn struct {
	store.Txn
	e      *Engine
	source string
	now    time.Time

	counted bool // the counter was read (stores that do not number commits)
	pending map[string]*pendingEvent
	order   []*pendingEvent
	// touched are CIs whose related records or outbound relations changed
	// in the transaction: their version moves too.
	touched map[string]*touch
	// lastSeen are the last_discovered moves of CIs the transaction
	// found unchanged, for the batch once it commits (lastseen.go).
	lastSeen map[string]time.Time
	// reads are the keys the transaction read (readcache.go).
	reads readCache
	// countDeltas are the changes to index chunk counts, written as one
	// delta key at commit (counts.go).
	countDeltas map[string]int64
	// since and intents are the transaction's start and the identity
	// guards it holds (intents.go); committed is set once it commits.
	// A dry run, which never commits, cannot conflict and ignores them.
	since     uint64
	intents   []string
	committed bool
	dry       bool
	// fresh are the sys_ids the transaction made, on a store that can take
	// keys under them as absent without reading them (noteFresh).
	fresh map[string]bool
	// isFresh tells fresh sys_ids, for store.KeyUnder; private takes
	// the writes under them, when the store's transaction can send them
	// early (store.PrivateWriter).
	isFresh func(sysID []byte) bool
	private store.PrivateWriter
}

// pendingEvent is one CI's change within the transaction: before as the
// transaction found it (nil: new), after as it leaves it (nil: deleted);
// seq is set when the transaction commits.
type pendingEvent struct {
	seq           uint64
	before, after *store.Record
}

type touch struct {
	related   []string
	relations []RelationChange
}

// newTxn starts a write transaction whose CI changes are recorded as
// events of source.
func (e *Engine) newTxn(source string) *eventTxn {
	since := e.intents.begin()
	t := &eventTxn{Txn: e.st.NewTxn(), e: e, source: source, now: e.opts.Now().UTC(), since: since,
		pending: map[string]*pendingEvent{}, touched: map[string]*touch{}, reads: readCache{}}
	t.whenVisible(nil)
	return t
}

// whenVisible makes fn (when not nil) run once the commit is visible,
// after the transaction lets go of its identity guards (store.OnVisible).
func (t *eventTxn) whenVisible(fn func()) {
	store.OnVisible(t.Txn, func() {
		t.e.intents.release(t, true)
		if fn != nil {
			fn()
		}
	})
}

// Discard lets go of the identity guards the transaction holds.
func (t *eventTxn) Discard() {
	t.e.intents.release(t, t.committed)
	t.Txn.Discard()
}

// Get reads k through the transaction's read cache; a CI's record the
// transaction changed comes from its pending event.
func (t *eventTxn) Get(k []byte) ([]byte, error) {
	if rec := t.heldRecord(k); rec != nil {
		return store.EncodeRecord(rec)
	}
	if !t.dry && store.IsIdentityKey(k) {
		if err := t.e.intents.check(t, k, false); err != nil {
			return nil, err
		}
	}
	if t.fresh != nil && store.KeyUnder(k, t.isFresh) {
		t.Txn.(store.AbsenceNoter).NoteAbsent(k)
	}
	return t.reads.get(t.Txn, k)
}

// noteFresh returns newID noting the sys_ids it makes in the transaction,
// when its store is a store.AbsenceNoter (PostgreSQL, where every read is a
// round trip; Badger, where a read asks every memtable and level);
// otherwise newID. No committed transaction holds a key under
// a sys_id the transaction made, so such keys need not be read: the
// identities of items that depend on a CI new in the payload, the new CI's
// record and source entry, its relations.
func (t *eventTxn) noteFresh(newID func() string) func() string {
	if _, ok := t.Txn.(store.AbsenceNoter); !ok {
		return newID
	}
	t.fresh = map[string]bool{}
	t.isFresh = func(id []byte) bool { return t.fresh[string(id)] }
	t.private, _ = t.Txn.(store.PrivateWriter)
	return func() string {
		id := newID()
		t.fresh[id] = true
		return id
	}
}

// heldRecord is the record under k when the transaction changed that CI
// and holds the record back until it numbers it at commit; nil otherwise.
func (t *eventTxn) heldRecord(k []byte) *store.Record {
	if !store.IsCIKey(k) {
		return nil
	}
	if pe := t.pending[string(k[len(store.CIPrefix()):])]; pe != nil {
		return pe.after
	}
	return nil
}

// Iterate and IterateFrom first write the records held back when the walk
// may meet them: a walk reads the store's transaction, not the events.
func (t *eventTxn) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	if err := t.writeHeld(prefix); err != nil {
		return err
	}
	return t.Txn.Iterate(prefix, fn)
}

func (t *eventTxn) IterateFrom(prefix, start []byte, fn func(k, v []byte) error) error {
	if err := t.writeHeld(prefix); err != nil {
		return err
	}
	return t.Txn.IterateFrom(prefix, start, fn)
}

func (t *eventTxn) writeHeld(prefix []byte) error {
	if !bytes.HasPrefix(prefix, store.CIPrefix()) && !bytes.HasPrefix(store.CIPrefix(), prefix) {
		return nil
	}
	for _, pe := range t.order {
		if pe.after != nil {
			if err := t.put(pe.after); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *eventTxn) Set(k, v []byte) error {
	switch {
	case store.IsCIKey(k):
		return t.setRecord(k, v)
	case store.IsIdentityKey(k):
		if err := t.e.intents.check(t, k, true); err != nil {
			return err
		}
	case store.IsOutKey(k):
		if _, err := t.Get(k); errors.Is(err, store.ErrNotFound) {
			ed, err := store.DecodeEdge(v)
			if err != nil {
				return err
			}
			t.touchOf(ed.Parent).relations = append(t.touchOf(ed.Parent).relations, RelationChange{Type: ed.Type, Child: ed.Child})
		} else if err != nil {
			return err
		}
	}
	t.reads.forget(k)
	if t.private != nil && store.KeyUnder(k, t.isFresh) {
		return t.private.SetPrivate(k, v)
	}
	return t.Txn.Set(k, v)
}

func (t *eventTxn) Delete(k []byte) error {
	switch {
	case store.IsIdentityKey(k):
		if err := t.e.intents.check(t, k, true); err != nil {
			return err
		}
	case store.IsCIKey(k):
		sysID := store.SysIDFromCIKey(k)
		cur, pe, err := t.current(sysID)
		if err != nil {
			return err
		}
		if cur != nil {
			if pe == nil {
				if pe, err = t.open(sysID, cur); err != nil {
					return err
				}
			}
			pe.after = nil
			if cur.Related && cur.Scope != "" {
				t.touchOf(cur.Scope).related = append(t.touchOf(cur.Scope).related, sysID)
			}
		}
	case store.IsOutKey(k):
		v, err := t.Get(k)
		if err == nil {
			ed, err := store.DecodeEdge(v)
			if err != nil {
				return err
			}
			t.touchOf(ed.Parent).relations = append(t.touchOf(ed.Parent).relations, RelationChange{Type: ed.Type, Child: ed.Child, Removed: true})
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	t.reads.forget(k)
	return t.Txn.Delete(k)
}

// setRecord writes a record that comes encoded.
func (t *eventTxn) setRecord(k, v []byte) error {
	rec, err := store.DecodeRecord(v)
	if err != nil {
		return err
	}
	if rec.SysID != store.SysIDFromCIKey(k) {
		return fmt.Errorf("engine: record of %s written under the key of %s", rec.SysID, store.SysIDFromCIKey(k))
	}
	return t.record(rec, nil, false)
}

// putCIRecord writes rec. Through an eventTxn it skips an encode-decode
// round trip, and when known is set, old is the record as txn read it (nil
// for a new one), which saves reading it again.
func putCIRecord(txn store.Txn, rec, old *store.Record, known bool) error {
	if t, ok := txn.(*eventTxn); ok {
		return t.record(rec, old, known)
	}
	b, err := store.EncodeRecord(rec)
	if err != nil {
		return err
	}
	return txn.Set(store.CIKey(rec.SysID), b)
}

// record writes rec, opening the event of its change (which gives rec its
// version at commit); a write that changes nothing an event reports
// (discovery times, owners, identity keys) keeps the version the record
// had.
func (t *eventTxn) record(rec, old *store.Record, known bool) error {
	sysID := rec.SysID
	cur, pe := old, t.pending[sysID]
	if pe != nil {
		cur = pe.after
	} else if !known {
		var err error
		if cur, _, err = t.current(sysID); err != nil {
			return err
		}
	}
	if pe == nil {
		if cur != nil && !differs(cur, rec) {
			rec.Version = cur.Version
			return t.put(rec)
		}
		var err error
		if pe, err = t.open(sysID, cur); err != nil {
			return err
		}
	}
	rec.Version = 0 // numbered at commit
	pe.after = rec
	if rec.Related && rec.Scope != "" {
		t.touchOf(rec.Scope).related = append(t.touchOf(rec.Scope).related, sysID)
	}
	// Written once, numbered, at commit; until then Get reads it from
	// pe.after (see heldRecord).
	t.reads.forget(store.CIKey(sysID))
	return nil
}

// setUnreported writes the stored form b of a CI whose change no event
// reports (its discovery times), keeping its version. It does nothing and
// says so when the transaction changed the CI before: then the record
// must go through record, which keeps the pending event's state.
func (t *eventTxn) setUnreported(sysID string, b []byte) (done bool, err error) {
	if t.pending[sysID] != nil {
		return false, nil
	}
	k := store.CIKey(sysID)
	t.reads.forget(k)
	return true, t.Txn.Set(k, b)
}

func (t *eventTxn) put(rec *store.Record) error {
	b, err := store.EncodeRecord(rec)
	if err != nil {
		return err
	}
	k := store.CIKey(rec.SysID)
	t.reads.forget(k)
	if t.private != nil && t.fresh[rec.SysID] {
		// A new CI's record: the store may send it while the commit
		// numbers the rest, as a row no one else writes.
		return t.private.SetPrivate(k, b)
	}
	return t.Txn.Set(k, b)
}

// current returns the record as the transaction has it now, and its
// pending event when it has one.
func (t *eventTxn) current(sysID string) (*store.Record, *pendingEvent, error) {
	if pe := t.pending[sysID]; pe != nil {
		return pe.after, pe, nil
	}
	b, err := t.Get(store.CIKey(sysID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	rec, err := store.DecodeRecord(b)
	return rec, nil, err
}

// eventful says whether the transaction changed a CI, so makes events
// (see serializer).
func (t *eventTxn) eventful() bool { return t.counted || len(t.order) > 0 }

// open starts the event of a CI's change.
func (t *eventTxn) open(sysID string, before *store.Record) (*pendingEvent, error) {
	pe := &pendingEvent{before: before}
	t.pending[sysID] = pe
	t.order = append(t.order, pe)
	return pe, nil
}

func (t *eventTxn) touchOf(sysID string) *touch {
	tc := t.touched[sysID]
	if tc == nil {
		tc = &touch{}
		t.touched[sysID] = tc
	}
	return tc
}

// Commit numbers the transaction's events, writes them and the records
// with their versions, then commits; when it did, the followers of the
// outbox in this process wake.
func (t *eventTxn) Commit() (err error) {
	defer func() { t.committed = err == nil }()
	if err := t.finish(); err != nil {
		return err
	}
	if len(t.order) == 0 || t.e.shared {
		// No change event to number the count deltas by (index entries
		// change with records, which make events), or a shared store,
		// which folds no deltas (see addCount): add them at once.
		if err := t.addCountsNow(); err != nil {
			return err
		}
	}
	if len(t.order) == 0 {
		return t.Txn.Commit()
	}
	deltas := store.EncodeIndexDeltas(t.countDeltas)
	if deltas != nil {
		defer func() {
			if err == nil {
				t.e.counts.woken()
			}
		}()
	}
	// Encoded before numbering: a store that numbers commits does so under
	// a lock, which should cover as little as it can. The stored form
	// needs no number: its key holds it, and the event's place in the
	// commit gives the commit's.
	evs := make([][]byte, len(t.order))
	for i, pe := range t.order {
		ev, ok := t.event(pe)
		if !ok {
			continue
		}
		b, err := encodeEvent(ev, uint64(i))
		if err != nil {
			return err
		}
		evs[i] = b
	}
	n := uint64(len(t.order))
	if nt, ok := t.Txn.(store.NumberedTxn); ok {
		err = nt.CommitNumbered(n, func(first uint64) error { return t.number(first, evs, deltas) })
	} else {
		err = t.commitCounted(n, evs, deltas)
	}
	if err != nil {
		return err
	}
	t.e.events.wake()
	return nil
}

// commitCounted numbers the events from the counter key, read and written
// in the transaction, and commits.
func (t *eventTxn) commitCounted(n uint64, evs [][]byte, deltas []byte) error {
	var last uint64
	t.counted = true
	b, err := t.Txn.Get(store.EventSeqKey())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case len(b) != 8:
		return fmt.Errorf("engine: event counter holds %d bytes, want 8", len(b))
	default:
		last = binary.BigEndian.Uint64(b)
	}
	if err := t.number(last+1, evs, deltas); err != nil {
		return err
	}
	if err := t.Txn.Set(store.EventSeqKey(), binary.BigEndian.AppendUint64(nil, last+n)); err != nil {
		return err
	}
	return t.Txn.Commit()
}

// number gives the events the numbers from first on, in the order they
// were opened, and writes each record at its event's number, each event,
// and the index count deltas (stored form, nil for none) under the first.
func (t *eventTxn) number(first uint64, evs [][]byte, deltas []byte) error {
	if deltas != nil {
		if err := t.Txn.Set(store.IndexDeltaKey(first), deltas); err != nil {
			return err
		}
	}
	// An event's number is new: it comes from the counter the transaction
	// read, or from the store's numbering.
	setEvent := t.Txn.Set
	if nw, ok := t.Txn.(store.NewWriter); ok {
		setEvent = nw.SetNew
	}
	for i, pe := range t.order {
		pe.seq = first + uint64(i)
		if pe.after != nil {
			pe.after.Version = pe.seq
			if err := t.put(pe.after); err != nil {
				return err
			}
		}
		if evs[i] == nil {
			continue
		}
		if err := setEvent(store.EventKey(pe.seq), evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// finish gives the CIs whose related records or relations changed an
// event of their own (when their record did not change itself); their
// records are written when the events are numbered.
func (t *eventTxn) finish() error {
	for _, id := range slices.Sorted(maps.Keys(t.touched)) {
		cur, pe, err := t.current(id)
		if err != nil {
			return err
		}
		if cur == nil || pe != nil {
			continue // gone, or changed itself
		}
		if pe, err = t.open(id, cur); err != nil {
			return err
		}
		after := *cur
		pe.after = &after
	}
	return nil
}

// event is the event pe makes; false for a CI created and deleted by the
// same transaction.
func (t *eventTxn) event(pe *pendingEvent) (*Event, bool) {
	rec := pe.after
	if rec == nil {
		rec = pe.before
	}
	if rec == nil {
		return nil, false
	}
	ev := &Event{At: t.now, Source: t.source, SysID: rec.SysID, Class: rec.Class,
		Scope: rec.Scope, Related: rec.Related, Retired: rec.Retired, Values: rec.Values, Attributes: map[string]store.ValueChange{}}
	if tc := t.touched[rec.SysID]; tc != nil && pe.after != nil {
		ev.RelatedRecords, ev.Relations = slices.Compact(slices.Sorted(slices.Values(tc.related))), tc.relations
	}
	switch {
	case pe.before == nil:
		ev.Op = identify.OpInsert
		for k, v := range rec.Values {
			ev.Attributes[k] = store.ValueChange{After: v}
		}
	case pe.after == nil:
		ev.Op = OpDelete
	default:
		ev.Op = identify.OpUpdate
		if pe.after.Retired && !pe.before.Retired {
			ev.Op = OpRetire
		}
		if pe.before.Class != pe.after.Class {
			ev.ClassBefore = pe.before.Class
		}
		ev.Attributes = valueChanges(pe.before.Values, pe.after.Values)
	}
	return ev, true
}

// differs reports whether b changes what an event reports of a.
func differs(a, b *store.Record) bool {
	return a.Class != b.Class || a.Retired != b.Retired || a.Scope != b.Scope || len(valueChanges(a.Values, b.Values)) > 0
}

// valueChanges lists the attributes whose value differs between before
// and after.
func valueChanges(before, after map[string]any) map[string]store.ValueChange {
	out := map[string]store.ValueChange{}
	for k, v := range after {
		if w, ok := before[k]; !ok || payload.Canonical(w) != payload.Canonical(v) {
			out[k] = store.ValueChange{Before: w, After: v}
		}
	}
	for k, w := range before {
		if _, ok := after[k]; !ok {
			out[k] = store.ValueChange{Before: w}
		}
	}
	return out
}

// serializer cuts the cost of conflicts between writes that change CIs.
// Such writes often share records (a data center or account many CIs are
// hosted on, whose discovery times every payload moves; on stores that do
// not number commits, the event counter), and redoing the loser's whole
// identification only to collide again wastes the work of many attempts.
// So a write that changed a CI and lost a race takes Engine.retries for
// its further attempts: the retried writes of a process run one at a
// time, while first attempts, and writes that change no CI, still run
// side by side. Races over an identity another write of this process is
// creating are mostly caught before commit, and wait for that write
// instead (intents.go).
type serializer struct{ e *Engine }

// lost notes a conflict; eventful says the transaction changed a CI.
func (s *serializer) lost(e *Engine, eventful bool) {
	if eventful && s.e == nil {
		e.retries.Lock()
		s.e = e
	}
}

// done lets the next retried write go; it may be called more than once.
func (s *serializer) done() {
	if s.e != nil {
		s.e.retries.Unlock()
		s.e = nil
	}
}
