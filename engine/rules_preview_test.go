package engine_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// assetTagPack extends the default pack with a last Hardware Rule entry on
// asset_tag: the pack's own entries keep their IDs.
const assetTagPack = `extends: default
change:
  identification:
    - name: Hardware Rule
      entries:
        - {priority: 100, search_on_table: cmdb_serial_number, attributes: [serial_number, serial_number_type]}
        - {priority: 200, unique: true, attributes: [serial_number]}
        - {priority: 300, attributes: [name]}
        - {priority: 400, search_on_table: cmdb_ci_network_adapter, attributes: [mac_address, name]}
        - {priority: 500, unique: true, attributes: [asset_tag]}
`

// PreviewRules lists the records of the classes a change touches, says
// which of them get other identity keys (the ones the real reindex then
// changes), and writes nothing.
func TestPreviewRules(t *testing.T) {
	dir := t.TempDir()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tagged := applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"t1","asset_tag":"A-1"}}]}`).SysID
	plain := applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"p1"}}]}`).SysID
	acct := applyFrom(t, e, "AWS", account("a1")).SysID
	next, err := rules.Load("asset-tag.yaml", []byte(assetTagPack))
	if err != nil {
		t.Fatal(err)
	}

	before := storeBytes(t, e.Store())
	p, err := engine.PreviewRules(e.Store(), rules.Default(), next)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, storeBytes(t, e.Store())) {
		t.Fatal("the preview wrote to the store")
	}
	if !p.StoreIndexedWithFrom {
		t.Error("the store was indexed with the default pack, the preview says otherwise")
	}
	if !slices.Contains(p.Classes, "cmdb_ci_linux_server") || slices.Contains(p.Classes, "cmdb_ci_cloud_service_account") {
		t.Errorf("classes %v: want the hardware classes only", p.Classes)
	}
	got := map[string]bool{}
	for _, r := range p.Records {
		got[r.SysID] = r.KeysChange
	}
	if len(got) != 2 || !got[tagged] || got[plain] {
		t.Fatalf("records %+v: want %s (keys change) and %s (keys stay), not the account %s", p.Records, tagged, plain, acct)
	}
	keysOf := func(e *engine.Engine) map[string][][]byte {
		out := map[string][][]byte{}
		for _, id := range []string{tagged, plain, acct} {
			rec, err := e.Record(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = rec.IdentityKeys
		}
		return out
	}
	old := keysOf(e)
	e.Close()

	// The real reindex changes exactly the keys the preview said.
	e, err = engine.Open(dir, engine.Options{Rules: next})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	now := keysOf(e)
	for id, ks := range now {
		changed := len(ks) != len(old[id])
		for i := 0; !changed && i < len(ks); i++ {
			changed = !bytes.Equal(ks[i], old[id][i])
		}
		if changed != got[id] {
			t.Errorf("%s: keys changed %v, preview said %v", id, changed, got[id])
		}
	}
}

// storeBytes is every key and value of a store, in order.
func storeBytes(t *testing.T, st store.Store) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := st.View(func(r store.Reader) error {
		return r.Iterate(nil, func(k, v []byte) error {
			b.Write(k)
			b.WriteByte(0)
			b.Write(v)
			b.WriteByte(0)
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
