package fuzz

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// source is the data source every generated payload comes from.
const source = "AWS"

// clock is a test clock that moves a millisecond at every reading, so
// that anything stamped with a time shows when it is written again.
type clock struct{ ticks atomic.Int64 }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *clock) now() time.Time { return epoch.Add(time.Duration(c.ticks.Add(1)) * time.Millisecond) }

// onDisk checks prop in parallel with the package's other properties,
// each check on a fresh engine on Badger on disk.
func onDisk(t *testing.T, prop func(*rapid.T, *engine.Engine)) {
	t.Parallel()
	base := t.TempDir()
	rapid.Check(t, func(t *rapid.T) { prop(t, openDisk(t, base)) })
}

// inMemory is onDisk with Badger in memory.
func inMemory(t *testing.T, prop func(*rapid.T, *engine.Engine)) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) { prop(t, openMem(t)) })
}

// The properties compare stores key for key after each payload, so their
// engines write last_discovered in the payload's transaction rather than
// in batches written by a timer (engine's own tests cover the batches),
// and leave index count deltas unfolded until close (reads and dumps add
// them).

// openDisk opens an engine on real Badger in a fresh directory under base
// (the test's TempDir), removed when the check ends.
func openDisk(t *rapid.T, base string) *engine.Engine {
	dir, err := os.MkdirTemp(base, "store")
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(dir, engine.Options{Now: new(clock).now, ImmediateLastDiscovered: true, IndexCountFold: -1})
	if err != nil {
		t.Fatalf("engine.Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		e.Close()
		os.RemoveAll(dir)
	})
	return e
}

// openMem opens an engine on in-memory Badger.
func openMem(t *rapid.T) *engine.Engine {
	e, err := engine.Open("", engine.Options{InMemory: true, Now: new(clock).now, ImmediateLastDiscovered: true, IndexCountFold: -1})
	if err != nil {
		t.Fatalf("engine.Open in memory: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// optionSets are the option sets properties draw from, by their
// --options spelling; "strict" is engine.StrictApplyOptions.
var optionSets = map[string]engine.ApplyOptions{
	"":                       engine.DefaultApplyOptions(),
	"partial_payloads:false": mustParseOptions("partial_payloads:false"),
	"partial_payloads:false,partial_commits:false": mustParseOptions("partial_payloads:false,partial_commits:false"),
	"strict": engine.StrictApplyOptions(),
}

func partialCommits(o engine.ApplyOptions) bool { return o.PartialCommits }

func noPartialPayloads(o engine.ApplyOptions) bool { return !o.PartialPayloads }

func mustParseOptions(s string) engine.ApplyOptions {
	o, err := engine.ParseApplyOptions(s)
	if err != nil {
		panic(err)
	}
	return o
}

// drawOptions draws one of the option sets that keep accepts (nil: any).
func drawOptions(t *rapid.T, keep func(engine.ApplyOptions) bool) engine.ApplyOptions {
	var names []string
	for name, o := range optionSets {
		if keep == nil || keep(o) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return optionSets[rapid.SampledFrom(names).Draw(t, "options")]
}

// apply applies p and fails the check when Apply panics, the store fails
// or p is modified (Apply neither modifies nor retains its payload).
func apply(t *rapid.T, e *engine.Engine, p *payload.Payload, o engine.ApplyOptions) *engine.Result {
	before := jsonOf(p)
	t.Logf("Apply(%q, %+v):\n%s", source, o, before)
	res, err := func() (res *engine.Result, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return e.Apply(context.Background(), source, p, o)
	}()
	if err != nil {
		t.Fatalf("Apply: %v\npayload: %s", err, before)
	}
	if after := jsonOf(p); after != before {
		t.Fatalf("Apply modified its payload:\nbefore: %s\nafter:  %s", before, after)
	}
	return res
}

// checkStore fails the check when engine.Check finds any problem: an
// identity key shared by two CIs, an index entry or edge pointing nowhere.
func checkStore(t *rapid.T, e *engine.Engine) {
	problems, err := e.Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if len(problems) > 0 {
		t.Fatalf("Check found problems:\n  %s", strings.Join(problems, "\n  "))
	}
}

// sameGraph fails the check when two graphs differ.
func sameGraph(t *rapid.T, what string, want, got *graph) {
	if diff := cmp.Diff(want.lines(), got.lines()); diff != "" {
		t.Fatalf("%s (-want +got):\n%s", what, diff)
	}
}

// outcome is an item's result without sys_ids and messages (which name
// input positions): its operation and its error and warning codes.
func outcome(ir *engine.ItemResult) string {
	var rel []string
	for _, rr := range ir.RelatedItems {
		rel = append(rel, rr.Operation+"/"+codesOf(rr.Errors))
	}
	sort.Strings(rel)
	return fmt.Sprintf("%s errors[%s] warnings[%s] related[%s]", ir.Operation, codesOf(ir.Errors), codesOf(ir.Warnings), strings.Join(rel, " "))
}

func codesOf(list []engine.Issue) string {
	var codes []string
	for _, is := range list {
		codes = append(codes, is.Code)
	}
	sort.Strings(codes)
	return strings.Join(codes, ",")
}

// failed says whether an item was not stored: it has errors, or it was
// kept aside as a partial payload.
func failed(ir *engine.ItemResult) bool {
	return ir.ErrorCount > 0 || ir.Operation == engine.InsertAsPartial
}

func relationFailed(rr *engine.RelationResult) bool {
	return rr.ErrorCount > 0 || rr.Operation == engine.InsertAsPartial
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "(unencodable: " + err.Error() + ")"
	}
	return string(b)
}
