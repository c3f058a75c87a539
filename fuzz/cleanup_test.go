package fuzz

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
	"pgregory.net/rapid"
)

// staleFunc is the stale clean-up property 5 checks: engine.Stale, or a
// broken variant.
type staleFunc func(e *engine.Engine, q engine.StaleQuery) error

func realStale(e *engine.Engine, q engine.StaleQuery) error {
	_, err := e.Stale(context.Background(), q)
	return err
}

// Differential property 5: stale clean-ups and merges keep the graph
// consistent. Between the steps of a feed sequence, stale clean-ups
// (retire or delete, for a drawn source and a run that started before a
// drawn step or now) and merges of open de-duplication tasks (into a drawn CI, retiring
// or deleting the others) leave engine.Check clean, no edge at a missing
// CI, and every CI another source has reported in place: not deleted, not
// retired by the clean-up (or merged into one that is in place).
func TestPropCleanupKeepsTheGraphConsistent(t *testing.T) {
	t.Parallel()
	e := openShared(t, nil)
	rapid.Check(t, func(t *rapid.T) {
		if v := checkCleanup(t, e.fresh(t), realStale); v != "" {
			t.Fatal(v)
		}
	})
}

// checkCleanup returns the first inconsistency a sequence of feeds,
// clean-ups and merges leaves ("" when there is none).
func checkCleanup(t *rapid.T, e *feedEngine, stale staleFunc) string {
	ctx := context.Background()
	reporters := map[string]map[string]bool{} // CI → the sources that reported it
	into := map[string]string{}               // merged CI → the CI it was merged into
	var runs []time.Time                      // when each step started
	for k, s := range feedSteps(t, 3) {
		runs = append(runs, e.clock.between())
		res := applyStep(t, e.Engine, s)
		for _, items := range [][]engine.ItemResult{res.Items, res.AdditionalCommittedItems} {
			for i := range items {
				if ir := &items[i]; !failed(ir) && ir.SysID != engine.Unknown {
					if reporters[ir.SysID] == nil {
						reporters[ir.SysID] = map[string]bool{}
					}
					reporters[ir.SysID][s.source] = true
				}
			}
		}
		what := ""
		switch rapid.IntRange(0, 3).Draw(t, "then") {
		case 1, 2:
			q := engine.StaleQuery{Source: rapid.SampledFrom(feedSources).Draw(t, "stale source"),
				RunStart: rapid.SampledFrom(append(runs, e.clock.between())).Draw(t, "run start"),
				Action:   rapid.SampledFrom([]engine.StaleAction{engine.StaleRetire, engine.StaleDelete}).Draw(t, "stale action")}
			before := records(t, e.Engine)
			if err := stale(e.Engine, q); err != nil {
				t.Fatalf("stale %+v: %v", q, err)
			}
			what = fmt.Sprintf("stale %+v", q)
			for id, by := range reporters {
				others := len(by) > 1 || !by[q.Source]
				if !others {
					continue
				}
				main := id
				for into[main] != "" {
					main = into[main]
				}
				was := before[main]
				if was == nil { // gone before: merged away, or cleaned up when only q.Source had reported it
					continue
				}
				rec, err := e.Record(ctx, main)
				switch {
				case errors.Is(err, engine.ErrNotFound):
					return fmt.Sprintf("after step %d and %s: CI %s (in place as %s), which %v reported, is gone", k, what, id, main, slices.Sorted(maps.Keys(by)))
				case err != nil:
					t.Fatalf("Record(%s): %v", main, err)
				case rec.Retired && !was.Retired:
					return fmt.Sprintf("after step %d and %s: CI %s (in place as %s), which %v reported, was retired", k, what, id, main, slices.Sorted(maps.Keys(by)))
				}
			}
		case 3:
			tasks, err := e.DuplicateTasks(ctx, engine.TaskOpen)
			if err != nil {
				t.Fatalf("DuplicateTasks: %v", err)
			}
			if len(tasks) == 0 {
				break
			}
			o := engine.MergeOptions{Delete: rapid.Bool().Draw(t, "merge deletes")}
			if rapid.Bool().Draw(t, "choose main") {
				o.Main = rapid.SampledFrom(tasks[0].CIs).Draw(t, "main")
			}
			mr, err := e.MergeDuplicates(ctx, tasks[0].Number, o)
			if err != nil {
				t.Fatalf("MergeDuplicates(%s, %+v): %v", tasks[0].Number, o, err)
			}
			for _, id := range mr.Merged {
				into[id] = mr.Main
			}
			what = fmt.Sprintf("merging %v into %s (delete: %v)", mr.Merged, mr.Main, o.Delete)
		}
		if problems, err := e.Check(ctx); err != nil || len(problems) > 0 {
			return fmt.Sprintf("after step %d and %s: Check: %v %q", k, what, err, problems)
		}
		if v := danglingEdge(t, e.Engine); v != "" {
			return fmt.Sprintf("after step %d and %s: %s", k, what, v)
		}
	}
	return ""
}

// records maps every record to its sys_id.
func records(t *rapid.T, e *engine.Engine) map[string]*store.Record {
	out := map[string]*store.Record{}
	if err := e.Records(context.Background(), func(r *store.Record) error { out[r.SysID] = r; return nil }); err != nil {
		t.Fatalf("Records: %v", err)
	}
	return out
}

// danglingEdge describes an edge with an end that is no CI, or "".
func danglingEdge(t *rapid.T, e *engine.Engine) string {
	found := ""
	err := e.Store().View(func(r store.Reader) error {
		return r.Iterate(store.EdgePrefix(), func(_, v []byte) error {
			ed, err := store.DecodeEdge(v)
			if err != nil {
				return err
			}
			for _, end := range []string{ed.Parent, ed.Child} {
				if _, err := r.Get(store.CIKey(end)); errors.Is(err, store.ErrNotFound) {
					found = fmt.Sprintf("edge %s (%s -[%s]-> %s) points at missing CI %s", ed.SysID, ed.Parent, ed.Type, ed.Child, end)
					return store.ErrStop
				} else if err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("reading edges: %v", err)
	}
	return found
}

// A clean-up that deletes what a source created and did not report since
// its run started, whoever else reports it, is caught.
func TestCleanupCatchesAStaleDeleteIgnoringOtherSources(t *testing.T) {
	t.Parallel()
	e := openShared(t, nil)
	catches(t, func(t *rapid.T) string {
		return checkCleanup(t, e.fresh(t), func(e *engine.Engine, q engine.StaleQuery) error {
			ctx := context.Background()
			var doomed []string
			err := e.Records(ctx, func(r *store.Record) error {
				if !r.Related && r.Source == q.Source {
					doomed = append(doomed, r.SysID)
				}
				return nil
			})
			for _, id := range doomed {
				ci, err := e.Get(ctx, id)
				if errors.Is(err, engine.ErrNotFound) {
					continue // gone with another
				}
				if err != nil {
					return err
				}
				for _, si := range ci.Sources {
					if si.Source == q.Source && si.LastScan.Before(q.RunStart) {
						if _, err := e.Delete(ctx, id, engine.DeleteOptions{Cascade: true}); err != nil && !errors.Is(err, engine.ErrNotFound) {
							return err
						}
					}
				}
			}
			return err
		})
	})
}
