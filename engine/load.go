package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/relations"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Loader bulk-loads the records of another CMDB as they are, keeping their
// sys_ids, without identifying them: CIs, related records, relations and
// native keys go in as given, in batched transactions; Index then builds
// the identity index and the secondary indexes with the engine's rules.
// CIs that fill a unique identifier entry alike become de-duplication
// tasks: the oldest holds the identity, the others are named with it.
//
// Every Put is idempotent (a CI put twice keeps the union of its values),
// so a load that was interrupted may repeat its last batch; Progress and
// SetProgress keep, in the store, how far each step of a load got. A
// Loader belongs to one goroutine, and nothing else should write to the
// store while it loads. Writes are committed by Flush and by Index.
type Loader struct {
	e  *Engine
	rs *rules.RuleSet // one rule set for the whole load
	b  *batch
}

// Loader starts a bulk load.
func (e *Engine) Loader() *Loader { return &Loader{e: e, rs: e.ruleSet(), b: newBatch(e.st)} }

// Flush commits what the loader holds.
func (l *Loader) Flush() error {
	err := l.b.flush()
	l.b = newBatch(l.e.st)
	return err
}

// Discard drops what the loader holds and has not committed.
func (l *Loader) Discard() { l.b.txn.Discard() }

// Progress reads what SetProgress recorded for step into v; it reports
// whether there was anything.
func (l *Loader) Progress(step string, v any) (bool, error) {
	b, err := l.b.txn.Get(store.ImportKey(step))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("engine: load progress %s: %w", step, err)
	}
	return true, nil
}

// SetProgress records v as how far step got; it is committed with (or
// after) every write put before it.
func (l *Loader) SetProgress(step string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return l.b.set(store.ImportKey(step), b)
}

// ClearProgress forgets the progress of every step, once a load is done.
func (l *Loader) ClearProgress() error {
	if err := l.Flush(); err != nil {
		return err
	}
	return deletePrefix(l.e.st, store.ImportPrefix())
}

// Exists reports whether a record with sysID is stored (or put).
func (l *Loader) Exists(sysID string) (bool, error) {
	rec, err := l.get(sysID)
	return rec != nil, err
}

func (l *Loader) get(sysID string) (*store.Record, error) {
	rec, err := getRecord(l.b.txn, sysID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// PutCI stores rec as a CI (Related and Scope are ignored: a CI's scope
// comes from the relations that make it depend on another). When the CI is
// stored already, as when one export lists it in the cmdb_ci table and in
// its class's, the values are merged and the more specific class kept.
// rec.Values must hold canonical values; the loader keeps rec.
func (l *Loader) PutCI(rec *store.Record) error {
	return l.b.op(func(t store.Txn) error {
		old, err := getRecord(t, rec.SysID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		rec.Related, rec.Scope, rec.IdentityKeys, rec.IndexKeys = false, "", nil, nil
		oldClass := ""
		if old != nil {
			oldClass = old.Class
			merge(l.rs, old, rec)
			rec = old
		}
		return putLoaded(t, rec, oldClass)
	})
}

// merge folds rec's values and times into old, keeping the more specific
// class of the two.
func merge(rs *rules.RuleSet, old, rec *store.Record) {
	if old.Values == nil {
		old.Values = map[string]any{}
	}
	for k, v := range rec.Values {
		old.Values[k] = v
	}
	oc, ok1 := rs.Class(old.Class)
	nc, ok2 := rs.Class(rec.Class)
	if ok1 && ok2 && nc.IsA(oc.Name) {
		old.Class = rec.Class
	}
	if old.Source == "" {
		old.Source = rec.Source
	}
	for _, p := range []struct{ dst, src *time.Time }{{&old.Created, &rec.Created}, {&old.Updated, &rec.Updated},
		{&old.FirstDiscovered, &rec.FirstDiscovered}, {&old.LastDiscovered, &rec.LastDiscovered}} {
		if p.dst.IsZero() {
			*p.dst = *p.src
		}
	}
}

// putLoaded writes a loaded record and its class membership, moving it
// out of the class it was in (oldClass; "" for a new record).
func putLoaded(t store.Txn, rec *store.Record, oldClass string) error {
	if oldClass != rec.Class {
		if oldClass != "" {
			if err := t.Delete(store.ClassKey(oldClass, rec.SysID)); err != nil {
				return err
			}
		}
		if err := t.Set(store.ClassKey(rec.Class, rec.SysID), nil); err != nil {
			return err
		}
	}
	b, err := store.EncodeRecord(rec)
	if err != nil {
		return err
	}
	return t.Set(store.CIKey(rec.SysID), b)
}

// ErrNoCI: a related record, relation or native key names a CI that is not
// loaded.
var ErrNoCI = errors.New("engine: no such CI loaded")

// PutRelated stores rec as a related record of the CI main (a lookup
// record such as a serial number, or a software install).
func (l *Loader) PutRelated(rec *store.Record, main string) error {
	return l.b.op(func(t store.Txn) error {
		m, err := getRecord(t, main)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrNoCI, main)
		}
		if err != nil {
			return err
		}
		if m.Related {
			return fmt.Errorf("%w: %s is a related record itself", ErrNoCI, main)
		}
		old, err := getRecord(t, rec.SysID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		rec.Related, rec.Scope, rec.IdentityKeys, rec.IndexKeys = true, main, nil, nil
		oldClass := ""
		if old != nil {
			oldClass = old.Class
			if old.Related && old.Scope != main {
				if err := t.Delete(store.SubKey(old.Scope, rec.SysID)); err != nil {
					return err
				}
			}
			merge(l.rs, old, rec)
			old.Related, old.Scope = true, main
			rec = old
		}
		if err := t.Set(store.SubKey(main, rec.SysID), nil); err != nil {
			return err
		}
		return putLoaded(t, rec, oldClass)
	})
}

// PutEdge stores a relation between two loaded CIs under the rules'
// spelling of its type. When the rules make one end depend on the other
// through that relation (a network adapter owned by a computer), the
// dependent CI's scope becomes the other end: a CI that may depend on
// several classes keeps the one its rule lists first.
func (l *Loader) PutEdge(ed *store.Edge) error {
	if rt, reversed, ok := l.rs.RelationType(ed.Type); ok {
		ed.Type = rt.Name
		if reversed {
			ed.Parent, ed.Child = ed.Child, ed.Parent
		}
	}
	return l.b.op(func(t store.Txn) error {
		parent, child, err := ends(t, ed)
		if err != nil {
			return err
		}
		if err := relations.Put(t, ed); err != nil {
			return err
		}
		for _, d := range []struct {
			item, host *store.Record
			dir        rules.Direction
		}{{child, parent, rules.ParentToItem}, {parent, child, rules.ItemToParent}} {
			if err := l.depend(t, d.item, d.host, ed.Type, d.dir); err != nil {
				return err
			}
		}
		return nil
	})
}

func ends(t store.Txn, ed *store.Edge) (parent, child *store.Record, err error) {
	for _, end := range []struct {
		id  string
		rec **store.Record
	}{{ed.Parent, &parent}, {ed.Child, &child}} {
		r, err := getRecord(t, end.id)
		if errors.Is(err, ErrNotFound) {
			return nil, nil, fmt.Errorf("%w: %s", ErrNoCI, end.id)
		}
		if err != nil {
			return nil, nil, err
		}
		*end.rec = r
	}
	return parent, child, nil
}

// depend makes item depend on host when item's rule says it depends on
// host's class through relType in direction dir.
func (l *Loader) depend(t store.Txn, item, host *store.Record, relType string, dir rules.Direction) error {
	rank := l.dependency(item, host.Class, relType, dir)
	if rank < 0 || item.Related || item.SysID == host.SysID {
		return nil
	}
	if item.Scope != "" {
		cur, err := getRecord(t, item.Scope)
		if err == nil && l.anyDependency(item, cur.Class) <= rank {
			return nil
		}
	}
	item.Scope = host.SysID
	return putLoaded(t, item, item.Class)
}

// dependency returns the position of the first dependency of item's rule
// on class through relType in direction dir; -1 when there is none.
func (l *Loader) dependency(item *store.Record, class, relType string, dir rules.Direction) int {
	c, ok := l.rs.Class(item.Class)
	hc, hok := l.rs.Class(class)
	if !ok || !hok || c.Rule == nil {
		return -1
	}
	for i, d := range c.Rule.DependsOn {
		if d.Direction == dir && hc.IsA(d.Class) && sameRelation(l.rs, d.Relation, relType) {
			return i
		}
	}
	return -1
}

// anyDependency is dependency for any relation and direction.
func (l *Loader) anyDependency(item *store.Record, class string) int {
	c, ok := l.rs.Class(item.Class)
	hc, hok := l.rs.Class(class)
	if !ok || !hok || c.Rule == nil {
		return -1
	}
	for i, d := range c.Rule.DependsOn {
		if hc.IsA(d.Class) {
			return i
		}
	}
	return len(c.Rule.DependsOn)
}

func sameRelation(rs *rules.RuleSet, a, b string) bool {
	if a == b {
		return true
	}
	ra, reva, ok1 := rs.RelationType(a)
	rb, revb, ok2 := rs.RelationType(b)
	return ok1 && ok2 && ra == rb && reva == revb
}

// PutNativeKey records that source knows the CI sysID by si.NativeKey
// under the source name si.Name (ServiceNow's sys_object_source).
func (l *Loader) PutNativeKey(sysID string, si store.SourceInfo) error {
	if si.Name == "" {
		si.Name = si.Source
	}
	return l.b.op(func(t store.Txn) error {
		if _, err := getRecord(t, sysID); errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrNoCI, sysID)
		} else if err != nil {
			return err
		}
		b, err := store.EncodeSourceInfo(&si)
		if err != nil {
			return err
		}
		if err := t.Set(store.NativeKey(si.Name, si.NativeKey), []byte(sysID)); err != nil {
			return err
		}
		return t.Set(store.SourceKey(sysID, si.Source), b)
	})
}

// IndexStats says what Index did.
type IndexStats struct {
	// Records are the records indexed, Orphans the related records whose
	// CI is missing (they hold no identity).
	Records, Orphans int
	// Tasks are the de-duplication tasks opened for CIs that fill a unique
	// identifier entry alike.
	Tasks []*DuplicateTask
}

// indexStep records the sys_id the identity pass got to: it walks the
// records in key order, a batch of indexBatch at a time, so that memory
// stays flat however many records there are and however their sys_ids
// are spread, and an interrupted Index resumes after the last batch.
const indexStep = "identities"

// indexBatch records are listed, indexed and committed with their
// checkpoint at a time.
const indexBatch = 2000

// Index builds the identity index and the secondary indexes of every
// loaded record, then opens a de-duplication task for every group of CIs
// that fill a unique identifier entry alike (the oldest of them holds the
// identity). progress, when not nil, is called with the records indexed so
// far. It commits as it goes and resumes where an interrupted Index
// stopped.
func (l *Loader) Index(ctx context.Context, progress func(done int)) (*IndexStats, error) {
	if err := l.Flush(); err != nil {
		return nil, err
	}
	var after string
	if _, err := l.Progress(indexStep, &after); err != nil {
		return nil, err
	}
	st := &IndexStats{}
	for {
		ids, err := l.recordsAfter(ctx, after, indexBatch)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := l.b.op(func(t store.Txn) error { return l.indexOne(t, id, st) }); err != nil {
				return nil, err
			}
			st.Records++
			if progress != nil && st.Records%10000 == 0 {
				progress(st.Records)
			}
		}
		after = ids[len(ids)-1]
		if err := l.SetProgress(indexStep, after); err != nil {
			return nil, err
		}
		if err := l.Flush(); err != nil {
			return nil, err
		}
	}
	if progress != nil {
		progress(st.Records)
	}
	tasks, err := l.openTasks(ctx)
	st.Tasks = tasks
	return st, err
}

// recordsAfter lists up to n sys_ids of stored records that sort after
// after ("" for the first ones), in key order.
func (l *Loader) recordsAfter(ctx context.Context, after string, n int) ([]string, error) {
	start := store.CIPrefix()
	if after != "" {
		start = append(store.CIKey(after), 0)
	}
	ids := make([]string, 0, n)
	err := l.e.st.View(func(r store.Reader) error {
		return r.IterateFrom(store.CIPrefix(), start, func(k, _ []byte) error {
			ids = append(ids, store.SysIDFromCIKey(k))
			if len(ids) == n {
				return store.ErrStop
			}
			return ctx.Err()
		})
	})
	if errors.Is(err, store.ErrStop) {
		err = nil
	}
	return ids, err
}

// indexOne gives the record sysID the identities and index entries its
// values and the rules give it. A unique identity another CI holds goes to
// the older of the two; the younger is noted for a de-duplication task.
func (l *Loader) indexOne(t store.Txn, sysID string, st *IndexStats) error {
	rec, err := getRecord(t, sysID)
	if err != nil {
		return err
	}
	var main *store.Record
	if rec.Related {
		if main, err = getRecord(t, rec.Scope); errors.Is(err, ErrNotFound) {
			st.Orphans++
		} else if err != nil {
			return err
		}
	}
	var keys [][]byte
	for _, k := range identify.KeysFor(l.rs, rec, main) {
		if identify.UniqueIdentity(l.rs, k) {
			holders, err := store.IdentityHolders(t, k)
			if err != nil {
				return err
			}
			if len(holders) > 0 && holders[0] != rec.SysID {
				lost, err := l.contest(t, k, rec, holders[0])
				if err != nil {
					return err
				}
				if lost {
					continue
				}
			}
		}
		keys = append(keys, k)
	}
	if err := store.ChangeIdentities(t, rec.SysID, rec.IdentityKeys, keys); err != nil {
		return err
	}
	rec.IdentityKeys = keys
	c, _ := l.rs.Class(rec.Class)
	if err := reindexRecord(t, c, rec, rec.IndexKeys); err != nil {
		return err
	}
	return putLoaded(t, rec, rec.Class)
}

// contest settles which of rec and the CI holding the unique identity k
// keeps it: the older. It reports whether rec lost; when the holder loses,
// it gives k up here.
func (l *Loader) contest(t store.Txn, k []byte, rec *store.Record, holderID string) (bool, error) {
	holder, err := getRecord(t, holderID)
	if err != nil {
		return false, err
	}
	if !identify.Older(rec, holder) {
		return true, t.Set(store.ImportDuplicateKey(k, rec.SysID), nil)
	}
	if err := store.ReleaseIdentity(t, k, holder.SysID); err != nil {
		return false, err
	}
	kept := holder.IdentityKeys[:0:0]
	for _, hk := range holder.IdentityKeys {
		if string(hk) != string(k) {
			kept = append(kept, hk)
		}
	}
	holder.IdentityKeys = kept
	if err := t.Delete(store.ImportDuplicateKey(k, rec.SysID)); err != nil {
		return false, err
	}
	if err := t.Set(store.ImportDuplicateKey(k, holder.SysID), nil); err != nil {
		return false, err
	}
	return false, putLoaded(t, holder, holder.Class)
}

// openTasks opens a task for every identity CIs were noted as sharing with
// its holder, and forgets the notes.
func (l *Loader) openTasks(ctx context.Context) ([]*DuplicateTask, error) {
	var opened []*DuplicateTask
	now := l.e.opts.Now().UTC()
	for {
		// One group at a time: the notes of the first identity left.
		var identity []byte
		var ids []string
		err := l.e.st.View(func(r store.Reader) error {
			return r.Iterate(store.ImportDuplicatesPrefix(), func(k, _ []byte) error {
				id, sysID := store.SplitImportDuplicateKey(k)
				if identity != nil && string(id) != string(identity) {
					return store.ErrStop
				}
				identity = id
				ids = append(ids, sysID)
				return nil
			})
		})
		if err != nil && !errors.Is(err, store.ErrStop) {
			return opened, err
		}
		if identity == nil {
			return opened, nil
		}
		var t *DuplicateTask
		err = l.e.inTxn(ctx, "import", func(txn store.Txn) (bool, error) {
			holders, err := store.IdentityHolders(txn, identity)
			if err != nil {
				return false, err
			}
			var recs []*store.Record
			for _, id := range append(holders, ids...) {
				if err := txn.Delete(store.ImportDuplicateKey(identity, id)); err != nil {
					return false, err
				}
				rec, err := getRecord(txn, id)
				if err != nil {
					return false, err
				}
				recs = append(recs, rec)
			}
			if len(recs) < 2 {
				return true, nil
			}
			sort.Slice(recs, func(a, b int) bool { return identify.Older(recs[a], recs[b]) })
			group := make([]string, len(recs))
			for i, rec := range recs {
				group[i] = rec.SysID
			}
			en, _ := l.rs.Entry(store.EntryIDOfIdentity(identity))
			var attrs []string
			if en != nil {
				attrs = en.Attributes
			}
			t, err = l.e.openTask(txn, group, store.EntryIDOfIdentity(identity), attrs, sharedValues(recs[0], attrs), "import", now,
				fmt.Sprintf("import: %d CIs fill the unique identifier entry %s [%s] alike; %s holds it", len(group), store.EntryIDOfIdentity(identity), strings.Join(attrs, ", "), group[0]))
			return true, err
		})
		if err != nil {
			return opened, err
		}
		if t != nil {
			opened = append(opened, t)
		}
	}
}
