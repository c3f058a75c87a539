package fuzz

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// Property 4, on Badger on disk. Two to four writers apply payloads over
// the same few accounts, datacenters, VMs and computers to one engine at
// once (each payload by Apply, or a writer's payloads in one ApplyBatch).
// Afterwards engine.Check finds no problem: no identity key is shared by
// two CIs or points at a CI that does not own it. With fixedValues, whose
// outcome does not depend on who commits first, also: every identity the
// model expects is held by exactly one stored CI (one account per distinct
// account_id, one datacenter per account and object_id, ...) and no other
// CI is stored, the graph is the model's, and every item reports the
// sys_id of the one CI with its identity. chaosValues payloads merge and
// clash through secondary identifiers, the hardest case for the identity
// index; their outcome depends on the commit order, so only Check judges.
func TestPropConcurrentApplyKeepsIdentitiesUnique(t *testing.T) {
	onDisk(t, func(t *rapid.T, e *engine.Engine) {
		o := drawOptions(t, nil)
		mode := rapid.SampledFrom([]valueMode{fixedValues, chaosValues}).Draw(t, "mode")
		work := make([][]*payload.Payload, rapid.IntRange(2, 4).Draw(t, "writers"))
		batch := make([]bool, len(work))
		for w := range work {
			for range rapid.IntRange(1, 3).Draw(t, "payloads") {
				work[w] = append(work[w], validPayload(t, mode))
			}
			batch[w] = rapid.Bool().Draw(t, "ApplyBatch")
			t.Logf("writer %d (ApplyBatch: %v, options %+v):\n%s", w, batch[w], o, jsonOf(work[w]))
		}

		results := make([][]*engine.Result, len(work))
		errs := make([]error, len(work))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for w := range work {
			wg.Go(func() {
				<-start
				ctx := context.Background()
				if batch[w] {
					results[w], errs[w] = e.ApplyBatch(ctx, source, work[w], o)
					return
				}
				for _, p := range work[w] {
					res, err := e.Apply(ctx, source, p, o)
					if err != nil {
						errs[w] = err
						return
					}
					results[w] = append(results[w], res)
				}
			})
		}
		close(start)
		wg.Wait()
		for w, err := range errs {
			if err != nil {
				t.Fatalf("writer %d: %v\npayloads: %s", w, err, jsonOf(work[w]))
			}
		}

		checkStore(t, e)
		if mode != fixedValues {
			return
		}
		stored := storedGraph(t, e)
		m := newModel()
		preds := make([][]*prediction, len(work))
		for w, ps := range work {
			for _, p := range ps {
				preds[w] = append(preds[w], m.apply(t, p, o.PartialCommits))
			}
		}
		requireOneCIPerIdentity(t, m.g, stored)
		sameGraph(t, "stored graph against the model", m.g, stored)
		for w, ps := range work {
			for k, p := range ps {
				checkPrediction(t, m, p, preds[w][k], results[w][k], stored)
			}
		}
	})
}

// requireOneCIPerIdentity checks that every identity of the model is held
// by exactly one stored CI, and that no CI with another identity is stored.
func requireOneCIPerIdentity(t *rapid.T, want, stored *graph) {
	got := stored.byIdentity()
	expected := want.byIdentity()
	var wrong []string
	for id := range expected {
		if n := len(got[id]); n != 1 {
			wrong = append(wrong, fmt.Sprintf("%s: %d stored CIs, want 1", id, n))
		}
	}
	for id, ids := range got {
		if _, ok := expected[id]; !ok {
			wrong = append(wrong, fmt.Sprintf("%s: %d stored CIs, want none", id, len(ids)))
		}
	}
	if len(wrong) > 0 {
		sort.Strings(wrong)
		t.Fatalf("identities not held by exactly one CI:\n  %s", strings.Join(wrong, "\n  "))
	}
}
