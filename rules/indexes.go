package rules

import "slices"

// Secondary indexes. A class declares the attributes the engine keeps an
// index of, for filtered and paged listing that reads no more than a page:
//
//	classes:
//	  - name: sn_prd_invt_product_inventory
//	    indexed: [state, customer]
//
// The index covers the class and its descendants; a descendant may declare
// more attributes, which join its ancestor's index. The record's class
// (sys_class_name) is always indexed alongside.

// IndexedClassAttribute is the attribute every index also holds: the
// record's class, so a class can be listed and counted from the index.
const IndexedClassAttribute = "sys_class_name"

// indexed reads a class's `indexed` list: at least one attribute, no
// duplicates, not the class or the sys_id (both always at hand).
func (l *loader) indexed(d *classDecl, s scope) {
	items, ok := l.seq(d.indexedNode, s)
	if ok && len(items) == 0 {
		l.errorf(d.indexedNode, s, "no attributes; list at least one, or drop the key")
	}
	for _, n := range items {
		attr, ok := l.str(n, s)
		switch {
		case !ok:
		case attr == IndexedClassAttribute || attr == "sys_id":
			l.errorf(n, s, "%q is always indexed; list only the class's own attributes", attr)
		case slices.Contains(d.indexed, attr):
			l.errorf(n, s, "duplicate attribute %q", attr)
		default:
			d.indexed = append(d.indexed, attr)
		}
	}
}

// inheritIndexed gives c the index of the topmost class in chain (root
// first) that declares one, with every attribute declared along the way.
func inheritIndexed(c *Class, chain []*classDecl) {
	for _, a := range chain {
		if len(a.indexed) == 0 {
			continue
		}
		if c.IndexClass == "" {
			c.IndexClass = a.class.Name
		}
		for _, attr := range a.indexed {
			c.Indexed = appendNew(c.Indexed, attr)
		}
	}
}
