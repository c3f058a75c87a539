package engine_test

import (
	"context"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/bench"
	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store/postgres"
)

// The read-ahead runs a payload's identification again only when a key
// its last run asked for was found: a run all of whose keys turned out
// absent would ask for nothing new. A batch of new chains is identified
// once each by the read-ahead (twice before).
func TestReadAheadRunsAgainOnlyAfterAFind(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open("", engine.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const n = 40
	ps := make([]*payload.Payload, n)
	for i := range ps {
		ps[i] = bench.Chain(i, 0, 3)
	}
	apply := func() []*engine.Result {
		t.Helper()
		res, err := e.ApplyBatch(context.Background(), "ServiceNow", ps, engine.DefaultApplyOptions())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	before := e.ReadAheadRuns()
	for i, r := range apply() {
		for j, it := range r.Items {
			if len(it.Errors) > 0 || it.SysID == "" {
				t.Fatalf("payload %d item %d: %+v", i, j, it)
			}
		}
	}
	if runs := e.ReadAheadRuns() - before; runs != n {
		t.Errorf("new chains: %d read-ahead runs, want %d (one each)", runs, n)
	}
	// Known chains: the read-ahead runs each again while it finds more,
	// and the answers are the same.
	before = e.ReadAheadRuns()
	for i, r := range apply() {
		for j, it := range r.Items {
			if it.Operation != "NO_CHANGE" {
				t.Fatalf("payload %d item %d again: %s, want NO_CHANGE", i, j, it.Operation)
			}
		}
	}
	// The store follows the guards the first round finds to the
	// identities under their CIs, every level of the chain in one round
	// trip, so the second run knows the whole chain and asks for its
	// records' source entries and edges; a run that found only those,
	// whose keys name CIs already found, does not run again. Two runs for
	// the bench's chain of five levels (five when a round found a level,
	// six before that).
	runs := e.ReadAheadRuns() - before
	t.Logf("known chains: %d read-ahead runs for %d payloads", runs, n)
	if runs <= n || runs > 2*n {
		t.Errorf("known chains: %d read-ahead runs, want more than %d and at most %d", runs, n, 2*n)
	}
}
