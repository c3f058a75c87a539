package fuzz

import (
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// The BYOL classes and relation types the generators use (SPEC §1).
const (
	classAccount  = "cmdb_ci_cloud_service_account"
	classDC       = "cmdb_ci_aws_datacenter"
	classVM       = "cmdb_ci_vm_instance"
	classComputer = "cmdb_ci_computer"
	classInstall  = "cmdb_sam_sw_install"
	hostedOn      = "Hosted on::Hosts"
	virtualizedBy = "Virtualized by::Virtualizes"
)

// Small value domains, so that payloads describe the same CIs often.
var (
	accountIDs    = []string{"a1", "a2", "a3"}
	regions       = []string{"r1", "r2"}
	vmIDs         = []string{"i1", "i2", "i3"}
	computerNames = []string{"c1", "c2", "c3"}
	software      = []install{
		{"Microsoft", "SQL Server", "2017"},
		{"Microsoft", "SQL Server", "2019"},
		{"Oracle", "Database", "19c"},
	}
)

type install struct{ publisher, name, version string }

// valueMode says how generated items fill the attributes beyond the one
// that names them (account_id, object_id, a computer's name).
type valueMode int

const (
	// fixedValues: every attribute is a function of the CI the item
	// describes, so all items of one CI agree, and what is stored does not
	// depend on the order payloads arrive in. The model covers this mode.
	fixedValues valueMode = iota
	// freeValues: descriptive attributes (names, counts, licence types) are
	// drawn per item, so duplicates in one payload disagree; identifying
	// attributes stay functions of the CI.
	freeValues
	// chaosValues: like freeValues, and the secondary identifiers (an
	// account's object_id, a computer's serial_number) are drawn per item
	// too, and a computer may come without its name: items then merge,
	// move identities and clash (MULTI_MATCH) through them.
	chaosValues
)

var allModes = []valueMode{fixedValues, freeValues, chaosValues}

func (m valueMode) String() string {
	return [...]string{"fixed", "free", "chaos"}[m]
}

// serialOf is the serial number of computer name outside chaosValues mode.
func serialOf(name string) string { return "SN-" + name }

// builder assembles one payload from fragments, each a CI with the chain
// of CIs it depends on. A fragment may reuse an item already describing a
// CI it needs, or add another item for it (a duplicate to deduplicate).
type builder struct {
	t    *rapid.T
	mode valueMode
	p    *payload.Payload
	// items maps a CI (by its entity name) to the items describing it;
	// faulty items are not listed, so valid fragments never build on them.
	items map[string][]int
}

func newBuilder(t *rapid.T, mode valueMode) *builder {
	return &builder{t: t, mode: mode, p: &payload.Payload{Items: []payload.Item{}}, items: map[string][]int{}}
}

// reuse returns an item already describing entity, when the draw says so.
func (b *builder) reuse(entity string) (int, bool) {
	have := b.items[entity]
	if len(have) == 0 || !rapid.Bool().Draw(b.t, "reuse "+entity) {
		return 0, false
	}
	return rapid.SampledFrom(have).Draw(b.t, "item of "+entity), true
}

// add appends an item; entity "" marks an item valid fragments must not reuse.
func (b *builder) add(entity, class string, values map[string]any) int {
	b.p.Items = append(b.p.Items, payload.Item{ClassName: class, Values: values})
	i := len(b.p.Items) - 1
	if entity != "" {
		b.items[entity] = append(b.items[entity], i)
	}
	return i
}

func (b *builder) relate(typ string, parent, child int) {
	b.p.Relations = append(b.p.Relations, payload.Relation{Type: typ, Parent: parent, Child: child})
}

// describe sets a descriptive attribute when drawn: the CI's own value in
// fixedValues mode, else one of choices.
func (b *builder) describe(values map[string]any, attr string, fixed any, choices ...any) {
	if !rapid.Bool().Draw(b.t, "has "+attr) {
		return
	}
	values[attr] = fixed
	if b.mode != fixedValues {
		values[attr] = rapid.SampledFrom(choices).Draw(b.t, attr)
	}
}

// secondary sets a secondary identifier when drawn: the CI's own value,
// or in chaosValues mode one of choices.
func (b *builder) secondary(values map[string]any, attr string, fixed any, choices ...any) {
	if !rapid.Bool().Draw(b.t, "has "+attr) {
		return
	}
	values[attr] = fixed
	if b.mode == chaosValues {
		values[attr] = rapid.SampledFrom(choices).Draw(b.t, attr)
	}
}

func (b *builder) account(a string) int {
	entity := "account " + a
	if i, ok := b.reuse(entity); ok {
		return i
	}
	v := map[string]any{"account_id": a}
	b.describe(v, "name", "Account "+a, "Prod", "Dev")
	b.secondary(v, "object_id", "obj-"+a, "o1", "o2")
	return b.add(entity, classAccount, v)
}

func (b *builder) datacenter(a, r string) int {
	entity := "datacenter " + a + "/" + r
	if i, ok := b.reuse(entity); ok {
		return i
	}
	v := map[string]any{"object_id": r}
	b.describe(v, "name", "DC "+r+" of "+a, "East", "West")
	i := b.add(entity, classDC, v)
	b.relate(hostedOn, i, b.account(a))
	return i
}

func (b *builder) vm(a, r, id string) int {
	entity := "vm " + a + "/" + r + "/" + id
	if i, ok := b.reuse(entity); ok {
		return i
	}
	v := map[string]any{"object_id": id}
	b.describe(v, "name", "VM "+id, "web", "db")
	b.describe(v, "cpu_count", int64(2), int64(1), int64(4))
	i := b.add(entity, classVM, v)
	b.relate(hostedOn, i, b.datacenter(a, r))
	return i
}

func (b *builder) computer(c string) int {
	entity := "computer " + c
	if i, ok := b.reuse(entity); ok {
		return i
	}
	v := map[string]any{"name": c}
	b.secondary(v, "serial_number", serialOf(c), "s1", "s2")
	b.describe(v, "cpu_count", int64(1), int64(1), int64(2), int64(4))
	b.describe(v, "virtual", true, true, false)
	if b.mode == chaosValues && v["serial_number"] != nil && rapid.Bool().Draw(b.t, "drop name") {
		delete(v, "name")
	}
	i := b.add(entity, classComputer, v)
	for range rapid.IntRange(0, 2).Draw(b.t, "installs") {
		sw := rapid.SampledFrom(software).Draw(b.t, "software")
		rv := map[string]any{"publisher": sw.publisher, "display_name": sw.name, "version": sw.version}
		b.describe(rv, "cloud_license_type", "BYOL", "BYOL", "License Included")
		b.describe(rv, "cloud_license_type_source", "third_party_integration", "third_party_integration")
		b.p.Items[i].Related = append(b.p.Items[i].Related, payload.Related{ClassName: classInstall, Values: rv})
	}
	return i
}

// fragment adds one CI with everything it needs.
func (b *builder) fragment() {
	a := rapid.SampledFrom(accountIDs).Draw(b.t, "account_id")
	r := rapid.SampledFrom(regions).Draw(b.t, "region")
	id := rapid.SampledFrom(vmIDs).Draw(b.t, "vm")
	c := rapid.SampledFrom(computerNames).Draw(b.t, "computer")
	switch rapid.IntRange(0, 4).Draw(b.t, "fragment") {
	case 0:
		b.account(a)
	case 1:
		b.datacenter(a, r)
	case 2:
		b.vm(a, r, id)
	case 3:
		b.computer(c)
	case 4: // the BYOL shape: a computer virtualized by a VM instance
		b.relate(virtualizedBy, b.computer(c), b.vm(a, r, id))
	}
}

// faultyFragment adds items that must fail, sometimes with valid items
// depending on them (which must then fail too).
func (b *builder) faultyFragment() {
	a := rapid.SampledFrom(accountIDs).Draw(b.t, "account_id")
	r := rapid.SampledFrom(regions).Draw(b.t, "region")
	switch rapid.IntRange(0, 10).Draw(b.t, "fault") {
	case 0: // unknown class, alone or as a datacenter's account
		u := b.add("", "cmdb_ci_unicorn", map[string]any{"name": "u"})
		if rapid.Bool().Draw(b.t, "hosts a datacenter") {
			dc := b.add("", classDC, map[string]any{"object_id": r})
			b.relate(hostedOn, dc, u)
			b.vmsOn(dc)
		}
	case 1: // account without identifying attributes, with what hangs under it
		acct := b.add("", classAccount, map[string]any{"name": "nameless"})
		dc := b.add("", classDC, map[string]any{"object_id": r})
		b.relate(hostedOn, dc, acct)
		b.vmsOn(dc)
	case 2: // datacenter without object_id under a good account
		dc := b.add("", classDC, map[string]any{"name": "no object_id"})
		b.relate(hostedOn, dc, b.account(a))
		b.vmsOn(dc)
	case 3: // VM without object_id under a good datacenter
		vm := b.add("", classVM, map[string]any{"name": "no object_id"})
		b.relate(hostedOn, vm, b.datacenter(a, r))
	case 4: // computer with neither serial_number nor name, with an install
		b.add("", classComputer, map[string]any{"cpu_count": int64(8)})
		b.p.Items[len(b.p.Items)-1].Related = []payload.Related{{ClassName: classInstall,
			Values: map[string]any{"publisher": "Microsoft", "display_name": "SQL Server", "version": "2017"}}}
	case 5: // install without its version, on a good computer
		c := b.computer(rapid.SampledFrom(computerNames).Draw(b.t, "computer"))
		b.p.Items[c].Related = append(b.p.Items[c].Related, payload.Related{ClassName: classInstall,
			Values: map[string]any{"publisher": "Oracle", "display_name": "Database"}})
	case 6: // datacenter without its account relation
		dc := b.add("", classDC, map[string]any{"object_id": r})
		b.vmsOn(dc)
	case 7: // VM hosted on two datacenter items (valid when both draws reuse one item)
		vm := b.add("", classVM, map[string]any{"object_id": rapid.SampledFrom(vmIDs).Draw(b.t, "vm")})
		b.relate(hostedOn, vm, b.datacenter(a, r))
		b.relate(hostedOn, vm, b.datacenter(rapid.SampledFrom(accountIDs).Draw(b.t, "account_id"), rapid.SampledFrom(regions).Draw(b.t, "region")))
	case 8: // datacenter tied to its account by an undeclared relation type
		dc := b.add("", classDC, map[string]any{"object_id": r})
		b.relate("Hosted by::Hosts", dc, b.account(a))
	case 9: // VM hosted directly on an account
		vm := b.add("", classVM, map[string]any{"object_id": rapid.SampledFrom(vmIDs).Draw(b.t, "vm")})
		b.relate(hostedOn, vm, b.account(a))
	case 10: // a relation from a good item to itself
		i := rapid.IntRange(0, len(b.p.Items)).Draw(b.t, "related to itself")
		if i == len(b.p.Items) {
			i = b.account(a)
		}
		b.relate(rapid.SampledFrom([]string{hostedOn, virtualizedBy}).Draw(b.t, "type"), i, i)
	}
}

// vmsOn adds up to two VM instances hosted on item dc.
func (b *builder) vmsOn(dc int) {
	for range rapid.IntRange(0, 2).Draw(b.t, "vms on it") {
		vm := b.add("", classVM, map[string]any{"object_id": rapid.SampledFrom(vmIDs).Draw(b.t, "vm")})
		b.relate(hostedOn, vm, dc)
	}
}

// done returns the payload with its items in a drawn order.
func (b *builder) done() *payload.Payload {
	perm := rapid.Permutation(identity(len(b.p.Items))).Draw(b.t, "item order")
	return permuted(b.p, perm, identity(len(b.p.Relations)))
}

// validPayload draws a payload of one to five fragments.
func validPayload(t *rapid.T, mode valueMode) *payload.Payload {
	b := newBuilder(t, mode)
	for range rapid.IntRange(1, 5).Draw(t, "fragments") {
		b.fragment()
	}
	return b.done()
}

// faultyPayload draws a payload of good fragments and one to three faulty ones.
func faultyPayload(t *rapid.T) *payload.Payload {
	b := newBuilder(t, fixedValues)
	good, bad := rapid.IntRange(0, 4).Draw(t, "good fragments"), rapid.IntRange(1, 3).Draw(t, "faulty fragments")
	for _, faulty := range rapid.Permutation(append(make([]bool, good), trues(bad)...)).Draw(t, "fragment order") {
		if faulty {
			b.faultyFragment()
		} else {
			b.fragment()
		}
	}
	return b.done()
}

// permuted returns a copy of p whose item k is p's item perm[k] and whose
// relation k is p's relation relPerm[k], with indexes remapped.
func permuted(p *payload.Payload, perm, relPerm []int) *payload.Payload {
	at := make([]int, len(perm))
	for k, old := range perm {
		at[old] = k
	}
	q := &payload.Payload{Items: make([]payload.Item, len(perm))}
	for k, old := range perm {
		q.Items[k] = cloneItem(p.Items[old])
	}
	for _, old := range relPerm {
		r := p.Relations[old]
		q.Relations = append(q.Relations, payload.Relation{Type: r.Type, Parent: at[r.Parent], Child: at[r.Child]})
	}
	return q
}

func cloneItem(it payload.Item) payload.Item {
	p := (&payload.Payload{Items: []payload.Item{it}}).Clone()
	return p.Items[0]
}

// reverseRelated reverses every item's related entries.
func reverseRelated(p *payload.Payload) {
	for i := range p.Items {
		rel := p.Items[i].Related
		for a, z := 0, len(rel)-1; a < z; a, z = a+1, z-1 {
			rel[a], rel[z] = rel[z], rel[a]
		}
	}
}

// subPayload returns the items of p at idx (in that order) and the
// relations among them, with the index in p of each of those relations.
func subPayload(p *payload.Payload, idx []int) (*payload.Payload, []int) {
	at := map[int]int{}
	q := &payload.Payload{Items: []payload.Item{}}
	for k, i := range idx {
		at[i] = k
		q.Items = append(q.Items, cloneItem(p.Items[i]))
	}
	var rels []int
	for k, r := range p.Relations {
		pa, okP := at[r.Parent]
		ch, okC := at[r.Child]
		if okP && okC {
			q.Relations = append(q.Relations, payload.Relation{Type: r.Type, Parent: pa, Child: ch})
			rels = append(rels, k)
		}
	}
	return q, rels
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func trues(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}
