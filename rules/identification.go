package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

func (l *loader) identification(n *yaml.Node) {
	base := scope{field: "identification"}
	items, _ := l.seq(n, base)
	names := map[string]int{}
	for i, it := range items {
		s := base.index(i)
		if name := peekName(it); name != "" {
			s = scope{rule: name}
		}
		f := l.fields(it, s, "name", "applies_to", "independent", "entries", "depends_on", "related", "allow_fallback", "active")
		if f == nil {
			continue
		}
		r := &Rule{Line: it.Line}
		active := true
		if an := f["active"]; an != nil {
			// An inactive rule is checked but never used: its classes use
			// their ancestors' rule.
			if b, ok := l.boolean(an, s.key("active")); ok {
				active = b
			}
		}
		if nn := l.need(f, it, s, "name"); nn != nil {
			if name, ok := l.str(nn, s.key("name")); ok {
				if line, dup := names[name]; dup {
					l.errorf(nn, s, "duplicate rule name (first at line %d)", line)
				} else {
					names[name] = nn.Line
				}
				r.Name = name
			}
		}
		if an := l.need(f, it, s, "applies_to"); an != nil {
			as := s.key("applies_to")
			if class, ok := l.str(an, as); ok {
				r.AppliesTo = class
				switch other := l.own[class]; {
				case l.decls[class] == nil:
					l.errorf(an, as, "unknown class %q", class)
				case !active:
				case other != nil:
					l.errorf(an, as, "class %q already has rule %q (line %d)", class, other.Name, other.Line)
				default:
					l.own[class] = r
				}
			}
		}
		if en := l.need(f, it, s, "entries"); en != nil {
			r.Entries = l.entries(en, s.key("entries"), "", false, func(i int, attrs []string) string {
				return entryID(r.Name, strconv.Itoa(i), strings.Join(attrs, ","))
			})
		}
		dn := f["depends_on"]
		if dn != nil {
			r.DependsOn = l.dependsOn(dn, s.key("depends_on"))
		}
		if in := f["independent"]; in != nil {
			is := s.key("independent")
			if ind, ok := l.boolean(in, is); ok && ind && dn != nil {
				l.errorf(in, is, "true, but the rule has depends_on")
			} else if ok && !ind && dn == nil {
				l.errorf(in, is, "false, but the rule has no depends_on")
			}
		}
		if rn := f["related"]; rn != nil {
			r.Related = l.related(rn, s.key("related"), r.Name)
		}
		if fn := f["allow_fallback"]; fn != nil {
			if fb, ok := l.boolean(fn, s.key("allow_fallback")); ok {
				if fb && dn == nil {
					l.errorf(fn, s.key("allow_fallback"), "true, but the rule is independent: only a dependent rule falls back to its parent class's rule")
				}
				r.FallbackToParent = fb
			}
		}
		r.Related = append(r.Related, lookupEntries(r)...)
		if dn != nil && len(r.Entries) > 0 {
			for _, e := range r.Entries {
				if e.IsLookup() {
					l.errorf(f["entries"], s.key("entries"), "lookup entry on %s in a dependent rule: lookup entries are for independent rules (NO_LOOKUP_RULES_FOR_DEPENDENT_CI)", e.SearchOn)
					break
				}
			}
		}
		if active {
			l.rs.rules = append(l.rs.rules, r)
		}
	}
}

// lookupEntries derives, for every lookup table r searches that no related
// entry of r covers, the related entry that identifies such records within
// their CI: by the first lookup entry's attributes on that table.
func lookupEntries(r *Rule) []*RelatedEntry {
	var out []*RelatedEntry
	covered := map[string]bool{}
	for _, re := range r.Related {
		covered[re.Class] = true
	}
	for _, e := range r.Entries {
		if !e.IsLookup() || covered[e.SearchOn] {
			continue
		}
		covered[e.SearchOn] = true
		out = append(out, &RelatedEntry{Class: e.SearchOn, ReferencedField: LookupReferenceField, Lookup: true,
			Entries: []*Entry{{ID: entryID(r.Name, e.SearchOn, "lookup", strings.Join(e.Attributes, ",")),
				Priority: 100, Attributes: e.Attributes, Unique: true}}})
	}
	return out
}

// LookupReferenceField is the field of a lookup record that holds its CI's
// sys_id, as on ServiceNow's lookup tables (cmdb_serial_number.cmdb_ci).
const LookupReferenceField = "cmdb_ci"

// entries reads identifier entries and returns them in the order they are
// tried: priority ascending, ties in declaration order. ref is the related
// entry's referenced field ("" for a rule's own entries); id derives an
// entry's ID from its index in the file and its attributes.
//
// Entries are unique unless they say otherwise when uniqueDefault is set
// (a related entry: one install per product and version on a computer);
// a rule's own entries are not, as in ServiceNow, unless they say so.
func (l *loader) entries(n *yaml.Node, s scope, ref string, uniqueDefault bool, id func(int, []string) string) []*Entry {
	items, ok := l.seq(n, s)
	if ok && len(items) == 0 {
		l.errorf(n, s, "no entries; at least one is needed")
	}
	var out []*Entry
	for i, it := range items {
		es := s.index(i)
		f := l.fields(it, es, "priority", "attributes", "allow_null", "when", "unique", "active",
			"search_on_table", "hybrid_attributes", "exact_count_match", "filter")
		if f == nil {
			continue
		}
		e := &Entry{Unique: uniqueDefault}
		if pn := l.need(f, it, es, "priority"); pn != nil {
			if p, ok := l.integer(pn, es.key("priority")); ok {
				if p < 0 {
					l.errorf(pn, es.key("priority"), "negative priority %d", p)
				}
				e.Priority = p
			}
		}
		if an := l.need(f, it, es, "attributes"); an != nil {
			e.Attributes = l.attributes(an, es.key("attributes"), ref)
		}
		if nn := f["allow_null"]; nn != nil {
			e.AllowNull, _ = l.boolean(nn, es.key("allow_null"))
		}
		if wn := f["when"]; wn != nil {
			e.When = l.condition(wn, es.key("when"))
		}
		if un := f["unique"]; un != nil {
			e.Unique, _ = l.boolean(un, es.key("unique"))
		}
		if fn := f["filter"]; fn != nil {
			e.Filter = l.condition(fn, es.key("filter"))
		}
		l.lookupFields(f, e, es, ref)
		e.ID = id(i, append(append([]string{e.SearchOn}, e.Attributes...), e.HybridAttributes...))
		if e.SearchOn == "" {
			e.ID = id(i, e.Attributes) // unchanged for plain entries, so stores keep their keys
		}
		if an := f["active"]; an != nil {
			if active, ok := l.boolean(an, es.key("active")); ok && !active {
				continue // an inactive entry is never tried
			}
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out
}

// lookupFields reads the lookup and hybrid settings of an entry.
func (l *loader) lookupFields(f map[string]*yaml.Node, e *Entry, es scope, ref string) {
	sn := f["search_on_table"]
	if sn != nil {
		if class, ok := l.str(sn, es.key("search_on_table")); ok {
			switch {
			case ref != "":
				l.errorf(sn, es.key("search_on_table"), "a related entry's entries search its own class; search_on_table is for a rule's entries")
			case l.decls[class] == nil:
				l.errorf(sn, es.key("search_on_table"), "unknown class %q", class)
			default:
				e.SearchOn = class
			}
		}
	}
	if hn := f["hybrid_attributes"]; hn != nil {
		if sn == nil {
			l.errorf(hn, es.key("hybrid_attributes"), "only a lookup entry (with search_on_table) has hybrid attributes")
		} else {
			e.HybridAttributes = l.attributes(hn, es.key("hybrid_attributes"), "")
		}
	}
	if xn := f["exact_count_match"]; xn != nil {
		if x, ok := l.boolean(xn, es.key("exact_count_match")); ok {
			if x && sn == nil {
				l.errorf(xn, es.key("exact_count_match"), "only a lookup entry (with search_on_table) counts lookup records")
			}
			e.ExactCount = x
		}
	}
}

func (l *loader) attributes(n *yaml.Node, s scope, ref string) []string {
	items, ok := l.seq(n, s)
	if ok && len(items) == 0 {
		l.errorf(n, s, "no attributes; at least one is needed")
	}
	var out []string
	first := map[string]bool{}
	for _, a := range items {
		attr, ok := l.str(a, s)
		switch {
		case !ok:
		case first[attr]:
			l.errorf(a, s, "duplicate attribute %q", attr)
		case attr == ref:
			l.errorf(a, s, "attribute %q is the referenced_field; it holds the main item's sys_id and cannot be a criterion", attr)
		default:
			first[attr] = true
			out = append(out, attr)
		}
	}
	return out
}

func (l *loader) dependsOn(n *yaml.Node, s scope) []Dependency {
	items, ok := l.seq(n, s)
	if ok && len(items) == 0 {
		l.errorf(n, s, "empty; leave depends_on out for an independent rule")
	}
	var out []Dependency
	for i, it := range items {
		ds := s.index(i)
		f := l.fields(it, ds, "class", "relation", "direction")
		if f == nil {
			continue
		}
		var d Dependency
		if cn := l.need(f, it, ds, "class"); cn != nil {
			if d.Class, ok = l.str(cn, ds.key("class")); ok && l.decls[d.Class] == nil {
				l.errorf(cn, ds.key("class"), "unknown class %q", d.Class)
			}
		}
		reversed := false
		if rn := l.need(f, it, ds, "relation"); rn != nil {
			if d.Relation, ok = l.str(rn, ds.key("relation")); ok {
				if rt, rev, known := l.rs.RelationType(d.Relation); known {
					// Another spelling of a declared type: keep the declared
					// one, so the dependency meets relations as stored.
					d.Relation, reversed = rt.Name, rev
				} else {
					l.errorf(rn, ds.key("relation"), "unknown relation type %q (declare it under relation_types)", d.Relation)
				}
			}
		}
		if dn := l.need(f, it, ds, "direction"); dn != nil {
			if dir, ok := l.str(dn, ds.key("direction")); ok {
				switch dir {
				case "item_to_parent":
					d.Direction = ItemToParent
				case "parent_to_item":
					d.Direction = ParentToItem
				default:
					l.errorf(dn, ds.key("direction"), "unknown direction %q: want item_to_parent or parent_to_item", dir)
				}
			}
		}
		if reversed {
			d.Direction = 1 - d.Direction
		}
		out = append(out, d)
	}
	return out
}

func (l *loader) related(n *yaml.Node, s scope, rule string) []*RelatedEntry {
	items, _ := l.seq(n, s)
	first := map[string]int{}
	var out []*RelatedEntry
	for i, it := range items {
		rs := s.index(i)
		f := l.fields(it, rs, "class", "referenced_field", "entries")
		if f == nil {
			continue
		}
		re := &RelatedEntry{}
		if cn := l.need(f, it, rs, "class"); cn != nil {
			if class, ok := l.str(cn, rs.key("class")); ok {
				re.Class = class
				if l.decls[class] == nil {
					l.errorf(cn, rs.key("class"), "unknown class %q", class)
				} else if line, dup := first[class]; dup {
					l.errorf(cn, rs.key("class"), "class %q is already related at line %d", class, line)
				} else {
					first[class] = cn.Line
				}
			}
		}
		if fn := l.need(f, it, rs, "referenced_field"); fn != nil {
			re.ReferencedField, _ = l.str(fn, rs.key("referenced_field"))
		}
		if en := l.need(f, it, rs, "entries"); en != nil {
			// The related class is part of the ID so a related entry never
			// shares an ID with one of the rule's own entries.
			re.Entries = l.entries(en, rs.key("entries"), re.ReferencedField, true, func(i int, attrs []string) string {
				return entryID(rule, re.Class, strconv.Itoa(i), strings.Join(attrs, ","))
			})
		}
		out = append(out, re)
	}
	return out
}

// entryID is the first 32 hex characters of the SHA-256 of parts joined by
// NUL: stable across loads, so index keys built from it survive restarts.
func entryID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}
