package fuzz

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// Properties over what real feeds send: blank values, lookups, fields this
// version does not read.

// blankOr draws a value of attr: absent, blank ("" or whitespace), or one
// of a few real values, so items share and clash.
func blankOr(t *rapid.T, values map[string]any, attr string, real ...string) {
	switch v := rapid.SampledFrom(append([]string{"<absent>", "", " ", "\t"}, real...)).Draw(t, attr); v {
	case "<absent>":
	default:
		values[attr] = v
	}
}

func withoutBlanks(p *payload.Payload) *payload.Payload {
	q := p.Clone()
	for i := range q.Items {
		for k, v := range q.Items[i].Values {
			if identify.Blank(v) {
				delete(q.Items[i].Values, k)
			}
		}
	}
	return q
}

// Property: a blank identifying value is an absent one. A sequence of
// computer reports with names and serial numbers that are sometimes empty
// or whitespace identifies items exactly as the same reports without those
// attributes: the same items fail with the same codes, and the same items
// land on the same CI.
func TestPropBlankValuesAreAbsent(t *testing.T) {
	inMemory(t, func(t *rapid.T, a *engine.Engine) {
		b := openMem(t)
		n := rapid.IntRange(1, 8).Draw(t, "reports")
		ciOfA, ciOfB := map[string]int{}, map[string]int{}
		for k := range n {
			values := map[string]any{"ram": rapid.IntRange(1, 3).Draw(t, "ram")}
			blankOr(t, values, "name", "n1", "n2")
			blankOr(t, values, "serial_number", "S1", "S2", "S3")
			p := &payload.Payload{Items: []payload.Item{{ClassName: "cmdb_ci_computer", Values: values}}}
			ra := apply(t, a, p, engine.DefaultApplyOptions())
			rb := apply(t, b, withoutBlanks(p), engine.DefaultApplyOptions())
			x, y := &ra.Items[0], &rb.Items[0]
			if codesOf(x.Errors) != codesOf(y.Errors) {
				t.Fatalf("report %d: errors [%s] with blanks, [%s] without", k, codesOf(x.Errors), codesOf(y.Errors))
			}
			if x.ErrorCount > 0 {
				continue
			}
			// The first report that reached each CI names it in both stores.
			if _, ok := ciOfA[x.SysID]; !ok {
				ciOfA[x.SysID] = k
			}
			if _, ok := ciOfB[y.SysID]; !ok {
				ciOfB[y.SysID] = k
			}
			if ciOfA[x.SysID] != ciOfB[y.SysID] {
				t.Fatalf("report %d: lands on the CI of report %d with blanks, of report %d without", k, ciOfA[x.SysID], ciOfB[y.SysID])
			}
		}
		checkStore(t, a)
		checkStore(t, b)
	})
}

// lookupPayload draws computers carrying serial number and network adapter
// lookups from small pools, so that items share lookup records and merge.
func lookupPayload(t *rapid.T) *payload.Payload {
	p := &payload.Payload{}
	for k := range rapid.IntRange(1, 4).Draw(t, "computers") {
		values := map[string]any{"ram": rapid.IntRange(1, 2).Draw(t, "ram")}
		if rapid.Bool().Draw(t, "named") {
			values["name"] = rapid.SampledFrom([]string{"h1", "h2", "localhost"}).Draw(t, "name")
		}
		it := payload.Item{ClassName: "cmdb_ci_computer", Values: values}
		for range rapid.IntRange(0, 2).Draw(t, "serials") {
			it.Lookup = append(it.Lookup, payload.Related{ClassName: "cmdb_serial_number", Values: map[string]any{
				"serial_number":      rapid.SampledFrom([]string{"S1", "S2", "S3"}).Draw(t, "serial"),
				"serial_number_type": rapid.SampledFrom([]string{"system", "uuid"}).Draw(t, "serial type")}})
		}
		if rapid.Bool().Draw(t, "adapter") {
			it.Lookup = append(it.Lookup, payload.Related{ClassName: "cmdb_ci_network_adapter", Values: map[string]any{
				"name": "eth0", "mac_address": rapid.SampledFrom([]string{"m1", "m2"}).Draw(t, "mac")}})
		}
		if len(values) == 1 && len(it.Lookup) == 0 {
			values["name"] = fmt.Sprintf("only-%d", k)
		}
		p.Items = append(p.Items, it)
	}
	return p
}

// Property: a payload with lookups gives the same graph, and every item
// the same outcome, whatever the order of its items and of each item's
// lookup records (applied after the same seed payload, when drawn).
func TestPropLookupsInAnyOrder(t *testing.T) {
	inMemory(t, func(t *rapid.T, a *engine.Engine) {
		b := openMem(t)
		var seed *payload.Payload
		if rapid.Bool().Draw(t, "seed") {
			seed = lookupPayload(t)
		}
		p := lookupPayload(t)
		perm := rapid.Permutation(identity(len(p.Items))).Draw(t, "permutation")
		q := permuted(p, perm, nil)
		for i := range q.Items {
			l := q.Items[i].Lookup
			lp := rapid.Permutation(identity(len(l))).Draw(t, "lookup permutation")
			shuffled := make([]payload.Related, len(l))
			for k, old := range lp {
				shuffled[k] = l[old]
			}
			q.Items[i].Lookup = shuffled
		}
		o := engine.DefaultApplyOptions()
		ra, rb := applyAfter(t, a, seed, p, o), applyAfter(t, b, seed, q, o)
		for k, old := range perm {
			x, y := &ra.Items[old], &rb.Items[k]
			if x.Operation != y.Operation || codesOf(x.Errors) != codesOf(y.Errors) {
				t.Fatalf("item %d (now %d): %s, permuted: %s\npayload:  %s\npermuted: %s", old, k, outcome(x), outcome(y), jsonOf(p), jsonOf(q))
			}
		}
		checkStore(t, a)
		checkStore(t, b)
		sameGraph(t, "graph of the payload against that of the permuted payload", storedGraph(t, a), storedGraph(t, b))
	})
}

// withUnknownFields adds fields no version of the payload format defines
// at every level of p's JSON form.
func withUnknownFields(t *rapid.T, p *payload.Payload) []byte {
	var tree map[string]any
	if err := json.Unmarshal([]byte(jsonOf(p)), &tree); err != nil {
		t.Fatal(err)
	}
	n := 0
	add := func(obj map[string]any) {
		if rapid.Bool().Draw(t, "unknown field") {
			n++
			obj[fmt.Sprintf("x_future_%d", n)] = rapid.SampledFrom([]any{"x", 1.0, true, nil, map[string]any{"k": "v"}, []any{1.0}}).Draw(t, "unknown value")
		}
	}
	add(tree)
	for _, list := range []string{"items", "relations"} {
		arr, _ := tree[list].([]any)
		for _, x := range arr {
			obj := x.(map[string]any)
			add(obj)
			if rel, ok := obj["related"].([]any); ok {
				for _, r := range rel {
					add(r.(map[string]any))
				}
			}
		}
	}
	b, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Property: a field the decoder does not know never changes what the known
// ones do: the same payload with unknown fields added anywhere gives every
// item the same outcome and the store the same graph.
func TestPropUnknownFieldsChangeNothing(t *testing.T) {
	inMemory(t, func(t *rapid.T, a *engine.Engine) {
		b := openMem(t)
		o := drawOptions(t, nil)
		p := validPayload(t, chaosValues)
		q, err := payload.DecodeBytes(withUnknownFields(t, p))
		if err != nil {
			t.Fatalf("a payload with unknown fields was refused: %v", err)
		}
		for _, path := range q.Ignored {
			if !strings.Contains(path, "x_future_") {
				t.Fatalf("ignored a known field: %s", path)
			}
		}
		ra, rb := apply(t, a, p, o), apply(t, b, q, o)
		for i := range ra.Items {
			if x, y := outcome(&ra.Items[i]), outcome(&rb.Items[i]); x != y {
				t.Fatalf("item %d: %s, with unknown fields: %s", i, x, y)
			}
		}
		sameGraph(t, "graph without and with unknown fields", storedGraph(t, a), storedGraph(t, b))
	})
}
