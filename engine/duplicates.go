package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// The states of a de-duplication task.
const (
	TaskOpen      = "open"
	TaskMerged    = "merged"
	TaskDismissed = "dismissed"
)

// DuplicateTask is a de-duplication task (ServiceNow's
// reconcile_duplicate_task with its duplicate_audit_result rows): a group
// of CIs that one identifier entry found together, which should be one CI.
type DuplicateTask struct {
	SysID  string `json:"sys_id"`
	Number string `json:"number"`
	State  string `json:"state"`
	// CIs are the duplicates, oldest first when the task was made.
	CIs []string `json:"cis"`
	// Entry is the identifier entry that found them, with its attributes
	// and the values the CIs share.
	Entry      string         `json:"entry"`
	Attributes []string       `json:"attributes"`
	Values     map[string]any `json:"values,omitempty"`
	// Source is the data source whose payload found the group, or "scan".
	Source  string    `json:"source"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Main is the CI the others were merged into (merged tasks).
	Main string `json:"main,omitempty"`
	// Notes say how the task was found and how it was closed.
	Notes []string `json:"notes,omitempty"`
}

// Errors of the de-duplication API.
var (
	// ErrTaskNotFound: no de-duplication task has the given sys_id or number.
	ErrTaskNotFound = errors.New("engine: no such de-duplication task")
	// ErrTaskClosed: the task was merged or dismissed already.
	ErrTaskClosed = errors.New("engine: the de-duplication task is closed")
)

// taskSequence numbers de-duplication tasks.
const taskSequence = "reconcile_duplicate_task"

// storeDuplicates records a task for every group of CIs in plan that has
// no open task yet, in txn. It returns how many tasks it wrote.
func (e *Engine) storeDuplicates(txn store.Txn, plan *identify.Plan, source string, now time.Time) (int, error) {
	n := 0
	for _, d := range plan.Duplicates {
		t, err := e.openTask(txn, d.SysIDs, d.Entry.ID, d.Entry.Attributes, d.Values, source, now,
			fmt.Sprintf("identifier entry %s [%s] found %d CIs in a payload of %s", d.Entry.ID, strings.Join(d.Entry.Attributes, ", "), len(d.SysIDs), source))
		if err != nil {
			return n, err
		}
		if t != nil {
			n++
		}
	}
	return n, nil
}

// openTask writes a task for ids unless an open one names the same CIs;
// it returns the new task, nil when there was one.
func (e *Engine) openTask(txn store.Txn, ids []string, entry string, attrs []string, values map[string]any, source string, now time.Time, note string) (*DuplicateTask, error) {
	okey := store.OpenDuplicateKey(ids)
	if _, err := txn.Get(okey); err == nil {
		return nil, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	num, err := nextIn(txn, taskSequence)
	if err != nil {
		return nil, err
	}
	t := &DuplicateTask{SysID: e.opts.NewSysID(), Number: fmt.Sprintf("DUP%07d", num), State: TaskOpen,
		CIs: slices.Clone(ids), Entry: entry, Attributes: slices.Clone(attrs), Values: values,
		Source: source, Created: now, Updated: now, Notes: []string{note}}
	if err := putTask(txn, t); err != nil {
		return nil, err
	}
	return t, txn.Set(okey, []byte(t.SysID))
}

// nextIn hands out the next number of a sequence inside txn.
func nextIn(txn store.Txn, sequence string) (int64, error) {
	b, err := txn.Get(store.SequenceKey(sequence))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	last := int64(0)
	if err == nil {
		if last, err = strconv.ParseInt(string(b), 10, 64); err != nil {
			return 0, fmt.Errorf("engine: sequence %s: corrupt value %q", sequence, b)
		}
	}
	return last + 1, txn.Set(store.SequenceKey(sequence), strconv.AppendInt(nil, last+1, 10))
}

func putTask(txn store.Txn, t *DuplicateTask) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return txn.Set(store.DuplicateTaskKey(t.SysID), b)
}

func decodeTask(b []byte) (*DuplicateTask, error) {
	var t DuplicateTask
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&t); err != nil {
		return nil, fmt.Errorf("engine: corrupt de-duplication task: %w", err)
	}
	for k, v := range t.Values {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				t.Values[k] = i
			} else {
				t.Values[k], _ = n.Float64()
			}
		}
	}
	return &t, nil
}

// DuplicateTasks returns the de-duplication tasks in the given state (all
// of them when state is ""), by number.
func (e *Engine) DuplicateTasks(ctx context.Context, state string) ([]*DuplicateTask, error) {
	var out []*DuplicateTask
	err := e.st.View(func(r store.Reader) error {
		var err error
		out, err = tasks(ctx, r, state)
		return err
	})
	return out, err
}

func tasks(ctx context.Context, r store.Reader, state string) ([]*DuplicateTask, error) {
	var out []*DuplicateTask
	err := r.Iterate(store.DuplicateTaskPrefix(), func(_, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		t, err := decodeTask(v)
		if err != nil {
			return err
		}
		if state == "" || t.State == state {
			out = append(out, t)
		}
		return nil
	})
	sort.Slice(out, func(a, b int) bool { return out[a].Number < out[b].Number })
	return out, err
}

// DuplicateTask returns one de-duplication task by sys_id or number, or
// ErrTaskNotFound.
func (e *Engine) DuplicateTask(ctx context.Context, id string) (*DuplicateTask, error) {
	var t *DuplicateTask
	err := e.st.View(func(r store.Reader) (err error) {
		t, err = findTask(ctx, r, id)
		return err
	})
	return t, err
}

func findTask(ctx context.Context, r store.Reader, id string) (*DuplicateTask, error) {
	if len(id) == store.SysIDLen {
		b, err := r.Get(store.DuplicateTaskKey(id))
		if err == nil {
			return decodeTask(b)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	all, err := tasks(ctx, r, "")
	if err != nil {
		return nil, err
	}
	for _, t := range all {
		if strings.EqualFold(t.Number, id) {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrTaskNotFound, id)
}

// DismissDuplicates closes a task without merging: its CIs are not
// duplicates after all (ServiceNow's Closed Skipped). A later payload or
// scan that finds the same group opens a new task.
func (e *Engine) DismissDuplicates(ctx context.Context, id, note string) (*DuplicateTask, error) {
	var t *DuplicateTask
	err := e.inTxn(ctx, "", func(txn store.Txn) (bool, error) {
		var err error
		if t, err = findTask(ctx, txn, id); err != nil {
			return false, err
		}
		if t.State != TaskOpen {
			return false, fmt.Errorf("%w: %s is %s", ErrTaskClosed, t.Number, t.State)
		}
		t.State, t.Updated = TaskDismissed, e.opts.Now().UTC()
		if note == "" {
			note = "dismissed: not duplicates"
		}
		t.Notes = append(t.Notes, note)
		return true, closeTask(txn, t)
	})
	return t, err
}

// closeTask stores a task that is no longer open.
func closeTask(txn store.Txn, t *DuplicateTask) error {
	okey := store.OpenDuplicateKey(t.CIs)
	if b, err := txn.Get(okey); err == nil && string(b) == t.SysID {
		if err := txn.Delete(okey); err != nil {
			return err
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return putTask(txn, t)
}

// ScanDuplicates finds every group of CIs whose values fill a unique
// identifier entry alike (as a store loaded by another tool, by older
// rules or from a backup may hold) and opens a task for each group that has
// none. It returns the tasks it opened.
func (e *Engine) ScanDuplicates(ctx context.Context) ([]*DuplicateTask, error) {
	type group struct {
		entry string
		ids   []string
		recs  []*store.Record
	}
	groups := map[string]*group{}
	var order []string
	err := e.st.View(func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			var main *store.Record
			if rec.Related {
				if main, err = getRecord(r, rec.Scope); err != nil {
					return nil // an orphan: Check reports it
				}
			}
			for _, k := range identify.KeysFor(e.ruleSet(), rec, main) {
				if !identify.UniqueIdentity(e.ruleSet(), k) {
					continue
				}
				g := groups[string(k)]
				if g == nil {
					g = &group{entry: store.EntryIDOfIdentity(k)}
					groups[string(k)] = g
					order = append(order, string(k))
				}
				g.ids = append(g.ids, rec.SysID)
				g.recs = append(g.recs, rec)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	var opened []*DuplicateTask
	now := e.opts.Now().UTC()
	for _, k := range order {
		g := groups[k]
		if len(g.ids) < 2 {
			continue
		}
		sort.Slice(g.recs, func(a, b int) bool { return older(g.recs[a], g.recs[b]) })
		ids := make([]string, len(g.recs))
		for i, rec := range g.recs {
			ids[i] = rec.SysID
		}
		en, _ := e.ruleSet().Entry(g.entry)
		var t *DuplicateTask
		err := e.inTxn(ctx, "", func(txn store.Txn) (bool, error) {
			var err error
			t, err = e.openTask(txn, ids, g.entry, en.Attributes, sharedValues(g.recs[0], en.Attributes), "scan", now,
				fmt.Sprintf("scan: %d CIs fill the unique identifier entry %s [%s] alike", len(ids), g.entry, strings.Join(en.Attributes, ", ")))
			return t != nil, err
		})
		if err != nil {
			return opened, err
		}
		if t != nil {
			opened = append(opened, t)
		}
	}
	return opened, nil
}

// older orders records as identification does (identify.Older): the
// first is the main CI by default.
func older(a, b *store.Record) bool { return identify.Older(a, b) }

func sharedValues(rec *store.Record, attrs []string) map[string]any {
	out := map[string]any{}
	for _, a := range attrs {
		if v, ok := rec.Values[a]; ok && !identify.Blank(v) {
			out[a] = payload.Canonical(v)
		}
	}
	return out
}
