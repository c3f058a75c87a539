package fuzz

import (
	"fmt"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// Property 1, on Badger on disk. A sequence of payloads, each applied
// twice: the second Apply answers NO_CHANGE for every item, related item
// and relation, with the sys_ids of the first, and leaves every key and
// value of the store as it was, except that the source's last report of
// each CI (store.SourceKey) and each CI's last_discovered move to now. In fixedValues mode the stored
// graph and every sys_id reported are also those the model predicts.
//
// chaosValues payloads may fail in part (MULTI_MATCH): what failed must
// fail again the same way, and the store must still not change. Those run
// without partial payloads, which would record each failure again as an
// incomplete item for inspection.
func TestPropApplyTwiceChangesNothing(t *testing.T) {
	onDisk(t, func(t *rapid.T, e *engine.Engine) {
		mode := rapid.SampledFrom(allModes).Draw(t, "mode")
		o := drawOptions(t, nil)
		if mode == chaosValues {
			o = drawOptions(t, noPartialPayloads)
		}
		m := newModel()
		for range rapid.IntRange(1, 3).Draw(t, "payloads") {
			p := validPayload(t, mode)
			first := apply(t, e, p, o)
			if first.HasError && mode != chaosValues {
				t.Fatalf("a valid payload failed: %s\npayload: %s", jsonOf(first), jsonOf(p))
			}
			if mode == fixedValues {
				checkPrediction(t, m, p, m.apply(t, p, o.PartialCommits), first, storedGraph(t, e))
			}
			before := dump(t, e)
			second := apply(t, e, p, o)
			requireSameAgain(t, p, first, second)
			if diff := storeChanges(before, dump(t, e), true); diff != "" {
				t.Fatalf("applying the payload again changed the store:\n  %s\npayload: %s", diff, jsonOf(p))
			}
		}
		checkStore(t, e)
		if mode == fixedValues {
			sameGraph(t, "stored graph against the model", m.g, storedGraph(t, e))
		}
	})
}

// requireSameAgain checks that second, the result of applying p again,
// answers NO_CHANGE with the same sys_id wherever first succeeded, and
// the same outcome wherever first failed.
func requireSameAgain(t *rapid.T, p *payload.Payload, first, second *engine.Result) {
	again := func(what string, failedBefore bool, op1, id1, out1, op2, id2, out2 string) {
		switch {
		case failedBefore && (out1 != out2 || id1 != id2):
			t.Fatalf("%s: failed with %s (%s), then %s (%s)\npayload: %s", what, out1, id1, out2, id2, jsonOf(p))
		case !failedBefore && (op2 != identify.OpNoChange || id2 != id1):
			t.Fatalf("%s: %s %s, then %s %s (%s); want NO_CHANGE %s\npayload: %s", what, op1, id1, op2, id2, out2, id1, jsonOf(p))
		}
	}
	for i := range second.Items {
		a, b := &first.Items[i], &second.Items[i]
		again(fmt.Sprintf("item %d", i), failed(a), a.Operation, a.SysID, outcome(a), b.Operation, b.SysID, outcome(b))
		for j := range p.Items[i].Related {
			ra, rb := relatedResult(a, i, j), relatedResult(b, i, j)
			if (ra == nil) != (rb == nil) {
				t.Fatalf("item %d related %d: a result only once\npayload: %s", i, j, jsonOf(p))
			}
			if ra != nil {
				what := fmt.Sprintf("item %d related %d", i, j)
				again(what, ra.ErrorCount > 0, ra.Operation, ra.SysID, codesOf(ra.Errors), rb.Operation, rb.SysID, codesOf(rb.Errors))
			}
		}
	}
	for k := range second.Relations {
		a, b := &first.Relations[k], &second.Relations[k]
		again(fmt.Sprintf("relation %d", k), relationFailed(a), a.Operation, a.SysID, relationOutcome(a), b.Operation, b.SysID, relationOutcome(b))
	}
	if len(second.AdditionalCommittedItems)+len(second.AdditionalCommittedRelations) > 0 {
		t.Fatalf("the second Apply committed more: %s\npayload: %s", jsonOf(second), jsonOf(p))
	}
}
