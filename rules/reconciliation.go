package rules

import (
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// AnySource names, in a reconciliation rule, every source not listed by name.
const AnySource = "*"

// ReconciliationRule says which sources may change which attributes of a
// class, and in which order of precedence.
type ReconciliationRule struct {
	AppliesTo string
	// Attributes are the attributes the rule covers; nil means all.
	Attributes []string
	// Sources are the authorised sources, by priority (lower wins).
	Sources []SourcePriority
	// Refresh is how long an attribute a source owns stays its own without
	// that source reporting the CI again; 0 means for ever.
	Refresh time.Duration
	// Prefer, when set, makes the rule dynamic: a reported value replaces
	// the stored one exactly when the condition holds, whatever the sources'
	// priorities. Its variables: incoming, current, attribute, source, owner.
	Prefer *Condition
	// Policy, when set, makes the rule dynamic with one of ServiceNow's
	// dynamic rule types (see Policy); at most one of Prefer and Policy.
	Policy Policy
	// UpdateWithNull lists the attributes an authorised source may clear
	// with a null; any other null leaves the stored value alone.
	UpdateWithNull []string
	Line           int
}

// Policy is a dynamic reconciliation rule type: how the value to keep is
// chosen among the values the sources reported.
type Policy string

// The dynamic rule types. Largest, Smallest and MostReported choose among
// every source's last report of the attribute (kept per CI and source);
// ties go to the value reported last.
const (
	// Latest keeps the value reported last, whichever source reported it.
	Latest Policy = "latest"
	// Largest keeps the largest reported value: numbers compare as
	// numbers, anything else as text.
	Largest Policy = "largest"
	// Smallest keeps the smallest reported value.
	Smallest Policy = "smallest"
	// MostReported keeps the value the most sources report.
	MostReported Policy = "most_reported"
)

var policies = []Policy{Latest, Largest, Smallest, MostReported}

// MultiSource reports whether the policy chooses among the last reports of
// every source, which must then be kept.
func (p Policy) MultiSource() bool { return p == Largest || p == Smallest || p == MostReported }

// Dynamic reports whether the rule chooses values by content (a prefer
// condition or a policy) rather than by source priority.
func (r *ReconciliationRule) Dynamic() bool { return r.Prefer != nil || r.Policy != "" }

// ClearsWithNull reports whether a null reported for attr may clear it.
func (r *ReconciliationRule) ClearsWithNull(attr string) bool {
	for _, a := range r.UpdateWithNull {
		if a == attr {
			return true
		}
	}
	return false
}

// Authorises reports whether source is one of the rule's sources, by name
// or through "*".
func (r *ReconciliationRule) Authorises(source string) bool {
	for _, s := range r.Sources {
		if s.Name == source || s.Name == AnySource {
			return true
		}
	}
	return false
}

// SourcePriority is one authorised source of a reconciliation rule.
type SourcePriority struct {
	Name     string
	Priority int
	// Refresh overrides the rule's refresh period for this source.
	Refresh time.Duration
}

// Priority returns the priority of source under r: its own entry, else the
// "*" entry, else the lowest possible.
func (r *ReconciliationRule) Priority(source string) int {
	p := math.MaxInt
	for _, s := range r.Sources {
		if s.Name == source {
			return s.Priority
		}
		if s.Name == AnySource {
			p = s.Priority
		}
	}
	return p
}

// RefreshFor returns the refresh period that applies to attributes owned by
// source.
func (r *ReconciliationRule) RefreshFor(source string) time.Duration {
	for _, s := range r.Sources {
		if s.Name == source && s.Refresh > 0 {
			return s.Refresh
		}
	}
	return r.Refresh
}

// AllAttributes reports whether the rule covers every attribute.
func (r *ReconciliationRule) AllAttributes() bool { return r.Attributes == nil }

// DataSourceRule bars (or, on a subclass, re-allows) inserts of a class by
// one source; updates stay allowed.
type DataSourceRule struct {
	AppliesTo        string
	Source           string
	InsertNotAllowed bool
	Line             int
}

// classPolicy is what a class declares itself about reconciliation. A
// class may hold one static and one dynamic rule for an attribute (and for
// all attributes); the dynamic one wins.
type classPolicy struct {
	all, dynAll       *ReconciliationRule
	byAttr, dynByAttr map[string]*ReconciliationRule
	dataSource        map[string]*DataSourceRule
}

// ReconciliationFor returns the reconciliation rule governing attr on c: an
// attribute-specific rule beats an all-attributes one, a rule on the class
// itself beats an inherited one, and at the same level a dynamic rule
// beats a static one. Nil when no rule covers attr.
func (c *Class) ReconciliationFor(attr string) *ReconciliationRule {
	for k := c; k != nil; k = k.Parent {
		p := k.policy
		if p == nil {
			continue
		}
		for _, r := range []*ReconciliationRule{p.dynByAttr[attr], p.byAttr[attr], p.dynAll, p.all} {
			if r != nil {
				return r
			}
		}
	}
	return nil
}

// InsertAllowed reports whether source may insert CIs of class c: the data
// source rule nearest to c decides; without one, inserts are allowed.
func (c *Class) InsertAllowed(source string) bool {
	for k := c; k != nil; k = k.Parent {
		if k.policy == nil {
			continue
		}
		if r := k.policy.dataSource[source]; r != nil {
			return !r.InsertNotAllowed
		}
	}
	return true
}

func (c *Class) ownPolicy() *classPolicy {
	if c.policy == nil {
		c.policy = &classPolicy{byAttr: map[string]*ReconciliationRule{}, dynByAttr: map[string]*ReconciliationRule{},
			dataSource: map[string]*DataSourceRule{}}
	}
	return c.policy
}

// reconciliation reads the reconciliation section. It runs after classes.
func (l *loader) reconciliation(n *yaml.Node) {
	base := scope{field: "reconciliation"}
	items, _ := l.seq(n, base)
	for i, it := range items {
		s := base.index(i)
		f := l.fields(it, s, "applies_to", "attributes", "sources", "refresh", "prefer", "policy", "update_with_null")
		if f == nil {
			continue
		}
		r := &ReconciliationRule{Line: it.Line}
		class := l.appliesTo(f, it, s)
		if an := l.need(f, it, s, "attributes"); an != nil {
			r.Attributes = l.reconciledAttributes(an, s.key("attributes"))
		}
		if rn := f["refresh"]; rn != nil {
			r.Refresh = l.duration(rn, s.key("refresh"))
		}
		if pn := f["prefer"]; pn != nil {
			r.Prefer = l.condition(pn, s.key("prefer"))
		}
		if pn := f["policy"]; pn != nil {
			r.Policy = l.policy(pn, s.key("policy"))
			if f["prefer"] != nil {
				l.errorf(pn, s.key("policy"), "a rule has a policy or a prefer condition, not both")
			}
		}
		if sn := f["sources"]; sn != nil {
			r.Sources = l.sources(sn, s.key("sources"))
		} else if f["prefer"] == nil && f["policy"] == nil {
			l.errorf(it, s, "missing sources (a rule needs sources, a prefer condition or a policy)")
		}
		dynamic := f["prefer"] != nil || f["policy"] != nil
		if un := f["update_with_null"]; un != nil {
			r.UpdateWithNull = l.updateWithNull(un, s.key("update_with_null"), r, dynamic)
		}
		if class == nil {
			continue
		}
		r.AppliesTo = class.Name
		p := class.ownPolicy()
		all, byAttr, kind := &p.all, p.byAttr, "a static"
		if dynamic {
			all, byAttr, kind = &p.dynAll, p.dynByAttr, "a dynamic"
		}
		if r.AllAttributes() {
			if *all != nil {
				l.errorf(it, s, "class %q already has %s all-attributes reconciliation rule (line %d)", class.Name, kind, (*all).Line)
			}
			*all = r
			continue
		}
		for _, a := range r.Attributes {
			if other := byAttr[a]; other != nil {
				l.errorf(it, s.key("attributes"), "attribute %q of class %q is already covered by %s rule at line %d", a, class.Name, kind, other.Line)
			}
			byAttr[a] = r
		}
	}
}

// policy reads a dynamic rule type.
func (l *loader) policy(n *yaml.Node, s scope) Policy {
	text, ok := l.str(n, s)
	if !ok {
		return ""
	}
	names := make([]string, len(policies))
	for i, p := range policies {
		if Policy(text) == p {
			return p
		}
		names[i] = string(p)
	}
	l.errorf(n, s, "unknown policy %q (one of %s)", text, strings.Join(names, ", "))
	return ""
}

// updateWithNull reads the attributes a static rule's sources may clear.
func (l *loader) updateWithNull(n *yaml.Node, s scope, r *ReconciliationRule, dynamic bool) []string {
	attrs := l.attributes(n, s, "")
	if dynamic {
		l.errorf(n, s, "a dynamic rule (prefer or policy) chooses among reported values; only a static rule clears attributes with nulls")
		return nil
	}
	if r.AllAttributes() {
		return attrs
	}
	for _, an := range n.Content {
		if an.Kind == yaml.ScalarNode && an.ShortTag() == "!!str" && !contains(r.Attributes, an.Value) {
			l.errorf(an, s, "attribute %q is not among the rule's attributes", an.Value)
		}
	}
	return attrs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dataSources reads the data_sources section. It runs after classes.
func (l *loader) dataSources(n *yaml.Node) {
	base := scope{field: "data_sources"}
	items, _ := l.seq(n, base)
	for i, it := range items {
		s := base.index(i)
		f := l.fields(it, s, "applies_to", "source", "insert_not_allowed")
		if f == nil {
			continue
		}
		r := &DataSourceRule{Line: it.Line}
		class := l.appliesTo(f, it, s)
		if sn := l.need(f, it, s, "source"); sn != nil {
			r.Source, _ = l.str(sn, s.key("source"))
		}
		if in := l.need(f, it, s, "insert_not_allowed"); in != nil {
			r.InsertNotAllowed, _ = l.boolean(in, s.key("insert_not_allowed"))
		}
		if class == nil || r.Source == "" {
			continue
		}
		r.AppliesTo = class.Name
		p := class.ownPolicy()
		if other := p.dataSource[r.Source]; other != nil {
			l.errorf(it, s, "class %q already has a data source rule for %q (line %d)", class.Name, r.Source, other.Line)
		}
		p.dataSource[r.Source] = r
	}
}

// appliesTo reads a declared class name.
func (l *loader) appliesTo(f map[string]*yaml.Node, it *yaml.Node, s scope) *Class {
	an := l.need(f, it, s, "applies_to")
	if an == nil {
		return nil
	}
	name, ok := l.str(an, s.key("applies_to"))
	if !ok {
		return nil
	}
	d := l.decls[name]
	if d == nil {
		l.errorf(an, s.key("applies_to"), "unknown class %q", name)
		return nil
	}
	return d.class
}

// reconciledAttributes reads "all" or a list of attribute names.
func (l *loader) reconciledAttributes(n *yaml.Node, s scope) []string {
	if n.Kind == yaml.ScalarNode && n.Value == "all" {
		return nil
	}
	attrs := l.attributes(n, s, "")
	if attrs == nil {
		return []string{} // reported; keep it from reading as "all"
	}
	return attrs
}

func (l *loader) sources(n *yaml.Node, s scope) []SourcePriority {
	items, ok := l.seq(n, s)
	if ok && len(items) == 0 {
		l.errorf(n, s, "no sources; list at least one")
	}
	seen := map[string]int{}
	var out []SourcePriority
	for i, it := range items {
		ss := s.index(i)
		f := l.fields(it, ss, "name", "priority", "refresh")
		if f == nil {
			continue
		}
		var sp SourcePriority
		if nn := l.need(f, it, ss, "name"); nn != nil {
			if name, ok := l.str(nn, ss.key("name")); ok {
				if line, dup := seen[name]; dup {
					l.errorf(nn, ss.key("name"), "source %q listed twice (first at line %d)", name, line)
				}
				seen[name] = nn.Line
				sp.Name = name
			}
		}
		if pn := l.need(f, it, ss, "priority"); pn != nil {
			if p, ok := l.integer(pn, ss.key("priority")); ok {
				if p < 0 {
					l.errorf(pn, ss.key("priority"), "negative priority %d", p)
				}
				sp.Priority = p
			}
		}
		if rn := f["refresh"]; rn != nil {
			sp.Refresh = l.duration(rn, ss.key("refresh"))
		}
		out = append(out, sp)
	}
	return out
}

// duration reads "30d", "12h", "90m" and the like: Go durations plus days.
func (l *loader) duration(n *yaml.Node, s scope) time.Duration {
	text, ok := l.str(n, s)
	if !ok {
		return 0
	}
	d, err := ParseDuration(text)
	if err != nil {
		l.errorf(n, s, "%v", err)
	}
	return d
}

// ParseDuration reads a Go duration ("36h", "90m") or a whole number of
// days ("30d"). Negative durations are refused.
func ParseDuration(text string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(text, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(text)
	}
	if err != nil || d < 0 {
		return 0, &durationError{text}
	}
	return d, nil
}

type durationError struct{ text string }

func (e *durationError) Error() string {
	return "bad duration " + strconv.Quote(e.text) + `: use a whole number of days ("30d") or a Go duration ("36h", "90m")`
}

// condition compiles an expr condition, reporting a bad one.
func (l *loader) condition(n *yaml.Node, s scope) *Condition {
	src, ok := l.str(n, s)
	if !ok {
		return nil
	}
	c, err := CompileCondition(src)
	if err != nil {
		// expr's message ends in a multi-line source snippet; its first
		// line holds the message and position.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		l.errorf(n, s, "bad condition %q: %s", src, msg)
	}
	return c
}
