package payload_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/payload"
)

// FuzzDecode checks that Decode never panics, that what it accepts is
// canonical and consistent, and that a decoded payload survives a round
// trip through encoding/json unchanged.
func FuzzDecode(f *testing.F) {
	f.Add(readExample(f))
	for _, s := range []string{
		`{"items":[]}`,
		`{"items":[{"className":"a","internal_id":"a","values":{"x":1.5,"y":-0,"z":null,"w":"s","v":false,"u":1e300,"t":12345678901234567890}},
		  {"className":"b","internal_id":"b","related":[{"className":"r","internal_id":"r","values":{"k":"v"},"sys_object_source_info":{"source_name":"SCCM"}}]}],
		 "relations":[{"type":"a::b","parent_id":"a","child_id":"b","sys_rel_source_info":{}},{"type":"b::a","parent":1.0,"child":0}],
		 "referenceItems":[]}`,
		`{"items":[{"className":"c","values":{"n":{"nested":1}}}]}`,
		`{"items":[{"className":"c"}],"relations":[{"type":"t","parent":0,"child":3}]}`,
		`{"items":[{"className":"c"},{"className":"d"}],"relations":[{"type":"t","parent":0.5,"child":1}]}`,
		`{"items":[{"className":"c","lookup":[{}],"display_values":{"a":"b"},"settings":{}}]}`,
		`{"items":[{"className":"c","classUpgrade":"true","classSwitch":false,"settings":{"updateWithoutDowngrade":"false","skipReclassificationRestrictionRules":true,"x":[]}}]}`,
		"{\n  \"items\": [\n    {\"className\": \"c\",}\n  ]\n}",
		`{"items":[`,
		`{"items":[]} trailing`,
		"{\"items\":[{\"className\":\"\xff\xfe\",\"values\":{\"\xc3\":\"\xe2\x82\"}}]}",
		`{"items":[{"className":"c","values":{"a":9223372036854775808,"b":-9223372036854775808.5,"c":0.99999999999999999999,"d":1e-400}}]}`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := payload.DecodeBytes(in)
		if err != nil {
			var pe *payload.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *payload.Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), "payload: ") {
				t.Fatalf("error %q lacks the payload: prefix", err)
			}
			return
		}
		checkDecoded(t, p)

		c := p.Clone()
		if diff := cmp.Diff(p, c); diff != "" {
			t.Fatalf("Clone mismatch (-want +got):\n%s", diff)
		}

		// Round trip through encoding/json, for payloads whose relations
		// all join two items (the JSON form has no place for the rest).
		for _, r := range p.Relations {
			if r.Invalid != "" || r.ParentSub != nil || r.ChildSub != nil {
				return
			}
		}
		p.Ignored = nil
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		q, err := payload.DecodeBytes(b)
		if err != nil {
			t.Fatalf("decoding the re-encoded payload %s: %v", b, err)
		}
		if diff := cmp.Diff(canonicalView(p), canonicalView(q)); diff != "" {
			t.Fatalf("round trip changed the payload (-want +got):\n%s", diff)
		}
		// Canonical types are stable too, not just their texts.
		if diff := cmp.Diff(p, q); diff != "" {
			t.Fatalf("round trip changed value types (-want +got):\n%s", diff)
		}
	})
}

// checkDecoded verifies the invariants Decode promises.
func checkDecoded(t *testing.T, p *payload.Payload) {
	t.Helper()
	if p.Items == nil {
		t.Fatal("Items is nil")
	}
	if len(p.Items) > payload.MaxItems {
		t.Fatalf("%d items accepted", len(p.Items))
	}
	checkValues := func(path string, vals map[string]any) {
		if vals == nil {
			t.Fatalf("%s: values map is nil", path)
		}
		for k, v := range vals {
			if k == "" {
				t.Fatalf("%s: empty attribute name", path)
			}
			switch v.(type) {
			case nil, string, bool, int64, float64:
			default:
				t.Fatalf("%s.%s: value %#v of non-canonical type %T", path, k, v, v)
			}
			n, err := payload.Normalize(v)
			if err != nil || n != v {
				t.Fatalf("%s.%s: Normalize(%#v) = %#v, %v; want it unchanged", path, k, v, n, err)
			}
		}
	}
	for i, it := range p.Items {
		if it.ClassName == "" {
			t.Fatalf("items[%d]: empty className", i)
		}
		checkValues(fmt.Sprintf("items[%d]", i), it.Values)
		for j, r := range it.Related {
			if r.ClassName == "" {
				t.Fatalf("items[%d].related[%d]: empty className", i, j)
			}
			checkValues(fmt.Sprintf("items[%d].related[%d]", i, j), r.Values)
		}
	}
	for i, r := range p.Relations {
		if r.Invalid != "" {
			if r.Parent != -1 || r.Child != -1 || r.ParentSub != nil || r.ChildSub != nil {
				t.Fatalf("relations[%d] = %+v: invalid but keeps its ends", i, r)
			}
			continue
		}
		if r.Type == "" {
			t.Fatalf("relations[%d]: empty type", i)
		}
		if r.Parent < 0 || r.Parent >= len(p.Items) || r.Child < 0 || r.Child >= len(p.Items) ||
			(r.Parent == r.Child && r.ParentSub == nil && r.ChildSub == nil) {
			t.Fatalf("relations[%d] = %+v with %d items", i, r, len(p.Items))
		}
	}
}

// canonicalView replaces every value by its canonical text, so payloads are
// compared the way identification compares them.
func canonicalView(p *payload.Payload) any {
	type Rel struct {
		Class, ID string
		Values    map[string]string
		Source    *payload.SourceInfo
	}
	type Item struct {
		Self    Rel
		Related []Rel
	}
	conv := func(class, id string, vals map[string]any, src *payload.SourceInfo) Rel {
		m := make(map[string]string, len(vals))
		for k, v := range vals {
			m[k] = payload.Canonical(v)
			if v == nil {
				m[k] = "<null>" // null and "" differ
			}
		}
		return Rel{class, id, m, src}
	}
	var items []Item
	for _, it := range p.Items {
		x := Item{Self: conv(it.ClassName, it.InternalID, it.Values, it.SourceInfo)}
		for _, r := range it.Related {
			x.Related = append(x.Related, conv(r.ClassName, r.InternalID, r.Values, r.SourceInfo))
		}
		items = append(items, x)
	}
	return struct {
		Items     []Item
		Relations []payload.Relation
	}{items, p.Relations}
}
