package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad checks that Load never panics, that a failure is an ErrorList
// whose every line names the file, and that a success is a usable rule set.
func FuzzLoad(f *testing.F) {
	f.Add(DefaultSource())
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"",
		"classes: [{name: a, extends: a}]",
		"classes:\n  - name: a\n    extends: b\n  - name: b\n    extends: a\n",
		"classes: [{name: a}]\nidentification:\n  - name: R\n    applies_to: a\n    entries: [{priority: 1, attributes: [x], when: 'x =='}]\n",
		"classes: [{name: a}]\nidentification: [{name: R, applies_to: a, entries: [{priority: -1, attributes: [x, x]}], depends_on: []}]",
		"relation_types: [\"::\", \"a::b::c\", \"Hosted on::Hosts\"]",
		"relation_types: [{name: \"Owns::Owned by\", suggested: [[a, b], [a], [c, a]]}, \"owned BY::owns\", \"X::X\", {suggested: 1}]\n" +
			"classes: [{name: a}, {name: b}]\nidentification: [{name: R, applies_to: b, entries: [{priority: 1, attributes: [x]}], depends_on: [{class: a, relation: \"Owned By::Owns\", direction: item_to_parent}]}]\n",
		"a: [b",
		"classes:\n  - &x {name: a}\n  - *x\n",
		"---\n---\n",
		"{\"classes\": [{\"name\": \"a\", \"values\": {\"s\": []}}]}",
		"classes: [{name: a}, {name: b, extends: a}]\nidentification: [{name: R, applies_to: a, entries: [{priority: 1, attributes: [x]}]}]\n" +
			"reconciliation:\n  - {applies_to: a, attributes: [y], sources: [{name: S, priority: 1}], update_with_null: [y]}\n  - {applies_to: a, attributes: all, policy: most_reported}\n" +
			"reclassification:\n  switch: false\n  restrictions: [{name: r, from: b, to: a, type: downgrade, from_inheritance: true, sources: [S]}]\n",
		"extends: default\nclasses: [{name: u_a, extends: cmdb_ci}]\nchange:\n  identification: [{name: Tomcat, active: false}, {name: Nope}]\n" +
			"remove:\n  classes: [cmdb_ci_appl]\n  relation_types: [\"Runs::Runs on\"]\n  reconciliation: [{applies_to: cmdb_ci_hardware, attributes: all}]\n",
		"extends: default\nchange: {classes: [{name: cmdb_ci_server, extends: u_x}], relation_types: [{name: \"Owned by::Owns\", suggested: []}]}\nduplicates: {threshold: 2}\n",
		"extends: [default]\n",
		"extends: /dev/zero\n",
	} {
		f.Add([]byte(s))
	}

	const name = "fuzz.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Load(name, data)
		if err != nil {
			if rs != nil {
				t.Fatal("Load returned a rule set along with an error")
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %q is not a non-empty ErrorList", err, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				// A file extending the default pack may break the pack's items.
				if !strings.HasPrefix(line, name+":") && !strings.HasPrefix(line, "default.yaml:") {
					t.Fatalf("message line %q does not start with the file name", line)
				}
			}
			return
		}
		// A loaded rule set is consistent: every class resolves, hierarchies
		// end, and every rule in force is one of the set's rules.
		rules := map[*Rule]bool{}
		for _, r := range rs.Rules() {
			rules[r] = true
			if len(r.Entries) == 0 {
				t.Fatalf("rule %q has no entries", r.Name)
			}
		}
		for _, n := range rs.Classes() {
			c, ok := rs.Class(n)
			if !ok {
				t.Fatalf("class %q listed but not found", n)
			}
			depth := 0
			for k := c; k != nil; k = k.Parent {
				if depth++; depth > len(rs.Classes()) {
					t.Fatalf("class %q: hierarchy does not end", n)
				}
			}
			if c.Rule != nil && !rules[c.Rule] {
				t.Fatalf("class %q: rule %q is not in the set", n, c.Rule.Name)
			}
		}
	})
}
