package ruleimport

import (
	"bytes"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/irego/irego/rules"
)

// header opens every imported file.
const header = "# Imported by irego rules import from the instance's CMDB model\n" +
	"# (sys_db_object, cmdb_identifier, cmdb_identifier_entry, cmdb_related_entry,\n" +
	"# cmdb_rel_type, cmdb_reconciliation_definition and data refresh rules).\n"

// standaloneFile writes every imported item, and the classes and relation
// types of the default pack the imported items refer to.
func (im *importer) standaloneFile() []byte {
	root := mapping()
	var rels []*yaml.Node
	seen := map[string]bool{}
	addRel := func(name string) {
		p, c, _ := rules.SplitRelationType(name)
		if !seen[fold(p, c)] && !seen[fold(c, p)] {
			seen[fold(p, c)] = true
			rels = append(rels, str(name))
		}
	}
	for _, n := range im.relTypes {
		addRel(n)
	}
	for _, ru := range im.rules {
		for _, d := range ru.dependsOn {
			addRel(d.Relation)
		}
	}
	add(root, "relation_types", seq(rels...))

	// Classes: the export's, then those the rules need, with ancestors.
	need := slices.Clone(im.classOrder)
	want := func(c string) {
		for steps := 0; c != "" && steps < 1000; steps++ {
			if !slices.Contains(need, c) {
				need = append(need, c)
			}
			c, _ = im.parentOf(c)
		}
	}
	for _, ru := range im.rules {
		want(ru.appliesTo)
		for _, e := range ru.entries {
			want(e.searchOn)
		}
		for _, re := range ru.related {
			want(re.class)
		}
		for _, d := range ru.dependsOn {
			want(d.Class)
		}
	}
	for _, rc := range im.recon {
		want(rc.appliesTo)
	}
	var classes []*yaml.Node
	for _, c := range need {
		classes = append(classes, classNode(c, im))
	}
	add(root, "classes", seq(classes...))

	var ids []*yaml.Node
	for _, ru := range im.rules {
		ids = append(ids, ruleNode(ru, ru.active))
	}
	add(root, "identification", seq(ids...))
	add(root, "reconciliation", im.reconNodes())
	return encode(root)
}

// extendingFile writes what the export changes against the default pack;
// nil when an imported rule's name is taken by a pack rule on another
// class (only a standalone file can say that).
func (im *importer) extendingFile() []byte {
	root := mapping()
	add(root, "extends", str(rules.DefaultPackName))
	var rels []*yaml.Node
	for _, n := range im.relTypes {
		if _, _, ok := im.def.RelationType(n); !ok {
			rels = append(rels, str(n))
		}
	}
	add(root, "relation_types", seq(rels...))

	var classes, changedClasses []*yaml.Node
	for _, c := range im.classOrder {
		dp, inDef := im.defParent(c)
		switch {
		case !inDef:
			classes = append(classes, classNode(c, im))
		case dp != im.parent[c]:
			changedClasses = append(changedClasses, classNode(c, im))
		}
	}
	add(root, "classes", seq(classes...))

	var ids, changedRules []*yaml.Node
	var removed []*yaml.Node
	defRules := map[string]*rules.Rule{}
	for _, r := range im.def.Rules() {
		defRules[r.Name] = r
	}
	for _, ru := range im.rules {
		var own *rules.Rule
		if c, ok := im.def.Class(ru.appliesTo); ok && c.Rule != nil && c.Rule.AppliesTo == ru.appliesTo {
			own = c.Rule
		}
		if other := defRules[ru.name]; other != nil && other != own {
			return nil
		}
		switch {
		case own == nil:
			if ru.active {
				ids = append(ids, ruleNode(ru, true))
			}
		case !ru.active:
			changedRules = append(changedRules, mapping("name", str(own.Name), "active", boolean(false)))
		case ru.name == own.Name && sameRule(ru, own):
		case ru.name == own.Name && ru.dependent != own.Independent():
			n := ruleNode(ru, true)
			del(n, "applies_to")
			if ru.dependent {
				del(n, "depends_on") // the pack's, unchanged
			}
			if mapValue(n, "related") == nil && len(own.Related) > 0 {
				n.Content = append(n.Content, str("related"), seq()) // the pack's related entries dropped
			}
			if !ru.fallback && own.FallbackToParent {
				add(n, "allow_fallback", boolean(false))
			}
			changedRules = append(changedRules, n)
		default:
			removed = append(removed, str(own.Name))
			ids = append(ids, ruleNode(ru, true))
		}
	}
	add(root, "identification", seq(ids...))
	add(root, "reconciliation", im.reconNodes())
	change := mapping()
	add(change, "classes", seq(changedClasses...))
	add(change, "identification", seq(changedRules...))
	add(root, "change", change)
	remove := mapping()
	add(remove, "identification", seq(removed...))
	add(root, "remove", remove)
	return encode(root)
}

// sameRule reports whether an imported rule says what the pack's does.
func sameRule(ru *rule, d *rules.Rule) bool {
	if ru.fallback != d.FallbackToParent || !sameEntries(ru.entries, d.Entries) {
		return false
	}
	var rel []*rules.RelatedEntry
	for _, re := range d.Related {
		if !re.Lookup {
			rel = append(rel, re)
		}
	}
	if len(rel) != len(ru.related) {
		return false
	}
	for i, re := range ru.related {
		if re.class != rel[i].Class || re.ref != rel[i].ReferencedField || !sameEntries(re.entries, rel[i].Entries) {
			return false
		}
	}
	return true
}

func sameEntries(es []*entry, ds []*rules.Entry) bool {
	if len(es) != len(ds) {
		return false
	}
	for i, e := range es {
		d := ds[i]
		filter := ""
		if d.Filter != nil {
			filter = d.Filter.Source
		}
		if d.When != nil || e.priority != d.Priority || !slices.Equal(e.attrs, d.Attributes) || e.searchOn != d.SearchOn ||
			e.allowNull != d.AllowNull || e.unique != d.Unique || e.exact != d.ExactCount ||
			!slices.Equal(e.hybrid, d.HybridAttributes) || e.filter != filter {
			return false
		}
	}
	return true
}

func classNode(c string, im *importer) *yaml.Node {
	n := mapping("name", str(c))
	if p, _ := im.parentOf(c); p != "" {
		add(n, "extends", str(p))
	}
	n.Style = yaml.FlowStyle
	return n
}

func ruleNode(ru *rule, active bool) *yaml.Node {
	n := mapping("name", str(ru.name), "applies_to", str(ru.appliesTo))
	if !active {
		add(n, "active", boolean(false))
	}
	add(n, "entries", entryNodes(ru.entries, false))
	var deps []*yaml.Node
	for _, d := range ru.dependsOn {
		dn := mapping("class", str(d.Class), "relation", str(d.Relation), "direction", str(d.Direction.String()))
		dn.Style = yaml.FlowStyle
		deps = append(deps, dn)
	}
	add(n, "depends_on", seq(deps...))
	if ru.fallback {
		add(n, "allow_fallback", boolean(true))
	}
	var rel []*yaml.Node
	for _, re := range ru.related {
		rel = append(rel, mapping("class", str(re.class), "referenced_field", str(re.ref), "entries", entryNodes(re.entries, true)))
	}
	add(n, "related", seq(rel...))
	return n
}

// entryNodes writes entries; uniqueDefault is what the loader assumes
// when an entry does not say (true for a related entry's).
func entryNodes(es []*entry, uniqueDefault bool) *yaml.Node {
	out := seq()
	for _, e := range es {
		n := mapping("priority", integer(e.priority))
		if e.searchOn != "" {
			add(n, "search_on_table", str(e.searchOn))
		}
		add(n, "attributes", flow(e.attrs))
		if e.unique != uniqueDefault {
			add(n, "unique", boolean(e.unique))
		}
		if e.allowNull {
			add(n, "allow_null", boolean(true))
		}
		if len(e.hybrid) > 0 {
			add(n, "hybrid_attributes", flow(e.hybrid))
		}
		if e.exact {
			add(n, "exact_count_match", boolean(true))
		}
		if e.filter != "" {
			add(n, "filter", str(e.filter))
		}
		n.Style = yaml.FlowStyle
		out.Content = append(out.Content, n)
	}
	return out
}

func (im *importer) reconNodes() *yaml.Node {
	out := seq()
	for _, rc := range im.recon {
		n := mapping("applies_to", str(rc.appliesTo))
		if rc.attrs == nil {
			add(n, "attributes", str("all"))
		} else {
			add(n, "attributes", flow(rc.attrs))
		}
		srcs := seq()
		for _, s := range rc.sources {
			sn := mapping("name", str(s.name), "priority", integer(s.priority))
			if s.refresh != "" {
				add(sn, "refresh", str(s.refresh))
			}
			sn.Style = yaml.FlowStyle
			srcs.Content = append(srcs.Content, sn)
		}
		add(n, "sources", srcs)
		if len(rc.updateWithNull) > 0 {
			add(n, "update_with_null", flow(rc.updateWithNull))
		}
		out.Content = append(out.Content, n)
	}
	return out
}

// The node builders.

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func integer(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

// flow is a one-line list of names.
func flow(names []string) *yaml.Node {
	n := seq()
	for _, s := range names {
		n.Content = append(n.Content, str(s))
	}
	n.Style = yaml.FlowStyle
	return n
}

// mapping builds a mapping from key, value pairs.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		add(n, kv[i].(string), kv[i+1].(*yaml.Node))
	}
	return n
}

// add appends key: v to m, leaving out empty lists and mappings.
func add(m *yaml.Node, key string, v *yaml.Node) {
	if (v.Kind == yaml.SequenceNode || v.Kind == yaml.MappingNode) && len(v.Content) == 0 {
		return
	}
	m.Content = append(m.Content, str(key), v)
}

func del(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func encode(root *yaml.Node) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if len(root.Content) > 0 {
		_ = enc.Encode(root) // nodes built here always encode
	}
	enc.Close()
	return b.Bytes()
}
