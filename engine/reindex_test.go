package engine_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// withAssetTag is the default pack with asset_tag as a unique hardware identifier.
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

func TestRuleChangeReindexesAffectedClasses(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	older := applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","asset_tag":"A-1"}}]}`).SysID
	younger := applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c2","asset_tag":"A-1"}}]}`).SysID
	applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c3","asset_tag":"B-2"}}]}`)
	applyFrom(t, e, "AWS", account("a1"))
	e.Close()

	e, err = engine.Open(dir, engine.Options{Rules: withAssetTag(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if n := e.Notices(); len(n) != 2 || !strings.Contains(n[0], younger) || !strings.Contains(n[0], older) ||
		!strings.Contains(n[1], "rules changed from default.yaml") || !strings.Contains(n[1], "to asset-tag.yaml") {
		t.Fatalf("notices %q: want one naming %s losing asset tag A-1 to %s, then the rule change", n, younger, older)
	}
	res, err := e.Apply(ctx, "SCCM", mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"asset_tag":"A-1","ram":1}}]}`), engine.DefaultApplyOptions())
	if err != nil || res.Items[0].SysID != older || res.Items[0].Operation != "UPDATE" {
		t.Fatalf("asset tag A-1 identifies the older CI under the new rules: %+v %v", res.Items[0], err)
	}
	if got := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"asset_tag":"B-2"}}]}`); got.Operation != "NO_CHANGE" {
		t.Fatalf("asset tag B-2: %+v", got)
	}
	if got := applyFrom(t, e, "AWS", account("a1")); got.Operation != "NO_CHANGE" {
		t.Fatalf("an unchanged class keeps its identities: %+v", got)
	}
	problems, err := e.Check(ctx)
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], younger) {
		t.Fatalf("check reports exactly the duplicate left by the rule change: %q %v", problems, err)
	}
}

// A store of identity format 3 gave single holders member keys too: it is
// upgraded once when opened (those keys dropped, the others kept), checks
// clean, and identifies as before.
func TestSingleHolderMemberKeysDroppedOnOpen(t *testing.T) {
	dir := t.TempDir()
	p := mustDecode(t, `{"items":[
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER-A","name":"shared"}},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER-B","name":"shared"}},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER-C","name":"alone"}}]}`)
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, e, p)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// Write the old layout: a member key for every single holder, format 3.
	db, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	members := func() (n int) {
		if err := db.View(func(r store.Reader) error {
			return r.Iterate(store.IdentityMembersPrefix(), func(_, _ []byte) error { n++; return nil })
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	shared := members()
	if shared != 2 {
		t.Fatalf("%d member keys, want 2 (the two holders of the shared name)", shared)
	}
	txn := db.NewTxn()
	singles := 0
	if err := txn.Iterate(store.IdentityPrefix(), func(k, v []byte) error {
		if n, only, err := store.DecodeIdentityGuard(v); err == nil && n == 1 {
			singles++
			return txn.Set(store.IdentityMemberKey(k, only), nil)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := txn.Set(store.IdentityFormatKey(), []byte(store.IdentityFormatSingleMembers)); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if singles < 3 || members() != shared+singles {
		t.Fatalf("old layout: %d singles, %d members", singles, members())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	checkClean(t, e)
	var format []byte
	if err := e.Store().View(func(r store.Reader) (err error) { format, err = r.Get(store.IdentityFormatKey()); return err }); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := e.Store().View(func(r store.Reader) error {
		return r.Iterate(store.IdentityMembersPrefix(), func(_, _ []byte) error { n++; return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if string(format) != store.IdentityFormat || n != shared {
		t.Errorf("after the open: format %q, %d member keys; want %q and %d", format, n, store.IdentityFormat, shared)
	}
	res := apply(t, e, p)
	for i, it := range res.Items {
		if it.Operation != "NO_CHANGE" {
			t.Errorf("item %d: %s after the upgrade, want NO_CHANGE", i, it.Operation)
		}
	}
}
