package identify

import (
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
)

// canonicalRelations returns p with every relation whose type is another
// spelling of a declared type ("Owned by::Owns" for "Owns::Owned by", or
// other letter case) rewritten to the declared type, parent and child
// swapped when it reads the other way round. The caller's payload is not
// changed: a rewrite copies the relations. Unknown types stay as they are
// for validate to report.
func canonicalRelations(rs *rules.RuleSet, p *payload.Payload) *payload.Payload {
	var rels []payload.Relation
	for k, rel := range p.Relations {
		rt, reversed, ok := rs.RelationType(rel.Type)
		if !ok || (rt.Name == rel.Type && !reversed) {
			continue
		}
		if rels == nil {
			rels = append([]payload.Relation(nil), p.Relations...)
		}
		r := &rels[k]
		r.Type = rt.Name
		if reversed {
			r.Parent, r.Child = r.Child, r.Parent
			r.ParentSub, r.ChildSub = r.ChildSub, r.ParentSub
		}
	}
	if rels == nil {
		return p
	}
	cp := *p
	cp.Relations = rels
	return &cp
}
