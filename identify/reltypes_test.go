package identify

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
)

func TestCanonicalRelations(t *testing.T) {
	rs, err := rules.Load("t.yaml", []byte(`relation_types: ["Owns::Owned by", "Hosted on::Hosts"]`))
	if err != nil {
		t.Fatal(err)
	}
	sub := &payload.SubRef{Lookup: true, Index: 0}
	in := &payload.Payload{Relations: []payload.Relation{
		{Type: "Owns::Owned by", Parent: 0, Child: 1},
		{Type: "Owned by::Owns", Parent: 2, Child: 0, ParentSub: sub},
		{Type: "hosted ON::hosts", Parent: 3, Child: 4},
		{Type: "Unknown::Type", Parent: 1, Child: 2},
	}}
	before := append([]payload.Relation(nil), in.Relations...)
	out := canonicalRelations(rs, in)
	want := []payload.Relation{
		{Type: "Owns::Owned by", Parent: 0, Child: 1},
		{Type: "Owns::Owned by", Parent: 0, Child: 2, ChildSub: sub},
		{Type: "Hosted on::Hosts", Parent: 3, Child: 4},
		{Type: "Unknown::Type", Parent: 1, Child: 2},
	}
	if diff := cmp.Diff(want, out.Relations); diff != "" {
		t.Errorf("relations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, in.Relations); diff != "" {
		t.Errorf("the caller's payload changed (-before +after):\n%s", diff)
	}
	// Nothing to rewrite: the payload itself comes back.
	plain := &payload.Payload{Relations: want[:1]}
	if canonicalRelations(rs, plain) != plain {
		t.Error("a payload with declared spellings only was copied")
	}
}
