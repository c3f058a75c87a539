package rules

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// RelationType is a declared relation type, "Parent descriptor::Child
// descriptor" as in ServiceNow's cmdb_rel_type.
type RelationType struct {
	Name string
	// Suggested are the parent and child classes the type is documented
	// for ("Owns::Owned by": computer → network adapter). They guide users
	// and tools; a relation between other classes is still accepted.
	Suggested []ClassPair
}

// ClassPair is a relation's parent class and child class.
type ClassPair struct{ Parent, Child string }

// relationDecl is a relation type as declared, before classes are known.
type relationDecl struct {
	rt    *RelationType
	pairs []*yaml.Node // the suggested [parent, child] nodes
	s     scope
}

// RelationType returns the declared type that name spells: the type itself,
// the same type in other letter case or spacing ("Owns::Owned By"), or the
// type read the other way round ("Owned by::Owns" for "Owns::Owned by").
// reversed says that the relation's parent and child must be swapped to
// use the canonical type.
func (rs *RuleSet) RelationType(name string) (rt *RelationType, reversed, ok bool) {
	if rt, ok := rs.relationTypes[name]; ok {
		return rt, false, true
	}
	p, c, ok := SplitRelationType(name)
	if !ok {
		return nil, false, false
	}
	if rt, ok := rs.relationFold[foldRelation(p, c)]; ok {
		return rt, false, true
	}
	if rt, ok := rs.relationFold[foldRelation(c, p)]; ok {
		return rt, true, true
	}
	return nil, false, false
}

// foldRelation is the key that makes spellings of one type meet: descriptors
// trimmed, inner spaces collapsed, lower case.
func foldRelation(parent, child string) string {
	f := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return f(parent) + "::" + f(child)
}

func (l *loader) relationTypes(n *yaml.Node) {
	base := scope{field: "relation_types"}
	items, _ := l.seq(n, base)
	first := map[string]int{} // fold key → line
	for i, it := range items {
		s := base.index(i)
		nameNode, suggested := it, (*yaml.Node)(nil)
		if it.Kind == yaml.MappingNode {
			f := l.fields(it, s, "name", "suggested")
			if f == nil {
				continue
			}
			if nameNode = l.need(f, it, s, "name"); nameNode == nil {
				continue
			}
			s, suggested = s.key("name"), f["suggested"]
		}
		name, ok := l.str(nameNode, s)
		if !ok {
			continue
		}
		p, c, ok := SplitRelationType(name)
		if !ok {
			l.errorf(nameNode, s, `bad relation type %q: want "Parent descriptor::Child descriptor"`, name)
			continue
		}
		key := foldRelation(p, c)
		if line, dup := first[key]; dup {
			l.errorf(nameNode, s, "duplicate relation type %q (first at line %d)", name, line)
			continue
		}
		if line, dup := first[foldRelation(c, p)]; dup {
			l.errorf(nameNode, s, "relation type %q is the type at line %d read the other way round; declare one (the other spelling is accepted and stored as the declared one)", name, line)
			continue
		}
		first[key] = nameNode.Line
		rt := &RelationType{Name: name}
		l.rs.relationTypes[name] = rt
		l.rs.relationFold[key] = rt
		l.rs.relationOrder = append(l.rs.relationOrder, name)
		d := &relationDecl{rt: rt, s: base.index(i).key("suggested")}
		if suggested != nil {
			d.pairs, _ = l.seq(suggested, d.s)
		}
		l.relDecls = append(l.relDecls, d)
	}
}

// suggestedPairs reads every type's suggested [parent, child] class pairs;
// it runs once the classes are known.
func (l *loader) suggestedPairs() {
	for _, d := range l.relDecls {
		for j, pn := range d.pairs {
			s := d.s.index(j)
			ends, ok := l.seq(pn, s)
			if !ok {
				continue
			}
			if len(ends) != 2 {
				l.errorf(pn, s, "want [parent class, child class], got %d entries", len(ends))
				continue
			}
			var names [2]string
			good := true
			for k, e := range ends {
				name, ok := l.str(e, s)
				if ok && l.decls[name] == nil {
					l.errorf(e, s, "unknown class %q", name)
					ok = false
				}
				names[k], good = name, good && ok
			}
			if good {
				d.rt.Suggested = append(d.rt.Suggested, ClassPair{Parent: names[0], Child: names[1]})
			}
		}
	}
}
