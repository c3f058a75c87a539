package rules

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Change is one difference between two rule sets.
type Change struct {
	// Kind is what changed: "class", "rule", "relation type",
	// "reconciliation", "data source", "source" or "duplicates".
	Kind string
	// Name names the item: a class, a rule, a relation type; for
	// reconciliation and data source rules the class they apply to.
	Name string
	// Op is "added", "removed" or "changed".
	Op string
	// Details say what changed, one line each: "- old" and "+ new" lines,
	// or "field: old -> new".
	Details []string
}

// String renders the change as rules diff prints it: "+ class u_kiosk",
// then its details indented.
func (c Change) String() string {
	mark := map[string]string{"added": "+", "removed": "-", "changed": "~"}[c.Op]
	s := strings.TrimSpace(mark + " " + c.Kind + " " + c.Name)
	for _, d := range c.Details {
		s += "\n    " + d
	}
	return s
}

// Diff returns what changes from rule set a to rule set b: classes, rules
// (their entries, dependencies and related entries), relation types,
// reconciliation and data source rules, sources and duplicate handling,
// in that order, each kind sorted by name.
func Diff(a, b *RuleSet) []Change {
	var out []Change
	out = append(out, diffClasses(a, b)...)
	out = append(out, diffNamed("rule", ruleLines(a), ruleLines(b))...)
	out = append(out, diffNamed("relation type", relationLines(a), relationLines(b))...)
	out = append(out, diffNamed("reconciliation", policyLines(a, reconciliationLines), policyLines(b, reconciliationLines))...)
	out = append(out, diffNamed("data source", policyLines(a, dataSourceLines), policyLines(b, dataSourceLines))...)
	out = append(out, diffNamed("source", sourceLines(a), sourceLines(b))...)
	if da, db := duplicateLines(a), duplicateLines(b); !slices.Equal(da, db) {
		out = append(out, Change{Kind: "duplicates", Op: "changed", Details: lineDiff(da, db)})
	}
	return out
}

func diffClasses(a, b *RuleSet) []Change {
	var out []Change
	for _, name := range unionKeys(a.classes, b.classes) {
		ca, cb := a.classes[name], b.classes[name]
		switch {
		case ca == nil:
			out = append(out, Change{Kind: "class", Name: name, Op: "added", Details: classLines(cb)})
		case cb == nil:
			out = append(out, Change{Kind: "class", Name: name, Op: "removed"})
		default:
			var d []string
			for _, f := range []struct {
				field  string
				old, v string
			}{
				{"extends", parentName(ca), parentName(cb)},
				{"required", fmt.Sprint(ca.Required), fmt.Sprint(cb.Required)},
				{"values", valuesText(ca.Allowed), valuesText(cb.Allowed)},
				{"indexed", fmt.Sprint(ca.Indexed), fmt.Sprint(cb.Indexed)},
				{"rule in force", ruleName(ca.Rule), ruleName(cb.Rule)},
			} {
				if f.old != f.v {
					d = append(d, f.field+": "+f.old+" -> "+f.v)
				}
			}
			if d != nil {
				out = append(out, Change{Kind: "class", Name: name, Op: "changed", Details: d})
			}
		}
	}
	return out
}

func classLines(c *Class) []string {
	var d []string
	if c.Parent != nil {
		d = append(d, "extends "+c.Parent.Name)
	}
	if c.Rule != nil {
		d = append(d, "rule in force: "+c.Rule.Name)
	}
	return d
}

func parentName(c *Class) string {
	if c.Parent == nil {
		return "(root)"
	}
	return c.Parent.Name
}

func ruleName(r *Rule) string {
	if r == nil {
		return "(none)"
	}
	return strconv.Quote(r.Name)
}

func valuesText(m map[string][]string) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+strings.Join(m[k], "|"))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// diffNamed compares two name → description-lines maps.
func diffNamed(kind string, a, b map[string][]string) []Change {
	var out []Change
	for _, name := range unionKeys(a, b) {
		la, inA := a[name]
		lb, inB := b[name]
		switch {
		case !inA:
			out = append(out, Change{Kind: kind, Name: name, Op: "added", Details: lb})
		case !inB:
			out = append(out, Change{Kind: kind, Name: name, Op: "removed", Details: la})
		case !slices.Equal(la, lb):
			out = append(out, Change{Kind: kind, Name: name, Op: "changed", Details: lineDiff(la, lb)})
		}
	}
	return out
}

// lineDiff lists the lines only a has ("- ") and those only b has ("+ ").
func lineDiff(a, b []string) []string {
	var out []string
	for _, l := range a {
		if !slices.Contains(b, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			out = append(out, "+ "+l)
		}
	}
	return out
}

// ruleLines describes every rule, one line per setting and entry.
func ruleLines(rs *RuleSet) map[string][]string {
	out := map[string][]string{}
	for _, r := range rs.rules {
		l := []string{"applies to " + r.AppliesTo}
		for _, e := range r.Entries {
			l = append(l, "entry "+DescribeEntry(e))
		}
		for _, d := range r.DependsOn {
			l = append(l, "depends on "+d.Describe(r.AppliesTo))
		}
		for _, re := range r.Related {
			if re.Lookup {
				continue // follows from a lookup entry
			}
			for _, e := range re.Entries {
				l = append(l, "related "+re.Class+" by "+re.ReferencedField+": "+DescribeEntry(e))
			}
		}
		if r.FallbackToParent {
			l = append(l, "falls back to the parent class's rule")
		}
		out[r.Name] = l
	}
	return out
}

// DescribeEntry renders an identifier entry on one line, e.g.
// "priority 100: [serial_number serial_number_type] on cmdb_serial_number, unique".
func DescribeEntry(e *Entry) string {
	s := fmt.Sprintf("priority %d: %v", e.Priority, e.Attributes)
	if e.SearchOn != "" {
		s += " on " + e.SearchOn
	}
	var flags []string
	if e.Unique {
		flags = append(flags, "unique")
	}
	if e.AllowNull {
		flags = append(flags, "allow null")
	}
	if e.When != nil {
		flags = append(flags, "when "+strconv.Quote(e.When.Source))
	}
	if e.Filter != nil {
		flags = append(flags, "filter "+strconv.Quote(e.Filter.Source))
	}
	if len(e.HybridAttributes) > 0 {
		flags = append(flags, fmt.Sprintf("hybrid %v", e.HybridAttributes))
	}
	if e.ExactCount {
		flags = append(flags, "exact count")
	}
	if len(flags) > 0 {
		s += ", " + strings.Join(flags, ", ")
	}
	return s
}

func relationLines(rs *RuleSet) map[string][]string {
	out := map[string][]string{}
	for name, rt := range rs.relationTypes {
		l := []string{}
		for _, p := range rt.Suggested {
			l = append(l, "suggested "+p.Parent+" -> "+p.Child)
		}
		out[name] = l
	}
	return out
}

// policyLines describes, per class, the reconciliation or data source
// rules declared on it.
func policyLines(rs *RuleSet, lines func(*classPolicy) []string) map[string][]string {
	out := map[string][]string{}
	for name, c := range rs.classes {
		if c.policy == nil {
			continue
		}
		if l := lines(c.policy); len(l) > 0 {
			out[name] = l
		}
	}
	return out
}

func reconciliationLines(p *classPolicy) []string {
	seen := map[*ReconciliationRule]bool{}
	var out []string
	add := func(r *ReconciliationRule) {
		if r == nil || seen[r] {
			return
		}
		seen[r] = true
		attrs := "all"
		if !r.AllAttributes() {
			attrs = strings.Join(r.Attributes, ",")
		}
		var src []string
		for _, s := range r.Sources {
			t := s.Name + "=" + strconv.Itoa(s.Priority)
			if s.Refresh > 0 {
				t += " refresh " + s.Refresh.String()
			}
			src = append(src, t)
		}
		l := "attributes " + attrs + ": sources " + strings.Join(src, ", ")
		if r.Refresh > 0 {
			l += "; refresh " + r.Refresh.String()
		}
		if r.Prefer != nil {
			l += "; prefer " + strconv.Quote(r.Prefer.Source)
		}
		if r.Policy != "" {
			l += "; policy " + string(r.Policy)
		}
		if len(r.UpdateWithNull) > 0 {
			l += "; update with null " + strings.Join(r.UpdateWithNull, ",")
		}
		out = append(out, l)
	}
	add(p.all)
	add(p.dynAll)
	for _, m := range []map[string]*ReconciliationRule{p.byAttr, p.dynByAttr} {
		for _, k := range sortedKeys(m) {
			add(m[k])
		}
	}
	sort.Strings(out)
	return out
}

func dataSourceLines(p *classPolicy) []string {
	var out []string
	for _, name := range sortedKeys(p.dataSource) {
		r := p.dataSource[name]
		out = append(out, fmt.Sprintf("source %s: insert not allowed %v", name, r.InsertNotAllowed))
	}
	return out
}

func sourceLines(rs *RuleSet) map[string][]string {
	out := map[string][]string{}
	for _, s := range rs.sources {
		out[s] = nil
	}
	return out
}

func duplicateLines(rs *RuleSet) []string {
	l := []string{"threshold " + strconv.Itoa(rs.duplicates.Threshold)}
	for _, k := range sortedKeys(rs.duplicates.Merge) {
		l = append(l, "merge "+k+": "+string(rs.duplicates.Merge[k]))
	}
	return l
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	return sortedKeys(seen)
}
