package rules

import (
	"sort"

	"go.yaml.in/yaml/v3"
)

// declaredSources reads the sources section: the names of the data sources
// the rule file expects payloads from, beyond ServiceNow's own choice list.
func (l *loader) declaredSources(n *yaml.Node) {
	base := scope{field: "sources"}
	items, _ := l.seq(n, base)
	first := map[string]int{}
	for i, it := range items {
		s := base.index(i)
		name, ok := l.str(it, s)
		if !ok {
			continue
		}
		if name == AnySource {
			l.errorf(it, s, `%q is not a source name (it only stands for "any other source" in a reconciliation rule)`, name)
			continue
		}
		if line, dup := first[name]; dup {
			l.errorf(it, s, "source %q listed twice (first at line %d)", name, line)
			continue
		}
		first[name] = it.Line
		l.rs.sources = append(l.rs.sources, name)
	}
}

// Sources returns, sorted, the data sources the rule file names: those of
// its sources section and every source a reconciliation or data source rule
// names ("*" aside). A payload from one of them is accepted even when it is
// not in the engine's list of discovery sources.
func (rs *RuleSet) Sources() []string {
	seen := map[string]bool{}
	for _, s := range rs.sources {
		seen[s] = true
	}
	for _, c := range rs.classes {
		p := c.policy
		if p == nil {
			continue
		}
		rules := make([]*ReconciliationRule, 0, len(p.byAttr)+1)
		if p.all != nil {
			rules = append(rules, p.all)
		}
		for _, r := range p.byAttr {
			rules = append(rules, r)
		}
		for _, r := range rules {
			for _, s := range r.Sources {
				if s.Name != AnySource {
					seen[s.Name] = true
				}
			}
		}
		for name := range p.dataSource {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
