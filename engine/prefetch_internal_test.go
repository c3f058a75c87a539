package engine

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/store"
)

// chainLinks links each key a run met under a CI it made up to the guards
// that would find that CI: one link per guard among the wanted keys (or
// link), one per distinct key, and none from a guard not wanted.
func TestChainLinks(t *testing.T) {
	madeUp := func(n int) string { return fmt.Sprintf("%s%02d%021d", readAheadID, 0, n) }
	id := func(entry, scope, value string) []byte {
		return store.IdentityKey(entry, scope, []string{value}, []bool{false})
	}
	account, datacenter, host := madeUp(1), madeUp(2), madeUp(3)
	byAccountID, byObjectID := id("acct", "", "a1"), id("acct-object", "", "o1")
	dcByName, dcByObjectID := id("dc-name", account, "x"), id("dc-object", account, "x") // the same value, two entries
	hostKey := id("host", datacenter, "h1")
	vmKey := id("vm", host, "v1")
	plan := &identify.Plan{Targets: []*identify.Target{
		{SysID: account, IdentityKeys: [][]byte{byAccountID, byObjectID}},
		{SysID: datacenter, IdentityKeys: [][]byte{dcByName}},
		{SysID: host, IdentityKeys: [][]byte{hostKey}},
	}}
	notWanted := id("acct", "", "elsewhere")
	plan2 := &identify.Plan{Targets: []*identify.Target{{SysID: account, IdentityKeys: [][]byte{notWanted}}}}
	runs := []readAhead{
		{plan: plan, scoped: [][]byte{dcByName, dcByObjectID, hostKey, vmKey}},
		{plan: plan, scoped: [][]byte{dcByName}}, // met again by another run: linked once
		{plan: plan2, scoped: [][]byte{id("dc-name", account, "y")}},
	}
	want := [][]byte{byAccountID, byObjectID}
	type link struct {
		guard int
		key   string // the key the link reads, with the guard's holder as "S"
	}
	var got []link
	for _, l := range chainLinks(runs, want) {
		got = append(got, link{l.Guard, string(bytes.Join([][]byte{l.Prefix, l.Suffix}, []byte("S")))})
	}
	under := func(k []byte) string {
		prefix, _, suffix, _ := store.SplitIdentityKey(k)
		return string(bytes.Join([][]byte{prefix, suffix}, []byte("S")))
	}
	expect := []link{
		{0, under(dcByName)}, {1, under(dcByName)}, // from either of the account's guards
		{0, under(dcByObjectID)}, {1, under(dcByObjectID)}, // the same value under another entry
		{2, under(hostKey)}, {3, under(hostKey)}, // under the datacenter the links 2 and 3 find
		{6, under(vmKey)}, {7, under(vmKey)}, // and the VM under the host
	}
	if len(got) != len(expect) {
		t.Fatalf("links %v, want %v", got, expect)
	}
	for i := range expect {
		if got[i] != expect[i] {
			t.Errorf("link %d is %v, want %v", i+len(want), got[i], expect[i])
		}
	}
}
