package rules

import "testing"

func TestReconciliationPrecedence(t *testing.T) {
	rs, err := Load("t.yaml", []byte(`
classes: [{name: a}, {name: b, extends: a}]
reconciliation:
  - {applies_to: a, attributes: [ram, os], sources: [{name: S, priority: 1}], update_with_null: [os]}
  - {applies_to: a, attributes: [ram], policy: largest}
  - {applies_to: a, attributes: all, policy: latest}
  - {applies_to: b, attributes: [ram], sources: [{name: T, priority: 1}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := rs.Class("a")
	b, _ := rs.Class("b")
	tests := []struct {
		class *Class
		attr  string
		line  int
	}{
		{a, "ram", 5},  // dynamic beats static at the same level
		{a, "os", 4},   // an attribute rule beats an all-attributes one
		{a, "disk", 6}, // only the all-attributes rule covers disk
		{b, "ram", 7},  // a child's static rule beats the parent's dynamic one
		{b, "os", 4},
	}
	for _, tt := range tests {
		if r := tt.class.ReconciliationFor(tt.attr); r == nil || r.Line != tt.line {
			t.Errorf("%s.%s: rule %+v, want the one at line %d", tt.class.Name, tt.attr, r, tt.line)
		}
	}
	r := a.ReconciliationFor("os")
	if !r.ClearsWithNull("os") || r.ClearsWithNull("ram") || !r.Authorises("S") || r.Authorises("T") || r.Dynamic() {
		t.Errorf("static rule: %+v", r)
	}
	if r := a.ReconciliationFor("ram"); r.Policy != Largest || !r.Policy.MultiSource() || !r.Dynamic() {
		t.Errorf("dynamic rule: %+v", r)
	}
	if Latest.MultiSource() {
		t.Error("latest needs no per-source reports")
	}
}

func TestRestrictionMatches(t *testing.T) {
	rs, err := Load("t.yaml", []byte(`
classes: [{name: a}, {name: b, extends: a}, {name: c, extends: a}, {name: d, extends: b}]
identification: [{name: R, applies_to: a, entries: [{priority: 1, attributes: [x]}]}]
reclassification:
  restrictions:
    - {name: r1, from: b, from_inheritance: true, to: c, type: switch, sources: [S]}
    - {name: r2, from: d, to: a, to_inheritance: true, type: downgrade}
`))
	if err != nil {
		t.Fatal(err)
	}
	cls := func(n string) *Class { c, _ := rs.Class(n); return c }
	rc := rs.Reclassification()
	tests := []struct {
		from, to, kind, source, want string
	}{
		{"b", "c", Switch, "S", "r1"},
		{"d", "c", Switch, "S", "r1"}, // from_inheritance
		{"b", "c", Switch, "T", ""},   // another data source
		{"c", "b", Switch, "S", ""},   // one direction only
		{"d", "b", Downgrade, "T", "r2"},
		{"d", "a", Downgrade, "T", "r2"},
		{"b", "a", Downgrade, "T", ""},
	}
	for _, tt := range tests {
		got := ""
		if x := rc.Restriction(cls(tt.from), cls(tt.to), tt.kind, tt.source); x != nil {
			got = x.Name
		}
		if got != tt.want {
			t.Errorf("%s %s→%s from %s: %q, want %q", tt.kind, tt.from, tt.to, tt.source, got, tt.want)
		}
	}
	if d := DefaultReclassification(); !d.Allowed[Upgrade] || !d.Allowed[Downgrade] || !d.Allowed[Switch] || !d.RestrictionsEnabled {
		t.Errorf("defaults: %+v", d)
	}
}
