package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/pgtest"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/postgres"
)

// Rule changes across engines sharing one database (engine.ChangeRules).

// withAssetTag is the default pack with asset_tag as a unique hardware
// identifier, tried before the name.
func withAssetTag(t *testing.T) *rules.RuleSet {
	t.Helper()
	src := bytes.Replace(rules.DefaultSource(), []byte("        attributes: [serial_number]\n"),
		[]byte("        attributes: [serial_number]\n      - priority: 250\n        attributes: [asset_tag]\n        unique: true\n"), 1)
	rs, err := rules.Load("asset-tag.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func mustDecode(t *testing.T, s string) *payload.Payload {
	t.Helper()
	p, err := payload.DecodeBytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func applyFrom(t *testing.T, e *engine.Engine, source, body string) engine.ItemResult {
	t.Helper()
	res, err := e.Apply(context.Background(), source, mustDecode(t, body), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	return res.Items[0]
}

// crashedChange leaves st as a rule change to rs whose process was killed
// at once: the store records rs, state reindexing, and holder holds the
// lease until expires.
func crashedChange(t *testing.T, st store.Store, rs *rules.RuleSet, holder string, expires time.Time) {
	t.Helper()
	cur, _, err := engine.ReadStoredRules(st)
	if err != nil || cur == nil {
		t.Fatalf("stored rules: %+v %v", cur, err)
	}
	next, err := json.Marshal(engine.StoredRules{Fingerprint: engine.Fingerprint(rs), Name: rs.Name(), State: engine.RulesReindexing,
		Since: time.Now(), Previous: cur.Fingerprint, Reindexes: cur.Reindexes, ReindexedBy: cur.ReindexedBy})
	if err != nil {
		t.Fatal(err)
	}
	lease, err := json.Marshal(engine.RulesLease{Holder: holder, Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	txn := st.NewTxn()
	defer txn.Discard()
	for k, v := range map[string][]byte{string(store.RuleSourceKey()): rs.Source(), string(store.RuleSetKey()): next, string(store.RulesLeaseKey()): lease} {
		if err := txn.Set([]byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
}

// syncClock is a clock a test moves forward while the engine's own
// goroutines read it.
type syncClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *syncClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *syncClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

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

// openShared opens an engine on the PostgreSQL database dsn names.
func openShared(t *testing.T, dsn string, o engine.Options) (*engine.Engine, error) {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o.Store = st
	e, err := engine.Open("", o)
	if err == nil {
		t.Cleanup(func() { e.Close() })
	}
	return e, err
}

// changes collects what RulesChanged tells.
func changes() (chan engine.StoredRules, func(string, engine.StoredRules)) {
	c := make(chan engine.StoredRules, 8)
	return c, func(_ string, to engine.StoredRules) { c <- to }
}

func waitChange(t *testing.T, c chan engine.StoredRules) engine.StoredRules {
	t.Helper()
	select {
	case to := <-c:
		return to
	case <-time.After(30 * time.Second):
		t.Fatal("the engine did not adopt the new rules")
	}
	return engine.StoredRules{}
}

// Two engines on one database use the rules ChangeRules gives the store:
// one finds them by polling, the other (not polling) when it next reads
// for a write. The reindex runs once, in the changing process; an engine
// opened with the old rules is refused, one that adopts gets the new.
func TestRuleChangeReachesEveryEngine(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	e1, err := openShared(t, dsn, engine.Options{RulesPoll: -1})
	if err != nil {
		t.Fatal(err)
	}
	seen, told := changes()
	e2, err := openShared(t, dsn, engine.Options{RulesPoll: 10 * time.Millisecond, RulesChanged: told})
	if err != nil {
		t.Fatal(err)
	}
	c1 := applyFrom(t, e1, "ServiceNow", tagged("c1", "A-1")).SysID
	if got := identifyOne(t, e2, tagged("c9", "A-1")); got.Operation != "INSERT" {
		t.Fatalf("under the default rules another name is another computer: %+v", got)
	}

	st, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before, _, err := engine.ReadStoredRules(st)
	if err != nil || before == nil || before.Fingerprint != engine.Fingerprint(rules.Default()) {
		t.Fatalf("the store records the rules its first engine opened with: %+v %v", before, err)
	}
	rsB := withAssetTag(t)
	ch, err := engine.ChangeRules(ctx, st, rsB, engine.RuleChangeOptions{Holder: "rules-apply"})
	if err != nil || ch.Classes == 0 {
		t.Fatalf("ChangeRules: %+v %v", ch, err)
	}
	if to := waitChange(t, seen); to.Fingerprint != engine.Fingerprint(rsB) {
		t.Fatalf("the polling engine adopted %+v", to)
	}
	for i, e := range []*engine.Engine{e2, e1} {
		if got := identifyOne(t, e, tagged("c9", "A-1")); got.Operation != "UPDATE" || got.SysID != c1 {
			t.Fatalf("engine %d: asset tag A-1 under the new rules: %s %s, want UPDATE %s", i+1, got.Operation, got.SysID, c1)
		}
		if fp := engine.Fingerprint(e.Rules()); fp != engine.Fingerprint(rsB) {
			t.Fatalf("engine %d uses rules %s", i+1, fp)
		}
	}
	if got := applyFrom(t, e1, "ServiceNow", tagged("c9", "A-1")); got.SysID != c1 {
		t.Fatalf("apply under the new rules: %+v", got)
	}
	after, _, err := engine.ReadStoredRules(st)
	if err != nil || after.Reindexes != before.Reindexes+1 || after.ReindexedBy != "rules-apply" || after.State != engine.RulesActive {
		t.Fatalf("one reindex, by the changing process: %+v %v (before %+v)", after, err, before)
	}

	_, err = openShared(t, dsn, engine.Options{})
	var mismatch *engine.RulesMismatchError
	if !errors.As(err, &mismatch) || !errors.Is(err, engine.ErrRulesMismatch) ||
		!strings.Contains(err.Error(), engine.Fingerprint(rules.Default())[:12]) || !strings.Contains(err.Error(), engine.Fingerprint(rsB)[:12]) {
		t.Fatalf("an engine opened with the old rules: %v, want a RulesMismatchError naming both fingerprints", err)
	}
	e4, err := openShared(t, dsn, engine.Options{AdoptStoredRules: true})
	if err != nil || engine.Fingerprint(e4.Rules()) != engine.Fingerprint(rsB) {
		t.Fatalf("an engine adopting the stored rules: %v", err)
	}
	mustCheck(t, e4)
}

// While a rule change's reindex runs, writes are refused with
// ErrRulesChanging; when its process died, a running engine takes the
// change over once the lease has expired and adopts the rules.
func TestRunningEngineTakesOverAChangeWhoseProcessDied(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	clock := &syncClock{now: time.Now()}
	seen, told := changes()
	e, err := openShared(t, dsn, engine.Options{Now: clock.Now, RulesPoll: 10 * time.Millisecond, RulesChanged: told})
	if err != nil {
		t.Fatal(err)
	}
	c1 := applyFrom(t, e, "ServiceNow", tagged("c1", "A-1")).SysID
	st, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rsB := withAssetTag(t)
	crashedChange(t, st, rsB, "dead-host/1/x", clock.Now().Add(engine.DefaultLeaseTTL))
	if _, err := e.Apply(ctx, "ServiceNow", mustDecode(t, tagged("c9", "A-1")), engine.DefaultApplyOptions()); !errors.Is(err, engine.ErrRulesChanging) {
		t.Fatalf("a write during the change: %v, want ErrRulesChanging", err)
	}
	clock.advance(engine.DefaultLeaseTTL + time.Second)
	to := waitChange(t, seen)
	if to.Fingerprint != engine.Fingerprint(rsB) || to.ReindexedBy == "" || to.ReindexedBy == "dead-host/1/x" || to.State != engine.RulesActive {
		t.Fatalf("adopted %+v, want the new rules reindexed by the running engine", to)
	}
	// The taker releases the lease after it marks the rules active, and
	// the poll may adopt them in between: wait for the release.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		l, err := engine.ReadRulesLease(st)
		if l == nil && err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lease is not released: %+v %v", l, err)
		}
	}
	if got := applyFrom(t, e, "ServiceNow", tagged("c9", "A-1")); got.SysID != c1 || got.Operation != "UPDATE" {
		t.Fatalf("apply under the new rules: %+v", got)
	}
	mustCheck(t, e)
}

// A write that read the store's rules before they changed, and writes a CI
// the reindex did not see, fails to commit (and is identified again under
// the new rules): no CI keeps keys of the old rules after the change.
func TestAWriteUnderTheOldRulesConflictsWithTheChange(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	e, err := openShared(t, dsn, engine.Options{RulesPoll: -1})
	if err != nil {
		t.Fatal(err)
	}
	applyFrom(t, e, "ServiceNow", tagged("c1", "A-1"))
	st, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Enough CIs of a class the change leaves alone that the CI keys span
	// many index pages: PostgreSQL tracks reads by page, and in a tiny
	// table every read would conflict with every write anyway.
	now := time.Now()
	for range 10 {
		txn := st.NewTxn()
		for range 300 {
			id := engine.NewSysID()
			v, err := store.EncodeRecord(&store.Record{SysID: id, Class: "cmdb_ci_cloud_service_account", Values: map[string]any{"account_id": id}, Created: now, Updated: now})
			if err != nil {
				t.Fatal(err)
			}
			if err := txn.Set(store.CIKey(id), v); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
		txn.Discard()
	}
	w := st.NewTxn() // as a write of the engine starts: reading the rules
	defer w.Discard()
	if _, err := w.Get(store.RuleSetKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.ChangeRules(ctx, e.Store(), withAssetTag(t), engine.RuleChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	c2 := engine.NewSysID()
	v, err := store.EncodeRecord(&store.Record{SysID: c2, Class: "cmdb_ci_computer", Values: map[string]any{"name": "c2"}, Created: now, Updated: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Set(store.CIKey(c2), v); err != nil && !errors.Is(err, store.ErrConflict) {
		t.Fatal(err)
	} else if err == nil {
		err = w.Commit()
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a write that read the old rules committed after the reindex: %v", err)
		}
	}
}
