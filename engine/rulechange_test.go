package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// tagged is a computer with a name and an asset tag: under the default
// rules its name identifies it, under withAssetTag its asset tag does.
func tagged(name, tag string) string {
	return `{"items":[{"className":"cmdb_ci_computer","values":{"name":"` + name + `","asset_tag":"` + tag + `"}}]}`
}

// identifyOne returns what Identify says of a one-item payload.
func identifyOne(t *testing.T, e *engine.Engine, body string) engine.ItemResult {
	t.Helper()
	res, err := e.Identify(context.Background(), "ServiceNow", mustDecode(t, body), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	return res.Items[0]
}

func mustCheck(t *testing.T, e *engine.Engine) {
	t.Helper()
	if problems, err := e.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v\n%s", err, strings.Join(problems, "\n"))
	}
}

// A rule change whose process was killed holds the lease until it expires;
// then another process takes the change over and finishes it, also when
// the killed reindexer had already given a CI new keys without recording
// them in its record.
func TestCrashedRuleChangeIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c1 := applyFrom(t, e, "ServiceNow", tagged("c1", "A-1")).SysID
	applyFrom(t, e, "ServiceNow", tagged("c2", "B-2"))
	e.Close()

	st, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rsB := withAssetTag(t)
	t0 := time.Now()
	if err := engine.CrashedRuleChange(st, rsB, "dead-host/1/x", t0, engine.DefaultLeaseTTL); err != nil {
		t.Fatal(err)
	}
	// The killed reindexer had made c1 a holder of its keys under the new
	// rules, but not rewritten c1's record.
	txn := st.NewTxn()
	b, err := txn.Get(store.CIKey(c1))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range identify.KeysFor(rsB, rec, nil) {
		if err := store.HoldIdentity(txn, k, c1); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	txn.Discard()
	before, _, err := engine.ReadStoredRules(st)
	if err != nil || before.State != engine.RulesReindexing {
		t.Fatalf("stored rules after the crash: %+v %v", before, err)
	}

	at := func(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }
	_, err = engine.ChangeRules(ctx, st, rsB, engine.RuleChangeOptions{Holder: "second", Now: at(10 * time.Second)})
	if !errors.Is(err, engine.ErrRulesLeaseHeld) || !strings.Contains(err.Error(), "dead-host/1/x") {
		t.Fatalf("while the lease runs: %v, want it held by dead-host/1/x", err)
	}
	ch, err := engine.ChangeRules(ctx, st, rsB, engine.RuleChangeOptions{Holder: "second", Now: at(engine.DefaultLeaseTTL + time.Second)})
	if err != nil || ch.Unchanged || ch.Classes == 0 || len(ch.Notices) > 0 {
		t.Fatalf("after the lease expired: %+v %v", ch, err)
	}
	after, _, err := engine.ReadStoredRules(st)
	if err != nil || after.State != engine.RulesActive || after.Fingerprint != engine.Fingerprint(rsB) ||
		after.Reindexes != before.Reindexes+1 || after.ReindexedBy != "second" {
		t.Fatalf("stored rules: %+v %v (before %+v)", after, err, before)
	}
	if l, err := engine.ReadRulesLease(st); l != nil || err != nil {
		t.Fatalf("the lease is released: %+v %v", l, err)
	}

	e, err = engine.Open("", engine.Options{Store: st, Rules: rsB})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mustCheck(t, e)
	if got := identifyOne(t, e, tagged("c9", "A-1")); got.Operation != "UPDATE" || got.SysID != c1 {
		t.Fatalf("asset tag A-1 under the new rules: %s %s, want UPDATE %s", got.Operation, got.SysID, c1)
	}
}
