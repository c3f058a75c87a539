package engine_test

import (
	"context"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// A network adapter reported as a CI owned by its computer is found by the
// Hardware Rule's lookup entry (MAC address and name) as a lookup record
// would be: a later payload naming the computer otherwise finds it.
func TestAdapterCIFindsItsComputerByLookup(t *testing.T) {
	ctx := context.Background()
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	apply := func(body string) *engine.Result {
		t.Helper()
		p, err := payload.DecodeBytes([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Apply(ctx, "SCCM", p, engine.DefaultApplyOptions())
		if err != nil || res.HasError {
			t.Fatalf("apply: %v %+v", err, res)
		}
		return res
	}
	first := apply(`{"items":[
		{"className":"cmdb_ci_linux_server","values":{"name":"web-1"}},
		{"className":"cmdb_ci_network_adapter","values":{"name":"eth0","mac_address":"02:00:00:00:00:01"}}],
	  "relations":[{"type":"Owns::Owned by","parent":0,"child":1}]}`)
	later := apply(`{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"web-1-renamed"},
		"lookup":[{"className":"cmdb_ci_network_adapter","values":{"name":"eth0","mac_address":"02:00:00:00:00:01"}}]}]}`)
	if got := later.Items[0]; got.SysID != first.Items[0].SysID || got.Operation != "UPDATE" {
		t.Fatalf("later payload: %s %s, want an update of %s", got.Operation, got.SysID, first.Items[0].SysID)
	}
	if problems, err := e.Check(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("check: %q %v", problems, err)
	}
}

// A store whose identity index is of the format before dependent CIs held
// lookup identities (2) is reindexed when opened: its adapters gain them.
func TestOlderIdentityFormatIsReindexedWithAdapterLookups(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := payload.DecodeBytes([]byte(`{"items":[
		{"className":"cmdb_ci_linux_server","values":{"name":"web-1"}},
		{"className":"cmdb_ci_network_adapter","values":{"name":"eth0","mac_address":"02:00:00:00:00:01"}}],
	  "relations":[{"type":"Owns::Owned by","parent":0,"child":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(ctx, "SCCM", p, engine.DefaultApplyOptions())
	if err != nil || res.HasError {
		t.Fatalf("apply: %v %+v", err, res)
	}
	// Make the store what format 2 wrote: the adapter without its lookup
	// identity (the last of its keys), the format key saying 2.
	nic := res.Items[1].SysID
	txn := e.Store().NewTxn()
	v, err := txn.Get(store.CIKey(nic))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.DecodeRecord(v)
	if err != nil || len(rec.IdentityKeys) != 2 {
		t.Fatalf("adapter %+v %v, want two identity keys (its own entry, the Hardware Rule's lookup)", rec, err)
	}
	lookup := rec.IdentityKeys[1]
	rec.IdentityKeys = rec.IdentityKeys[:1]
	b, err := store.EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{store.ReleaseIdentity(txn, lookup, nic), txn.Set(store.CIKey(nic), b), txn.Set(store.IdentityFormatKey(), []byte("2"))} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if problems, err := e.Check(ctx); err != nil || len(problems) != 1 {
		t.Fatalf("check of the format 2 store: %q %v, want the adapter named", problems, err)
	}
	e.Close()

	e, err = engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if problems, err := e.Check(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("check after reopening: %q %v", problems, err)
	}
	later, err := payload.DecodeBytes([]byte(`{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"web-1-renamed"},
		"lookup":[{"className":"cmdb_ci_network_adapter","values":{"name":"eth0","mac_address":"02:00:00:00:00:01"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res2, err := e.Apply(ctx, "SCCM", later, engine.DefaultApplyOptions())
	if err != nil || res2.Items[0].SysID != res.Items[0].SysID {
		t.Fatalf("later payload: %v %+v, want %s", err, res2.Items[0], res.Items[0].SysID)
	}
}
