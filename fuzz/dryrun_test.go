package fuzz

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// identifyFunc is the dry run property 1 checks: the engine's Identify,
// or a broken variant.
type identifyFunc func(e *engine.Engine, source string, p *payload.Payload, o engine.ApplyOptions) (*engine.Result, error)

func realIdentify(e *engine.Engine, source string, p *payload.Payload, o engine.ApplyOptions) (*engine.Result, error) {
	return e.Identify(context.Background(), source, p, o)
}

// Differential property 1: the dry run predicts the real run. Before
// every step of a feed sequence, Identify answers exactly what Apply then
// answers (operations, matched sys_ids, attempts, errors, warnings,
// masked attributes, partial payloads merged), with every sys_id Apply
// hands out reported as "Unknown", and leaves every key and value of the
// store as it was.
func TestPropDryRunPredictsApply(t *testing.T) {
	t.Parallel()
	e := openShared(t, nil)
	rapid.Check(t, func(t *rapid.T) {
		if v := checkDryRun(t, e.fresh(t), realIdentify); v != "" {
			t.Fatal(v)
		}
	})
}

// checkDryRun runs one feed sequence against identify and returns the
// first way the dry run differs from the real run ("" when none does).
func checkDryRun(t *rapid.T, e *feedEngine, identify identifyFunc) string {
	for k, s := range feedSteps(t, 3) {
		before, issued := dump(t, e.Engine), e.ids.n.Load()
		dry, err := guarded(func() (*engine.Result, error) { return identify(e.Engine, s.source, s.p, s.o) })
		if err != nil {
			t.Fatalf("step %d: Identify: %v", k, err)
		}
		if diff := storeChanges(before, dump(t, e.Engine), false); diff != "" {
			return fmt.Sprintf("step %d: Identify changed the store:\n  %s\npayload: %s", k, diff, jsonOf(s.p))
		}
		real := applyStep(t, e.Engine, s)
		want := lookupsUnstored(decoded(t, maskNew(jsonOf(real), issued, e.ids.n.Load())))
		if diff := cmp.Diff(want, decoded(t, jsonOf(dry))); diff != "" {
			return fmt.Sprintf("step %d (%s): Identify differs from Apply (-apply +identify):\n%s\npayload: %s", k, s.source, diff, jsonOf(s.p))
		}
	}
	checkStore(t, e.Engine)
	return ""
}

// decoded is a JSON text as generic values, for a readable diff.
func decoded(t *rapid.T, text string) any {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("decoding %s: %v", text, err)
	}
	return v
}

// lookupsUnstored rewrites a decoded result as a dry run reports lookup
// records it would create: null in relatedSysIds (ItemResult.RelatedSysIDs)
// rather than "Unknown".
func lookupsUnstored(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if list, ok := y.([]any); ok && k == "relatedSysIds" {
				for i, id := range list {
					if id == engine.Unknown {
						list[i] = nil
					}
				}
			} else {
				lookupsUnstored(y)
			}
		}
	case []any:
		for _, y := range x {
			lookupsUnstored(y)
		}
	}
	return v
}

// An Identify that skips reconciliation (reports no masked attribute) is
// caught: the feeds make higher-priority sources' values mask others'.
func TestDryRunCatchesIdentifyWithoutReconciliation(t *testing.T) {
	t.Parallel()
	e := openShared(t, nil)
	catches(t, func(t *rapid.T) string {
		return checkDryRun(t, e.fresh(t), func(e *engine.Engine, source string, p *payload.Payload, o engine.ApplyOptions) (*engine.Result, error) {
			res, err := e.Identify(context.Background(), source, p, o)
			if err == nil {
				for i := range res.Items {
					res.Items[i].MaskedAttributes = []string{}
				}
			}
			return res, err
		})
	})
}

// An Identify that writes (Apply under another name) is caught.
func TestDryRunCatchesIdentifyThatWrites(t *testing.T) {
	t.Parallel()
	e := openShared(t, nil)
	catches(t, func(t *rapid.T) string {
		return checkDryRun(t, e.fresh(t), func(e *engine.Engine, source string, p *payload.Payload, o engine.ApplyOptions) (*engine.Result, error) {
			return e.Apply(context.Background(), source, p, o)
		})
	})
}
