package rules

// Composing rule files. A file that starts from another pack names it:
//
//	extends: default          # the built-in pack, or a rule file's path (relative to this file)
//	classes:                  # the usual sections ADD to the pack's
//	  - name: u_cmdb_ci_kiosk
//	    extends: cmdb_ci_hardware
//	change:                   # items of the pack, by name, each of which must exist:
//	  classes:                # every field given replaces the pack's field; the rest are kept
//	    - name: cmdb_ci_linux_server
//	      required: [name]
//	  identification:
//	    - name: Hardware Rule
//	      entries: [...]      # a rule's entries are replaced as a whole
//	    - name: Tomcat
//	      active: false       # a rule switched off (its classes use their ancestors' rule)
//	  relation_types:
//	    - name: "Runs on::Runs"
//	      suggested: [[cmdb_ci_appl, cmdb_ci_kiosk]]
//	remove:                   # items of the pack taken out; each must exist
//	  classes: [cmdb_ci_printer]
//	  identification: [Tomcat]
//	  relation_types: ["Members::Member of"]
//	  reconciliation: [{applies_to: cmdb_ci_hardware, attributes: all}]
//	  data_sources: [{applies_to: cmdb_ci_computer, source: SAM}]
//	  sources: [AWS]
//
// A class, rule or relation type added under its section must be new (to
// alter the pack's, use change). A reconciliation rule added for the same
// class, attributes and kind (static or dynamic) as one of the pack's
// replaces it, and so does a data source rule for the same class and
// source. Under duplicates, reclassification and metrics each key given
// replaces the pack's. Removals apply first, then changes, then additions.
// Errors name the file and line they are in, the pack's own included
// (removing a class a pack's rule applies to is reported at that rule).

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultPackName is what extends names to build on the built-in pack.
const DefaultPackName = "default"

// defaultFileName is the name errors in the built-in pack carry.
const defaultFileName = "default.yaml"

// listSections are the sections whose items add to a base pack's.
var listSections = []string{"relation_types", "classes", "identification", "reconciliation", "data_sources", "sources"}

// itemWords name one item of each list section, for messages.
var itemWords = map[string]string{"relation_types": "relation type", "classes": "class", "identification": "rule",
	"reconciliation": "reconciliation rule", "data_sources": "data source rule", "sources": "source"}

// mapSections are the sections whose keys replace a base pack's.
var mapSections = []string{"duplicates", "reclassification", "metrics"}

// compose returns the rule tree root describes: root itself, or, when it
// extends a pack, that pack with root's additions, changes and removals.
// file is root's file name; seen holds the files on the extends chain.
func (l *loader) compose(root *yaml.Node, file string, seen []string) *yaml.Node {
	if seen != nil { // a pack being extended
		l.markOrigin(root, file)
	}
	if root.Kind != yaml.MappingNode {
		return root
	}
	var extends *yaml.Node
	var rest []*yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "extends" && extends == nil {
			extends = root.Content[i+1]
			continue
		}
		rest = append(rest, root.Content[i], root.Content[i+1])
	}
	if extends == nil {
		for i := 0; i+1 < len(root.Content); {
			if k := root.Content[i]; k.Value == "change" || k.Value == "remove" {
				l.errorf(k, scope{}, "%s needs a pack to %s: start the file with extends: default", k.Value, k.Value)
				root.Content = slices.Delete(root.Content, i, i+2) // reported here, not again as an unknown field
				continue
			}
			i += 2
		}
		return root
	}
	l.markOrigin(root, file)
	s := scope{field: "extends"}
	ref, ok := l.str(extends, s)
	if !ok {
		return nil
	}
	baseName, data := defaultFileName, defaultSource
	if ref != DefaultPackName {
		baseName = ref
		if l.fsys != nil {
			baseName = path.Join(path.Dir(file), ref) // fs.FS paths are slash-separated and relative
		} else if !filepath.IsAbs(ref) && file != "-" {
			baseName = filepath.Join(filepath.Dir(file), ref)
		}
		if slices.Contains(seen, baseName) {
			l.errorf(extends, s, "%q extends itself (%s)", ref, strings.Join(append(seen, baseName), " -> "))
			return nil
		}
		var err error
		if data, err = l.readPack(baseName); err != nil {
			l.errorf(extends, s, "cannot read %q: %v", ref, err)
			return nil
		}
	}
	saved := l.file
	l.file = baseName
	base := l.parse(data)
	if base != nil {
		base = l.compose(base, baseName, append(seen, file))
	}
	l.file = saved
	if base == nil {
		return nil
	}
	if base.Kind != yaml.MappingNode {
		l.errorf(extends, s, "%s is not a rule file (its top is %s)", baseName, describe(base))
		return nil
	}
	c := &composer{l: l, base: base, baseName: baseName}
	user := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: root.Line, Column: root.Column, Content: rest}
	c.apply(user)
	return base
}

// maxPackSize bounds a pack file read for extends: many times the default
// pack, far less than a device or a mistaken path could hand over.
const maxPackSize = 64 << 20

// readPack reads a regular file of at most maxPackSize bytes, from the
// loader's fs.FS if it has one.
func (l *loader) readPack(name string) ([]byte, error) {
	var f fs.File
	var err error
	if l.fsys != nil {
		f, err = l.fsys.Open(name)
	} else {
		f, err = os.Open(name)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > maxPackSize {
		return nil, fmt.Errorf("%d bytes, more than a rule pack's %d", fi.Size(), maxPackSize)
	}
	return io.ReadAll(io.LimitReader(f, maxPackSize+1))
}

// markOrigin records which file every node of a tree comes from, so errors
// found in a composed tree name the right file.
func (l *loader) markOrigin(n *yaml.Node, file string) {
	if l.origin == nil {
		l.origin = map[*yaml.Node]string{}
	}
	if _, done := l.origin[n]; done {
		return
	}
	l.origin[n] = file
	for _, c := range n.Content {
		l.markOrigin(c, file)
	}
}

// composer applies one file's sections to the pack it extends.
type composer struct {
	l        *loader
	base     *yaml.Node // the pack's root mapping, changed in place
	baseName string
}

func (c *composer) apply(user *yaml.Node) {
	var change, remove *yaml.Node
	var adds [][2]*yaml.Node
	for i := 0; i+1 < len(user.Content); i += 2 {
		k, v := user.Content[i], user.Content[i+1]
		switch k.Value {
		case "change":
			change = v
		case "remove":
			remove = v
		default:
			adds = append(adds, [2]*yaml.Node{k, v})
		}
	}
	if remove != nil {
		c.remove(remove)
	}
	if change != nil {
		c.change(change)
	}
	for _, kv := range adds {
		c.add(kv[0], kv[1])
	}
}

// section returns the pack's value for key, nil when it has none.
func (c *composer) section(key string) *yaml.Node {
	for i := 0; i+1 < len(c.base.Content); i += 2 {
		if c.base.Content[i].Value == key {
			return c.base.Content[i+1]
		}
	}
	return nil
}

// setSection gives the pack's key the value v, adding the key if needed.
func (c *composer) setSection(k, v *yaml.Node) {
	for i := 0; i+1 < len(c.base.Content); i += 2 {
		if c.base.Content[i].Value == k.Value {
			c.base.Content[i+1] = v
			return
		}
	}
	c.base.Content = append(c.base.Content, k, v)
}

// add merges one of the file's own sections into the pack.
func (c *composer) add(k, v *yaml.Node) {
	have := c.section(k.Value)
	switch {
	case have == nil || have.Kind != v.Kind:
		// Nothing to merge with, or a shape the loader will report.
		c.setSection(k, v)
	case slices.Contains(listSections, k.Value) && v.Kind == yaml.SequenceNode:
		c.addItems(k.Value, have, v)
	case slices.Contains(mapSections, k.Value) && v.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			setKey(have, v.Content[i], v.Content[i+1])
		}
	default:
		c.setSection(k, v) // an unknown section: the loader says so
	}
}

// addItems appends the file's items of a list section to the pack's,
// refusing names the pack already has and replacing reconciliation and
// data source rules with the same key.
func (c *composer) addItems(section string, have, items *yaml.Node) {
	s := scope{field: section}
	for i, it := range items.Content {
		is := s.index(i)
		key := itemKey(section, it)
		if key == "" {
			have.Content = append(have.Content, it) // malformed: the loader reports it
			continue
		}
		j := c.find(section, have, key)
		switch {
		case j < 0:
			if section == "identification" {
				c.checkRuleClass(have, it, is)
			}
			have.Content = append(have.Content, it)
		case section == "reconciliation" || section == "data_sources":
			have.Content[j] = it
		case section == "sources":
			// Already listed: nothing to add.
		default:
			c.l.errorf(it, is, "%s %q is already in %s (line %d); change it under change.%s, or remove it under remove.%s first",
				itemWords[section], itemName(it), c.baseName, have.Content[j].Line, section, section)
		}
	}
}

// checkRuleClass reports a new rule for a class the pack already gives a
// rule: a class has one rule of its own.
func (c *composer) checkRuleClass(have, it *yaml.Node, s scope) {
	class := mapValue(it, "applies_to")
	if class == nil {
		return
	}
	for _, r := range have.Content {
		if a := mapValue(r, "applies_to"); a != nil && a.Value == class.Value && !inactive(r) {
			c.l.errorf(class, s.key("applies_to"), "class %q already has rule %q in %s (line %d); change that rule under change.identification, or remove it first",
				class.Value, itemName(r), c.baseName, r.Line)
			return
		}
	}
}

// change applies the change section: named items of the pack, each field
// given replacing the pack's.
func (c *composer) change(n *yaml.Node) {
	s := scope{field: "change"}
	f := c.l.fields(n, s, "classes", "identification", "relation_types")
	for _, section := range []string{"relation_types", "classes", "identification"} {
		v := f[section]
		if v == nil {
			continue
		}
		ss := s.key(section)
		items, ok := c.l.seq(v, ss)
		if !ok {
			continue
		}
		have := c.section(section)
		for i, it := range items {
			is := ss.index(i)
			if it.Kind != yaml.MappingNode {
				c.l.errorf(it, is, "expected a mapping with the name of the item to change, got %s", describe(it))
				continue
			}
			nn := mapValue(it, "name")
			if nn == nil {
				c.l.errorf(it, is, "missing name (the item to change)")
				continue
			}
			name, ok := c.l.str(nn, is.key("name"))
			if !ok {
				continue
			}
			key := name
			if section == "relation_types" {
				p, ch, ok := SplitRelationType(name)
				if !ok {
					c.l.errorf(nn, is.key("name"), `bad relation type %q: want "Parent descriptor::Child descriptor"`, name)
					continue
				}
				key = foldRelation(p, ch)
			}
			j := -1
			if have != nil && have.Kind == yaml.SequenceNode {
				j = c.find(section, have, key)
			}
			if j < 0 {
				c.l.errorf(nn, is.key("name"), "no %s %q in %s to change", itemWords[section], name, c.baseName)
				continue
			}
			have.Content[j] = changed(have.Content[j], it, c.l)
		}
	}
}

// changed returns a copy of the pack's item with the fields of change.
// The copy takes change's position, so errors about the item as a whole
// point at the change.
func changed(item, change *yaml.Node, l *loader) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: change.Line, Column: change.Column}
	if item.Kind == yaml.ScalarNode { // a relation type given by name only
		out.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "name", Line: item.Line}, item}
	} else {
		out.Content = slices.Clone(item.Content)
	}
	for i := 0; i+1 < len(change.Content); i += 2 {
		if change.Content[i].Value != "name" {
			setKey(out, change.Content[i], change.Content[i+1])
		}
	}
	l.origin[out] = l.origin[change]
	return out
}

// remove applies the remove section.
func (c *composer) remove(n *yaml.Node) {
	s := scope{field: "remove"}
	f := c.l.fields(n, s, listSections...)
	for _, section := range listSections {
		v := f[section]
		if v == nil {
			continue
		}
		ss := s.key(section)
		items, ok := c.l.seq(v, ss)
		if !ok {
			continue
		}
		have := c.section(section)
		for i, it := range items {
			is := ss.index(i)
			key := c.removalKey(section, it, is)
			if key == "" {
				continue
			}
			j := -1
			if have != nil && have.Kind == yaml.SequenceNode {
				j = c.find(section, have, key)
			}
			if j < 0 {
				c.l.errorf(it, is, "no %s %s in %s to remove", itemWords[section], describeKey(section, it), c.baseName)
				continue
			}
			have.Content = slices.Delete(have.Content, j, j+1)
		}
	}
}

// removalKey reads what a removal names: a name, or for reconciliation and
// data source rules the mapping that identifies one.
func (c *composer) removalKey(section string, it *yaml.Node, s scope) string {
	switch section {
	case "reconciliation":
		f := c.l.fields(it, s, "applies_to", "attributes", "dynamic")
		if f == nil || c.l.need(f, it, s, "applies_to") == nil || c.l.need(f, it, s, "attributes") == nil {
			return ""
		}
	case "data_sources":
		f := c.l.fields(it, s, "applies_to", "source")
		if f == nil || c.l.need(f, it, s, "applies_to") == nil || c.l.need(f, it, s, "source") == nil {
			return ""
		}
	default:
		name, ok := c.l.str(it, s)
		if !ok {
			return ""
		}
		if section == "relation_types" {
			p, ch, ok := SplitRelationType(name)
			if !ok {
				c.l.errorf(it, s, `bad relation type %q: want "Parent descriptor::Child descriptor"`, name)
				return ""
			}
			return foldRelation(p, ch)
		}
		return name
	}
	k := itemKey(section, it)
	if section == "reconciliation" {
		if d := mapValue(it, "dynamic"); d != nil && d.Value == "true" {
			k = strings.TrimSuffix(k, "static") + "dynamic"
		}
	}
	return k
}

// find returns the index of the pack's item with key, or -1. A relation
// type is also found by its spelling read the other way round.
func (c *composer) find(section string, have *yaml.Node, key string) int {
	reversed := ""
	if p, ch, ok := strings.Cut(key, "::"); ok && section == "relation_types" {
		reversed = ch + "::" + p
	}
	for j, it := range have.Content {
		if k := itemKey(section, it); k == key || (reversed != "" && k == reversed) {
			return j
		}
	}
	return -1
}

// itemKey is what makes an item of a section the same item in two files:
// the name (relation types folded), a reconciliation rule's class,
// attributes and kind, a data source rule's class and source. "" when the
// item is malformed.
func itemKey(section string, it *yaml.Node) string {
	switch section {
	case "sources":
		if it.Kind == yaml.ScalarNode {
			return it.Value
		}
	case "relation_types":
		if p, ch, ok := SplitRelationType(itemName(it)); ok {
			return foldRelation(p, ch)
		}
	case "classes", "identification":
		return itemName(it)
	case "reconciliation":
		a, attrs := mapValue(it, "applies_to"), mapValue(it, "attributes")
		if a == nil || attrs == nil {
			return ""
		}
		kind := "static"
		if mapValue(it, "prefer") != nil || mapValue(it, "policy") != nil {
			kind = "dynamic"
		}
		return a.Value + "\x00" + attributeKey(attrs) + "\x00" + kind
	case "data_sources":
		a, src := mapValue(it, "applies_to"), mapValue(it, "source")
		if a == nil || src == nil {
			return ""
		}
		return a.Value + "\x00" + src.Value
	}
	return ""
}

// attributeKey is "all" or the sorted attribute list.
func attributeKey(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var attrs []string
	for _, a := range n.Content {
		attrs = append(attrs, a.Value)
	}
	slices.Sort(attrs)
	return strings.Join(attrs, ",")
}

// describeKey renders what a removal names, for its error.
func describeKey(section string, it *yaml.Node) string {
	switch section {
	case "reconciliation":
		return "for " + mapValue(it, "applies_to").Value + " (attributes " + attributeKey(mapValue(it, "attributes")) + ")"
	case "data_sources":
		return "for " + mapValue(it, "applies_to").Value + " and source " + mapValue(it, "source").Value
	}
	return `"` + it.Value + `"`
}

// itemName is an item's name: the scalar itself (a relation type or a
// source given by name) or its name field.
func itemName(it *yaml.Node) string {
	if it.Kind == yaml.ScalarNode {
		return it.Value
	}
	if n := mapValue(it, "name"); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// inactive reports whether a rule mapping says active: false.
func inactive(it *yaml.Node) bool {
	a := mapValue(it, "active")
	return a != nil && a.Value == "false"
}

// mapValue returns the value of key in a mapping node, nil if absent.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// setKey sets key k of mapping m to v, replacing its value if present.
func setKey(m, k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k.Value {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, k, v)
}
