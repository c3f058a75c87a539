package rules

import "go.yaml.in/yaml/v3"

// The kinds of class change a match may ask for: to a descendant of the
// stored class, to an ancestor, or to a class on another branch.
const (
	Upgrade   = "upgrade"
	Downgrade = "downgrade"
	Switch    = "switch"
)

// Reclassification says which class changes a match may make, as
// ServiceNow's glide.class.*.enabled and update_without_* properties and
// reclassification restriction rules do. The zero value is not the
// default; see DefaultReclassification.
type Reclassification struct {
	// Allowed says whether each kind of change is made; when one is not, an
	// item asking for it fails with RECLASSIFICATION_NOT_ALLOWED (unless an
	// update-without flag applies).
	Allowed map[string]bool
	// WithoutChange says, per kind, to update the attributes but keep the
	// stored class; it takes precedence over Allowed.
	WithoutChange map[string]bool
	// RestrictionsEnabled switches the restriction rules on or off.
	RestrictionsEnabled bool
	// Restrictions keep particular downgrades and switches from happening.
	Restrictions []*Restriction
	Line         int
}

// DefaultReclassification allows every change and has no restrictions.
func DefaultReclassification() *Reclassification {
	return &Reclassification{
		Allowed:             map[string]bool{Upgrade: true, Downgrade: true, Switch: true},
		WithoutChange:       map[string]bool{},
		RestrictionsEnabled: true,
	}
}

// Restriction is a reclassification restriction rule: a CI of class From
// (or a descendant, with FromInheritance) keeps its class instead of a
// change of kind Kind to class To (or a descendant, with ToInheritance).
// The rest of the item updates as usual.
type Restriction struct {
	// ID is a stable 32-hex identifier derived from the name (the
	// ruleSysId of the info the skip produces).
	ID              string
	Name            string
	From, To        string
	FromInheritance bool
	ToInheritance   bool
	Kind            string // Downgrade or Switch
	// Sources, when not empty, limits the rule to payloads from these data
	// sources.
	Sources []string
	Line    int
}

// Reclassification returns the rule set's reclassification settings.
func (rs *RuleSet) Reclassification() *Reclassification {
	if rs.reclass == nil {
		return DefaultReclassification()
	}
	return rs.reclass
}

// Restriction returns the first restriction rule that keeps a CI of class
// from from changing (kind) to class to for a payload of source, or nil.
func (r *Reclassification) Restriction(from, to *Class, kind, source string) *Restriction {
	for _, x := range r.Restrictions {
		if x.Kind != kind || !x.matches(from, x.From, x.FromInheritance) || !x.matches(to, x.To, x.ToInheritance) {
			continue
		}
		if len(x.Sources) == 0 || contains(x.Sources, source) {
			return x
		}
	}
	return nil
}

func (x *Restriction) matches(c *Class, name string, inherit bool) bool {
	if inherit {
		return c.IsA(name)
	}
	return c.Name == name
}

// reclassification reads the reclassification section. It runs after the
// identification rules are inherited: a restriction must name two classes
// that share a rule.
func (l *loader) reclassification(n *yaml.Node) {
	s := scope{field: "reclassification"}
	f := l.fields(n, s, "upgrade", "downgrade", "switch",
		"update_without_upgrade", "update_without_downgrade", "update_without_switch", "restriction_rules", "restrictions")
	rc := DefaultReclassification()
	rc.Line = n.Line
	l.rs.reclass = rc
	if f == nil {
		return
	}
	for _, kind := range []string{Upgrade, Downgrade, Switch} {
		if v := f[kind]; v != nil {
			rc.Allowed[kind], _ = l.boolean(v, s.key(kind))
		}
		if v := f["update_without_"+kind]; v != nil {
			rc.WithoutChange[kind], _ = l.boolean(v, s.key("update_without_"+kind))
		}
	}
	if v := f["restriction_rules"]; v != nil {
		rc.RestrictionsEnabled, _ = l.boolean(v, s.key("restriction_rules"))
	}
	if rn := f["restrictions"]; rn != nil {
		rc.Restrictions = l.restrictions(rn, s.key("restrictions"))
	}
}

func (l *loader) restrictions(n *yaml.Node, base scope) []*Restriction {
	items, _ := l.seq(n, base)
	names := map[string]int{}
	var out []*Restriction
	for i, it := range items {
		s := base.index(i)
		f := l.fields(it, s, "name", "from", "to", "from_inheritance", "to_inheritance", "type", "sources")
		if f == nil {
			continue
		}
		x := &Restriction{Line: it.Line}
		if nn := l.need(f, it, s, "name"); nn != nil {
			if name, ok := l.str(nn, s.key("name")); ok {
				if line, dup := names[name]; dup {
					l.errorf(nn, s.key("name"), "duplicate restriction name %q (first at line %d)", name, line)
				}
				names[name] = nn.Line
				x.Name, x.ID = name, entryID("reclassification", name)
			}
		}
		from := l.declared(f, it, s, "from")
		to := l.declared(f, it, s, "to")
		if v := f["from_inheritance"]; v != nil {
			x.FromInheritance, _ = l.boolean(v, s.key("from_inheritance"))
		}
		if v := f["to_inheritance"]; v != nil {
			x.ToInheritance, _ = l.boolean(v, s.key("to_inheritance"))
		}
		if tn := l.need(f, it, s, "type"); tn != nil {
			if kind, ok := l.str(tn, s.key("type")); ok {
				if kind != Downgrade && kind != Switch {
					l.errorf(tn, s.key("type"), "unknown type %q (downgrade or switch; upgrades are not restricted)", kind)
				}
				x.Kind = kind
			}
		}
		if sn := f["sources"]; sn != nil {
			srcs, _ := l.seq(sn, s.key("sources"))
			for k, v := range srcs {
				if name, ok := l.str(v, s.key("sources").index(k)); ok {
					x.Sources = append(x.Sources, name)
				}
			}
		}
		if from != nil && to != nil && x.Kind != "" {
			l.checkRestriction(it, s, x, from, to)
		}
		out = append(out, x)
	}
	return out
}

// checkRestriction reports a restriction that could never apply: no class
// it covers as the stored class can move (a downgrade or a switch, within
// one identification rule) to a class it covers as the reported one.
func (l *loader) checkRestriction(it *yaml.Node, s scope, x *Restriction, from, to *Class) {
	x.From, x.To = from.Name, to.Name
	if from == to && !x.FromInheritance && !x.ToInheritance {
		l.errorf(it, s, "from and to are both %q", from.Name)
		return
	}
	shared := false
	for _, f := range l.covered(from, x.FromInheritance) {
		for _, t := range l.covered(to, x.ToInheritance) {
			if f.Rule == nil || f.Rule != t.Rule {
				continue
			}
			shared = true
			down := f != t && f.IsA(t.Name)
			if (x.Kind == Downgrade && down) || (x.Kind == Switch && !f.IsA(t.Name) && !t.IsA(f.Name)) {
				return
			}
		}
	}
	switch {
	case !shared:
		l.errorf(it, s, "%q and %q do not share an identification rule, so a CI never moves between them", from.Name, to.Name)
	case x.Kind == Downgrade:
		l.errorf(it, s, "never applies: a downgrade goes to an ancestor, and %q is not an ancestor of %q", to.Name, from.Name)
	default:
		l.errorf(it, s, "never applies: a switch goes to another branch, and %q and %q are on one branch", from.Name, to.Name)
	}
}

// covered returns c, and with inherit every class below it.
func (l *loader) covered(c *Class, inherit bool) []*Class {
	if !inherit {
		return []*Class{c}
	}
	var out []*Class
	for _, d := range l.order {
		if d.class != nil && d.class.IsA(c.Name) {
			out = append(out, d.class)
		}
	}
	return out
}

// declared reads a required class name.
func (l *loader) declared(f map[string]*yaml.Node, it *yaml.Node, s scope, key string) *Class {
	n := l.need(f, it, s, key)
	if n == nil {
		return nil
	}
	name, ok := l.str(n, s.key(key))
	if !ok {
		return nil
	}
	d := l.decls[name]
	if d == nil {
		l.errorf(n, s.key(key), "unknown class %q", name)
		return nil
	}
	return d.class
}
