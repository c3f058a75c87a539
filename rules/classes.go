package rules

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// classDecl is a class as declared, before inheritance is applied.
type classDecl struct {
	class    *Class
	line     int        // of the name
	extends  *yaml.Node // nil for a root class
	required []string
	values   map[string][]string
	// indexed and the node it was read from (indexes.go).
	indexed     []string
	indexedNode *yaml.Node
}

func (l *loader) classes(n *yaml.Node) {
	base := scope{field: "classes"}
	items, _ := l.seq(n, base)
	for i, it := range items {
		s := base.index(i)
		if name := peekName(it); name != "" {
			s = scope{class: name}
		}
		f := l.fields(it, s, "name", "extends", "required", "values", "indexed")
		if f == nil {
			continue
		}
		d := &classDecl{class: &Class{}, extends: f["extends"]}
		if nn := l.need(f, it, s, "name"); nn != nil {
			if name, ok := l.str(nn, s.key("name")); ok {
				if prev := l.decls[name]; prev != nil {
					l.errorf(nn, s, "duplicate class (first at line %d)", prev.line)
				} else {
					d.class.Name, d.line = name, nn.Line
					l.decls[name] = d
					l.order = append(l.order, d)
				}
			}
		}
		if d.extends != nil {
			if _, ok := l.str(d.extends, s.key("extends")); !ok {
				d.extends = nil
			}
		}
		if rn := f["required"]; rn != nil {
			items, _ := l.seq(rn, s.key("required"))
			for j, a := range items {
				if attr, ok := l.str(a, s.key("required").index(j)); ok {
					d.required = appendNew(d.required, attr)
				}
			}
		}
		if vn := f["values"]; vn != nil {
			d.values = l.values(vn, s.key("values"))
		}
		if d.indexedNode = f["indexed"]; d.indexedNode != nil {
			l.indexed(d, s.key("indexed"))
		}
	}
	l.link()
}

// values reads "attribute: [allowed values]". Any scalar counts as a value,
// kept as written, since values are compared as text.
func (l *loader) values(n *yaml.Node, s scope) map[string][]string {
	ps, _ := l.pairs(n, s)
	out := map[string][]string{}
	for _, p := range ps {
		items, ok := l.seq(p.val, s)
		if !ok {
			continue
		}
		if len(items) == 0 {
			l.errorf(p.val, s, "attribute %q has no allowed values", p.name)
			continue
		}
		var vals []string
		for _, v := range items {
			if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
				l.errorf(v, s, "attribute %q: expected a value, got %s", p.name, describe(v))
				continue
			}
			vals = appendNew(vals, v.Value)
		}
		out[p.name] = vals
	}
	return out
}

// link sets every class's parent, reporting unknown parents and cycles.
func (l *loader) link() {
	for _, d := range l.order {
		if d.extends == nil {
			continue
		}
		p := l.decls[d.extends.Value]
		if p == nil {
			l.errorf(d.extends, scope{class: d.class.Name, field: "extends"}, "unknown class %q", d.extends.Value)
			continue
		}
		d.class.Parent = p.class
	}
	// A class is on a cycle when walking up from it comes back to it within
	// len(order) steps. Each cycle is reported once, at its first declared
	// member, and broken there so later walks (IsA, inherit) terminate.
	for _, d := range l.order {
		path := []string{d.class.Name}
		for c, steps := d.class.Parent, 0; c != nil && steps < len(l.order); c, steps = c.Parent, steps+1 {
			path = append(path, c.Name)
			if c == d.class {
				l.errorf(d.extends, scope{class: d.class.Name, field: "extends"}, "cycle %s", strings.Join(path, " -> "))
				d.class.Parent = nil
				break
			}
		}
	}
}

// inherit registers the classes and resolves, for each, the rule in force,
// the required attributes and the allowed values down its ancestry.
func (l *loader) inherit() {
	for _, d := range l.order {
		var chain []*classDecl // root first
		for c := d.class; c != nil; c = c.Parent {
			chain = append([]*classDecl{l.decls[c.Name]}, chain...)
		}
		c := d.class
		for _, a := range chain {
			for _, attr := range a.required {
				c.Required = appendNew(c.Required, attr)
			}
			for attr, vals := range a.values {
				if c.Allowed == nil {
					c.Allowed = map[string][]string{}
				}
				c.Allowed[attr] = vals
			}
			if r := l.own[a.class.Name]; r != nil {
				c.Rule = r
			}
		}
		inheritIndexed(c, chain)
		l.rs.classes[c.Name] = c
		l.rs.classOrder = append(l.rs.classOrder, c.Name)
	}
}

// appendNew appends s unless list already holds it, keeping first-seen order.
func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
