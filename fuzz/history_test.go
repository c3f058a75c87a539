package fuzz

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
	"pgregory.net/rapid"
)

// foldFunc replays a CI's history from nothing, up to and including the
// changes at upTo: the class and values it had then, and whether it
// existed.
type foldFunc func(changes []store.Change, upTo time.Time) (class string, values map[string]any, existed bool)

// fold is the replay the history promises: each change sets the class
// and every attribute it touched to its value after (absent: removed).
func fold(changes []store.Change, upTo time.Time) (string, map[string]any, bool) {
	class, values, existed := "", map[string]any{}, false
	for _, c := range changes {
		if c.At.After(upTo) {
			break
		}
		class, existed = c.Class, true
		for k, vc := range c.Attributes {
			if vc.After == nil {
				delete(values, k)
			} else {
				values[k] = vc.After
			}
		}
	}
	return class, values, existed
}

// Differential property 3: history replays to the state. After a feed
// sequence, maybe a merge of a de-duplication task and a stale clean-up,
// every record's history is in time order, folding it from nothing gives
// the stored class and values, and engine.AsOf at each change and
// between any two changes gives the fold up to that time (and nothing
// before the first).
func TestPropHistoryReplaysToTheState(t *testing.T) {
	t.Parallel()
	e := openShared(t, nil)
	rapid.Check(t, func(t *rapid.T) {
		if v := checkHistory(t, e.fresh(t), fold); v != "" {
			t.Fatal(v)
		}
	})
}

// checkHistory returns the first way a record's history and the stored
// record or AsOf disagree under fold ("" when none does).
func checkHistory(t *rapid.T, e *feedEngine, fold foldFunc) string {
	ctx := context.Background()
	for _, s := range feedSteps(t, 3) {
		applyStep(t, e.Engine, s)
	}
	maintain(t, e, e.clock.between())
	var recs []*store.Record
	if err := e.Records(ctx, func(r *store.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatalf("Records: %v", err)
	}
	for _, rec := range recs {
		changes, err := e.History(ctx, rec.SysID)
		if err != nil {
			t.Fatalf("History(%s): %v", rec.SysID, err)
		}
		for i := 1; i < len(changes); i++ {
			if changes[i].At.Before(changes[i-1].At) {
				return fmt.Sprintf("%s: change %d at %s comes after change %d at %s\n%s", rec.SysID, i, changes[i].At, i-1, changes[i-1].At, jsonOf(changes))
			}
		}
		class, values, _ := fold(changes, changes[len(changes)-1].At)
		if class != rec.Class || jsonOf(values) != jsonOf(rec.Values) {
			return fmt.Sprintf("%s: its history folds to %s %s, the store holds %s %s\nhistory: %s", rec.SysID, class, jsonOf(values), rec.Class, jsonOf(rec.Values), jsonOf(changes))
		}
		for _, at := range probeTimes(changes) {
			class, values, existed := fold(changes, at)
			snap, err := e.AsOf(ctx, rec.SysID, at)
			switch {
			case errors.Is(err, engine.ErrNotFound) && !existed:
			case err != nil:
				return fmt.Sprintf("%s: AsOf(%s): %v, the fold says it existed: %s %s\nhistory: %s", rec.SysID, at, err, class, jsonOf(values), jsonOf(changes))
			case !existed:
				return fmt.Sprintf("%s: AsOf(%s) gives %s %s, before its first change\nhistory: %s", rec.SysID, at, snap.Class, jsonOf(snap.Values), jsonOf(changes))
			case snap.Class != class || jsonOf(snap.Values) != jsonOf(values):
				return fmt.Sprintf("%s: AsOf(%s) gives %s %s, the fold up to then %s %s\nhistory: %s", rec.SysID, at, snap.Class, jsonOf(snap.Values), class, jsonOf(values), jsonOf(changes))
			}
		}
	}
	return ""
}

// probeTimes are the times AsOf is asked about: just before the first
// change, at every change and halfway to the next.
func probeTimes(changes []store.Change) []time.Time {
	out := []time.Time{changes[0].At.Add(-time.Nanosecond)}
	for i, c := range changes {
		out = append(out, c.At)
		if i+1 < len(changes) && changes[i+1].At.Sub(c.At) > time.Nanosecond {
			out = append(out, c.At.Add(changes[i+1].At.Sub(c.At)/2))
		}
	}
	return out
}

// A fold that ignores removals (a null clearing a location) is caught.
func TestHistoryCatchesAFoldIgnoringRemovals(t *testing.T) {
	t.Parallel()
	e := openShared(t, nil)
	catches(t, func(t *rapid.T) string {
		return checkHistory(t, e.fresh(t), func(changes []store.Change, upTo time.Time) (string, map[string]any, bool) {
			class, values, existed := "", map[string]any{}, false
			for _, c := range changes {
				if c.At.After(upTo) {
					break
				}
				class, existed = c.Class, true
				for k, vc := range c.Attributes {
					if vc.After != nil {
						values[k] = vc.After
					}
				}
			}
			return class, maps.Clone(values), existed
		})
	})
}

// maintain draws what an operator does after the feeds: nothing, a merge
// of the first open de-duplication task (into a drawn CI, retiring or
// deleting the others), or a stale clean-up of a drawn source whose last
// full run started at runStart. It returns what it did.
func maintain(t *rapid.T, e *feedEngine, runStart time.Time) string {
	ctx := context.Background()
	switch rapid.IntRange(0, 2).Draw(t, "maintenance") {
	case 1:
		tasks, err := e.DuplicateTasks(ctx, engine.TaskOpen)
		if err != nil {
			t.Fatalf("DuplicateTasks: %v", err)
		}
		if len(tasks) == 0 {
			return ""
		}
		o := engine.MergeOptions{Delete: rapid.Bool().Draw(t, "merge deletes")}
		if rapid.Bool().Draw(t, "choose main") {
			o.Main = rapid.SampledFrom(tasks[0].CIs).Draw(t, "main")
		}
		mr, err := e.MergeDuplicates(ctx, tasks[0].Number, o)
		if err != nil {
			t.Fatalf("MergeDuplicates(%s, %+v): %v", tasks[0].Number, o, err)
		}
		return fmt.Sprintf("merged %v into %s (delete: %v)", mr.Merged, mr.Main, o.Delete)
	case 2:
		q := engine.StaleQuery{Source: rapid.SampledFrom(feedSources).Draw(t, "stale source"), RunStart: runStart,
			Action: rapid.SampledFrom([]engine.StaleAction{engine.StaleRetire, engine.StaleDelete}).Draw(t, "stale action")}
		found, err := e.Stale(ctx, q)
		if err != nil {
			t.Fatalf("Stale(%+v): %v", q, err)
		}
		return fmt.Sprintf("stale %+v: %s", q, jsonOf(found))
	}
	return ""
}
