package fuzz

import (
	"slices"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
	"pgregory.net/rapid"
)

// Property 5. After a valid seed payload (when drawn), a payload mixing
// valid fragments with faulty ones (unknown class, missing identifying
// attributes, a datacenter without its account relation, a VM on two
// datacenters or on an account, an undeclared relation type, a relation
// from an item to itself, an install without its version) and the items
// depending on them:
//
//   - every item, related item and relation fails exactly when the model
//     says so (failing includes being kept aside as INSERT_AS_PARTIAL);
//   - a failed item reports no sys_id but that of a CI stored before;
//   - every record, identity key and edge the payload wrote belongs to an
//     item, related item or relation that succeeded;
//   - the stored graph is the model's, which stores only what succeeded,
//     and engine.Check finds no problem;
//   - without partial commits (StrictApplyOptions, or
//     partial_payloads:false,partial_commits:false), a payload with any
//     failure leaves every key and value of the store as it was.
func TestPropFailedItemsWriteNothing(t *testing.T) {
	inMemory(t, func(t *rapid.T, e *engine.Engine) {
		o := drawOptions(t, nil)
		m := newModel()
		if seed := seedPayload(t, fixedValues); seed != nil {
			res := apply(t, e, seed, o)
			checkPrediction(t, m, seed, m.apply(t, seed, o.PartialCommits), res, storedGraph(t, e))
		}
		p := faultyPayload(t)
		requireFaultsContained(t, e, m, p, o)
	})
}

// requireFaultsContained applies p, which may hold faulty items, and
// checks that what failed wrote nothing (see TestPropFailedItemsWriteNothing).
// It returns the result.
func requireFaultsContained(t *rapid.T, e *engine.Engine, m *model, p *payload.Payload, o engine.ApplyOptions) *engine.Result {
	before := dump(t, e)
	existed := storedGraph(t, e).nodes
	res := apply(t, e, p, o)
	pr := m.apply(t, p, o.PartialCommits)
	after := dump(t, e)
	stored := storedGraph(t, e)
	checkPrediction(t, m, p, pr, res, stored)
	for i := range res.Items {
		if ir := &res.Items[i]; failed(ir) && ir.SysID != engine.Unknown && existed[ir.SysID] == nil {
			t.Fatalf("failed item %d reports sys_id %s, which was not stored before\npayload: %s", i, ir.SysID, jsonOf(p))
		}
	}
	if pr.failed && !o.PartialCommits {
		if diff := storeChanges(before, after, false); diff != "" {
			t.Fatalf("without partial commits, a payload with a failure changed the store:\n  %s\npayload: %s", diff, jsonOf(p))
		}
	}
	requireWrittenBySuccess(t, before, after, res, p)
	checkStore(t, e)
	sameGraph(t, "stored graph against the model", m.g, stored)
	return res
}

// requireWrittenBySuccess checks that every record, identity key and edge
// added or changed between before and after belongs to a CI or relation
// that res reports stored.
func requireWrittenBySuccess(t *rapid.T, before, after []kv, res *engine.Result, p *payload.Payload) {
	ok := map[string]bool{}
	for i := range res.Items {
		ir := &res.Items[i]
		if !failed(ir) {
			ok[ir.SysID] = true
		}
		for _, rr := range ir.RelatedItems {
			if rr.ErrorCount == 0 {
				ok[rr.SysID] = true
			}
		}
	}
	for k := range res.Relations {
		if rr := &res.Relations[k]; !relationFailed(rr) {
			ok[rr.SysID] = true
		}
	}
	old := map[string]string{}
	for _, x := range before {
		old[x.k] = x.v
	}
	for _, x := range after {
		if v, had := old[x.k]; had && v == x.v {
			continue
		}
		var owner, what string
		switch {
		case strings.HasPrefix(x.k, string(store.CIPrefix())):
			owner, what = store.SysIDFromCIKey([]byte(x.k)), "record"
		case strings.HasPrefix(x.k, string(store.IdentityMembersPrefix())):
			_, owner = store.IdentityOfMemberKey([]byte(x.k))
			what = "identity key"
		case strings.HasPrefix(x.k, string(store.EdgePrefix())):
			ed, err := store.DecodeEdge([]byte(x.v))
			if err != nil {
				t.Fatalf("edge %q: %v", x.k, err)
			}
			owner, what = ed.SysID, "edge"
		default:
			continue
		}
		if !ok[owner] {
			t.Fatalf("%s %q of %s written, but no item or relation that succeeded reports %s\nresult: %s\npayload: %s", what, x.k, owner, owner, jsonOf(res), jsonOf(p))
		}
	}
}

// Property 5 for bad relation indexes: a relation naming an item that does
// not exist (an index out of range), or one item at both ends. Decode keeps
// such a relation marked invalid, as ServiceNow answers INVALID_INPUT_DATA
// for that relation alone, and a Go program may build one itself: Apply
// reports the relation as INVALID_INPUT_DATA, and the rest is as
// TestPropFailedItemsWriteNothing requires (with partial commits the
// payload applies as if the relation were absent; without, nothing is
// written).
func TestPropBadRelationIndexIsRejected(t *testing.T) {
	inMemory(t, func(t *rapid.T, e *engine.Engine) {
		o := drawOptions(t, nil)
		p := validPayload(t, fixedValues)
		n := len(p.Items)
		rel := payload.Relation{
			Type:   rapid.SampledFrom([]string{hostedOn, virtualizedBy}).Draw(t, "type"),
			Parent: rapid.SampledFrom([]int{-1, n, n + 2}).Draw(t, "bad index"),
			Child:  rapid.IntRange(0, n-1).Draw(t, "other end"),
		}
		if rapid.Bool().Draw(t, "to itself") {
			rel.Parent = rel.Child
		}
		if rapid.Bool().Draw(t, "bad child") {
			rel.Parent, rel.Child = rel.Child, rel.Parent
		}
		at := rapid.IntRange(0, len(p.Relations)).Draw(t, "position")
		p.Relations = slices.Insert(p.Relations, at, rel)

		if dp, err := payload.DecodeBytes([]byte(jsonOf(p))); err != nil || dp.Relations[at].Invalid == "" {
			t.Fatalf("payload.DecodeBytes did not keep relation %d (%d → %d) of %d items as invalid: %v %s", at, rel.Parent, rel.Child, n, err, jsonOf(p))
		}
		res := requireFaultsContained(t, e, newModel(), p, o)
		if rr := res.Relations[at]; rr.ErrorCount == 0 || rr.Errors[0].Code != identify.InvalidInputData {
			t.Fatalf("relation %d (%d → %d) of %d items: got %s %s, want INVALID_INPUT_DATA", at, rel.Parent, rel.Child, n, rr.Operation, jsonOf(rr.Errors))
		}
	})
}
