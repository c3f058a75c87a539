package ruleimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/irego/irego/rules"
	"github.com/irego/irego/tableapi"
)

// Tables are the tables Import reads, in the order it reads them.
var Tables = []string{"sys_db_object", "sys_dictionary", "cmdb_rel_type", "cmdb_identifier", "cmdb_identifier_entry",
	"cmdb_related_entry", "cmdb_reconciliation_definition", "cmdb_datasource_refresh", "cmdb_datasource_staleness"}

// Problem is a record Import could not translate, or translated with a
// caveat (Kept).
type Problem struct {
	Table, SysID string
	Reason       string
	// Kept says the record was translated nonetheless, as Reason tells.
	Kept bool
}

// String renders the problem as the import's report prints it:
// "TABLE SYS_ID: not translated: REASON".
func (p Problem) String() string {
	what := "not translated"
	if p.Kept {
		what = "translated"
	}
	return fmt.Sprintf("%s %s: %s: %s", p.Table, p.SysID, what, p.Reason)
}

// Options steer Import.
type Options struct {
	// Standalone writes a file that does not extend the default pack.
	Standalone bool
	// Name is the file name the result is checked under (for messages).
	Name string
}

// Result is an imported rule file.
type Result struct {
	// File is the rule file, which rules.Load accepts.
	File []byte
	// Standalone says File does not extend the default pack.
	Standalone bool
	// Rules is File compiled.
	Rules *rules.RuleSet
	// Problems lists every record not translated, or translated with a
	// caveat, in table order.
	Problems []Problem
	// Missing names the tables the source does not hold.
	Missing []string
	// Read counts the records read per table.
	Read map[string]int
	// OutsideCMDB counts the sys_db_object tables left out because they
	// are not part of the CMDB's class hierarchy.
	OutsideCMDB int
}

// Import reads the CMDB model from src and translates it.
func Import(ctx context.Context, src tableapi.Source, opts Options) (*Result, error) {
	res := &Result{Read: map[string]int{}}
	t := tables{}
	for _, name := range Tables {
		err := src.Each(ctx, name, 0, func(r tableapi.Record) error {
			t[name] = append(t[name], r)
			return nil
		})
		if errors.Is(err, tableapi.ErrNoTable) {
			res.Missing = append(res.Missing, name)
			continue
		}
		if err != nil {
			return nil, err
		}
		res.Read[name] = len(t[name])
	}
	im := &importer{def: rules.Default(), t: t}
	im.classes()
	im.columns()
	im.relationTypes()
	im.identifiers()
	im.entries()
	im.related()
	im.finishRules()
	im.reconciliation()
	im.refresh()
	res.Problems, res.OutsideCMDB = im.problems, im.outside
	if len(im.classOrder)+len(im.rules)+len(im.relTypes)+len(im.recon) == 0 {
		return res, fmt.Errorf("ruleimport: %s holds no CMDB classes, identification rules, relation types or reconciliation rules", src)
	}

	name := opts.Name
	if name == "" {
		name = "imported.yaml"
	}
	standalone := im.standaloneFile()
	res.File, res.Standalone = standalone, true
	if !opts.Standalone {
		if ext := im.extendingFile(); ext != nil && len(ext) <= len(standalone) {
			res.File, res.Standalone = ext, false
		}
	}
	rs, err := rules.Load(name, res.File)
	if err != nil {
		return nil, fmt.Errorf("ruleimport: the translated rule file does not load (a defect of the import):\n%w", err)
	}
	res.Rules = rs
	return res, nil
}

// tables holds the records read, by table.
type tables map[string][]tableapi.Record

// importer holds one Import's translation.
type importer struct {
	def      *rules.RuleSet
	t        tables
	problems []Problem
	outside  int

	// The class hierarchy of the export: name → parent ("" for a root),
	// in sys_db_object order, and sys_id → name.
	parent     map[string]string
	classOrder []string
	classByID  map[string]string
	// cols holds sys_dictionary's columns by table.
	cols map[string]map[string]bool

	relTypes []string

	rules    []*rule
	ruleByID map[string]*rule
	recon    []*recon
}

// rule is an identification rule being translated.
type rule struct {
	sysID, name, appliesTo string
	active, dependent      bool
	fallback               bool
	entries                []*entry
	related                []*related
	dependsOn              []rules.Dependency
}

type entry struct {
	sysID     string
	priority  int
	attrs     []string
	searchOn  string
	allowNull bool
	unique    bool
	exact     bool
	hybrid    []string
	filter    string
}

type related struct {
	class, ref string
	entries    []*entry
}

type recon struct {
	appliesTo      string
	attrs          []string // nil: all
	sources        []source
	updateWithNull []string
}

type source struct {
	name     string
	priority int
	refresh  string
	sysID    string
}

func (im *importer) problem(table, sysID, format string, args ...any) {
	im.problems = append(im.problems, Problem{Table: table, SysID: sysID, Reason: fmt.Sprintf(format, args...)})
}

func (im *importer) note(table, sysID, format string, args ...any) {
	im.problems = append(im.problems, Problem{Table: table, SysID: sysID, Reason: fmt.Sprintf(format, args...), Kept: true})
}

// known reports whether class is a class of the result: the export's
// CMDB classes or the default pack's.
func (im *importer) known(class string) bool {
	if _, ok := im.parent[class]; ok {
		return true
	}
	_, ok := im.def.Class(class)
	return ok
}

// parentOf is class's parent: the export's, else the default pack's.
func (im *importer) parentOf(class string) (string, bool) {
	if p, ok := im.parent[class]; ok {
		return p, true
	}
	if c, ok := im.def.Class(class); ok {
		if c.Parent == nil {
			return "", true
		}
		return c.Parent.Name, true
	}
	return "", false
}

// isA reports whether class is anc or one of its descendants.
func (im *importer) isA(class, anc string) bool {
	for steps := 0; class != "" && steps < 1000; steps++ {
		if class == anc {
			return true
		}
		class, _ = im.parentOf(class)
	}
	return false
}

// ref reads a reference field: a sys_id, or a name when the export holds
// display values.
func ref(v string) string { return strings.TrimSpace(v) }

func truth(v string) bool {
	return strings.EqualFold(strings.TrimSpace(v), "true") || strings.TrimSpace(v) == "1"
}

// list splits a comma list, trimming blanks.
func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// classes reads sys_db_object: the classes that belong to the CMDB (whose
// ancestry reaches a class the default pack knows, or cmdb).
func (im *importer) classes() {
	recs := im.t["sys_db_object"]
	im.classByID = map[string]string{}
	raw := map[string]string{} // name → super_class as exported
	var order []string
	for _, r := range recs {
		name := strings.TrimSpace(r["name"])
		if name == "" {
			im.problem("sys_db_object", r["sys_id"], "no name")
			continue
		}
		if _, dup := raw[name]; dup {
			im.problem("sys_db_object", r["sys_id"], "table %s listed twice", name)
			continue
		}
		im.classByID[r["sys_id"]] = name
		raw[name] = ref(r["super_class"])
		order = append(order, name)
	}
	parents := map[string]string{}
	for _, name := range order {
		sup := raw[name]
		switch {
		case sup == "":
			parents[name] = ""
		case im.classByID[sup] != "":
			parents[name] = im.classByID[sup]
		case raw[sup] != "" || slices.Contains(order, sup):
			parents[name] = sup // exported as a name
		default:
			if p, ok := im.defParent(name); ok {
				parents[name] = p
				continue
			}
			parents[name] = ""
			im.note("sys_db_object", sysIDOf(recs, name), "super_class %s of %s is not in the export; %s is imported as a root class", sup, name, name)
		}
	}
	// A cycle of super_class references is broken at its first member.
	for _, name := range order {
		c := parents[name]
		for steps := 0; c != "" && steps < len(order); steps++ {
			if c == name {
				im.problem("sys_db_object", sysIDOf(recs, name), "super_class of %s leads back to it (a cycle), so its parent is unknown", name)
				parents[name] = ""
				break
			}
			c = parents[c]
		}
	}
	// A table is a CMDB class when its ancestry reaches cmdb or a class of
	// the default pack.
	var inCMDB func(name string, depth int) bool
	inCMDB = func(name string, depth int) bool {
		if _, ok := im.def.Class(name); ok || name == "cmdb" {
			return true
		}
		p := parents[name]
		return p != "" && depth < len(order) && inCMDB(p, depth+1)
	}
	im.parent = map[string]string{}
	for _, name := range order {
		if !inCMDB(name, 0) {
			im.outside++
			continue
		}
		im.parent[name] = parents[name]
		im.classOrder = append(im.classOrder, name)
	}
}

// defParent is the default pack's parent of class.
func (im *importer) defParent(class string) (string, bool) {
	c, ok := im.def.Class(class)
	if !ok {
		return "", false
	}
	if c.Parent == nil {
		return "", true
	}
	return c.Parent.Name, true
}

func sysIDOf(recs []tableapi.Record, name string) string {
	for _, r := range recs {
		if r["name"] == name {
			return r["sys_id"]
		}
	}
	return ""
}

// className reads a class field: a table name, or a sys_db_object
// reference.
func (im *importer) className(v string) string {
	v = strings.TrimSpace(v)
	if n := im.classByID[v]; n != "" {
		return n
	}
	return v
}

// columns reads sys_dictionary.
func (im *importer) columns() {
	im.cols = map[string]map[string]bool{}
	for _, r := range im.t["sys_dictionary"] {
		table, el := strings.TrimSpace(r["name"]), strings.TrimSpace(r["element"])
		if table == "" || el == "" {
			continue // the table's own row, or a blank one
		}
		if im.cols[table] == nil {
			im.cols[table] = map[string]bool{}
		}
		im.cols[table][el] = true
	}
}

// unknownColumns returns the attributes sys_dictionary does not list for
// class or its ancestors; nil when it lists none of them at all.
func (im *importer) unknownColumns(class string, attrs []string) []string {
	var lineage []string
	for c, steps := class, 0; c != "" && steps < 1000; steps++ {
		lineage = append(lineage, c)
		c, _ = im.parentOf(c)
	}
	covered := false
	for _, c := range lineage {
		covered = covered || im.cols[c] != nil
	}
	if !covered {
		return nil
	}
	var out []string
	for _, a := range attrs {
		found := false
		for _, c := range lineage {
			found = found || im.cols[c][a]
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}

// relationTypes reads cmdb_rel_type.
func (im *importer) relationTypes() {
	seen := map[string]bool{}
	for _, r := range im.t["cmdb_rel_type"] {
		name := strings.TrimSpace(r["name"])
		if name == "" {
			name = strings.TrimSpace(r["parent_descriptor"]) + "::" + strings.TrimSpace(r["child_descriptor"])
		}
		p, c, ok := rules.SplitRelationType(name)
		if !ok {
			im.problem("cmdb_rel_type", r["sys_id"], "relation type %q: want \"Parent descriptor::Child descriptor\"", name)
			continue
		}
		key, rev := fold(p, c), fold(c, p)
		if seen[key] || seen[rev] {
			continue // the same type again, or read the other way round
		}
		seen[key] = true
		im.relTypes = append(im.relTypes, name)
	}
}

func fold(p, c string) string {
	f := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return f(p) + "::" + f(c)
}

// identifiers reads cmdb_identifier.
func (im *importer) identifiers() {
	im.ruleByID = map[string]*rule{}
	names := map[string]bool{}
	activeOn := map[string]string{} // class → name of its active rule
	for _, r := range im.t["cmdb_identifier"] {
		id := r["sys_id"]
		ru := &rule{sysID: id, name: strings.TrimSpace(r["name"]), appliesTo: im.className(r["applies_to"]), active: true}
		if v, ok := r["active"]; ok && strings.TrimSpace(v) != "" {
			ru.active = truth(v)
		}
		if v, ok := r["independent"]; ok && strings.TrimSpace(v) != "" {
			ru.dependent = !truth(v)
		}
		ru.fallback = truth(r["allow_fallback"])
		switch {
		case ru.appliesTo == "":
			im.problem("cmdb_identifier", id, "no applies_to class")
			continue
		case !im.known(ru.appliesTo):
			im.problem("cmdb_identifier", id, "applies_to %s: not a CMDB class of the export or the default pack", ru.appliesTo)
			continue
		}
		if ru.name == "" {
			ru.name = ru.appliesTo + " Rule"
			im.note("cmdb_identifier", id, "no name; named %q", ru.name)
		}
		if names[ru.name] {
			im.problem("cmdb_identifier", id, "rule name %q is used by another identifier", ru.name)
			continue
		}
		if other := activeOn[ru.appliesTo]; other != "" && ru.active {
			im.problem("cmdb_identifier", id, "class %s already has the active rule %q", ru.appliesTo, other)
			continue
		}
		names[ru.name] = true
		if ru.active {
			activeOn[ru.appliesTo] = ru.name
		}
		im.rules = append(im.rules, ru)
		im.ruleByID[id] = ru
	}
}

// ruleOf finds the rule a (related) entry's identifier field names.
func (im *importer) ruleOf(table string, r tableapi.Record) *rule {
	ru := im.ruleByID[ref(r["identifier"])]
	if ru == nil {
		// An export with display values names the rule.
		for _, x := range im.rules {
			if x.name == ref(r["identifier"]) {
				return x
			}
		}
		im.problem(table, r["sys_id"], "identifier %q is not an imported identification rule", r["identifier"])
	}
	return ru
}

// priority reads order, else priority.
func (im *importer) priority(table string, r tableapi.Record) (int, bool) {
	v := strings.TrimSpace(r["order"])
	if v == "" {
		v = strings.TrimSpace(r["priority"])
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 {
		im.problem(table, r["sys_id"], "priority (order) %q: want a whole number, 0 or more", v)
		return 0, false
	}
	return p, true
}

// entries reads cmdb_identifier_entry.
func (im *importer) entries() {
	const table = "cmdb_identifier_entry"
	for _, r := range im.t[table] {
		id := r["sys_id"]
		if v, ok := r["active"]; ok && strings.TrimSpace(v) != "" && !truth(v) {
			continue // an inactive entry is never tried
		}
		ru := im.ruleOf(table, r)
		if ru == nil {
			continue
		}
		p, ok := im.priority(table, r)
		if !ok {
			continue
		}
		e := &entry{sysID: id, priority: p, attrs: list(r["attributes"]), allowNull: truth(r["allow_null_attribute"])}
		if len(e.attrs) == 0 {
			im.problem(table, id, "no criterion attributes")
			continue
		}
		if on := im.className(r["table"]); on != "" && !im.isA(on, ru.appliesTo) && !im.isA(ru.appliesTo, on) {
			if !im.known(on) {
				im.problem(table, id, "search on table %s: not a class of the export or the default pack", on)
				continue
			}
			if ru.dependent {
				im.problem(table, id, "a lookup entry (search on %s) in the dependent rule %q: lookup entries are for independent rules", on, ru.name)
				continue
			}
			e.searchOn = on
			e.hybrid = list(r["hybrid_entry_ci_criterion_attributes"])
			e.exact = truth(r["exact_count_match"])
		} else if bad := im.unknownColumns(ru.appliesTo, e.attrs); len(bad) > 0 {
			im.note(table, id, "attributes %s are not columns of %s or its ancestors in sys_dictionary", strings.Join(bad, ", "), ru.appliesTo)
		}
		if truth(r["allow_fallback"]) {
			ru.fallback = true
		}
		if c := strings.TrimSpace(r["optional_condition"]); c != "" {
			if f, err := condition(c); err != nil {
				im.note(table, id, "optional condition %q left out (%v); ServiceNow applies it only when glide.identification_engine.enable_identifier_optional_condition is true", c, err)
			} else {
				e.filter = f
			}
		}
		ru.entries = append(ru.entries, e)
	}
}

// related reads cmdb_related_entry: one related entry per rule and table.
func (im *importer) related() {
	const table = "cmdb_related_entry"
	for _, r := range im.t[table] {
		id := r["sys_id"]
		if v, ok := r["active"]; ok && strings.TrimSpace(v) != "" && !truth(v) {
			continue
		}
		ru := im.ruleOf(table, r)
		if ru == nil {
			continue
		}
		class, refField := im.className(r["table"]), strings.TrimSpace(r["referenced_field"])
		switch {
		case class == "" || !im.known(class):
			im.problem(table, id, "related table %q: not a class of the export or the default pack", class)
			continue
		case refField == "":
			im.problem(table, id, "no referenced_field")
			continue
		}
		p, ok := im.priority(table, r)
		if !ok {
			continue
		}
		// A related entry is unique within its CI, as irego's related entries are.
		e := &entry{sysID: id, priority: p, attrs: list(r["attributes"]), allowNull: truth(r["allow_null_attribute"]), unique: true}
		if len(e.attrs) == 0 || slices.Contains(e.attrs, refField) {
			im.problem(table, id, "criterion attributes %q: want at least one, not the referenced field", r["attributes"])
			continue
		}
		var re *related
		for _, x := range ru.related {
			if x.class == class {
				re = x
			}
		}
		if re == nil {
			re = &related{class: class, ref: refField}
			ru.related = append(ru.related, re)
		} else if re.ref != refField {
			im.problem(table, id, "related table %s is referenced by %s in another entry of the rule, not %s", class, re.ref, refField)
			continue
		}
		re.entries = append(re.entries, e)
	}
}

// finishRules sorts entries, takes dependencies and unique marks from the
// default pack, and drops rules left without entries.
func (im *importer) finishRules() {
	var kept []*rule
	for _, ru := range im.rules {
		sortEntries(ru.entries)
		for _, re := range ru.related {
			sortEntries(re.entries)
		}
		var def *rules.Rule
		if c, ok := im.def.Class(ru.appliesTo); ok {
			def = c.Rule
		}
		if len(ru.entries) == 0 {
			if ru.active {
				im.problem("cmdb_identifier", ru.sysID, "rule %q has no active entries", ru.name)
			}
			continue
		}
		if ru.dependent {
			if def == nil || def.Independent() {
				im.problem("cmdb_identifier", ru.sysID, "dependent rule %q: its hosting or containment rules (cmdb_metadata_hosting, cmdb_metadata_containment) are not read, and the default pack has none for %s", ru.name, ru.appliesTo)
				continue
			}
			ru.dependsOn = def.DependsOn
		} else if ru.fallback {
			im.note("cmdb_identifier", ru.sysID, "allow fallback ignored: rule %q is independent", ru.name)
			ru.fallback = false
		}
		if def != nil {
			for _, e := range ru.entries {
				for _, d := range def.Entries {
					if slices.Equal(d.Attributes, e.attrs) && d.SearchOn == e.searchOn {
						e.unique = d.Unique
					}
				}
			}
		}
		kept = append(kept, ru)
	}
	im.rules = kept
}

func sortEntries(es []*entry) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].priority != es[j].priority {
			return es[i].priority < es[j].priority
		}
		return es[i].sysID < es[j].sysID
	})
}

// reconciliation reads cmdb_reconciliation_definition: one rule per class
// and attribute set, its sources by priority.
func (im *importer) reconciliation() {
	const table = "cmdb_reconciliation_definition"
	byKey := map[string]*recon{}
	for _, r := range im.t[table] {
		id := r["sys_id"]
		if v, ok := r["active"]; ok && strings.TrimSpace(v) != "" && !truth(v) {
			continue
		}
		class := im.className(r["applies_to"])
		if class == "" || !im.known(class) {
			im.problem(table, id, "applies_to %q: not a class of the export or the default pack", class)
			continue
		}
		src := strings.TrimSpace(r["discovery_source"])
		if src == "" || src == rules.AnySource {
			im.problem(table, id, "discovery_source %q: want a source name", src)
			continue
		}
		p, ok := im.priority(table, r)
		if !ok {
			continue
		}
		attrs := list(r["attributes"])
		sorted := slices.Sorted(slices.Values(attrs))
		key := class + "\x00" + strings.Join(sorted, ",")
		rc := byKey[key]
		if rc == nil {
			rc = &recon{appliesTo: class, attrs: attrs}
			byKey[key] = rc
			im.recon = append(im.recon, rc)
		}
		if slices.ContainsFunc(rc.sources, func(s source) bool { return s.name == src }) {
			im.problem(table, id, "source %s already has a rule for %s and these attributes", src, class)
			continue
		}
		rc.sources = append(rc.sources, source{name: src, priority: p, sysID: id})
		for _, a := range list(r["update_with_null"]) {
			if attrs != nil && !slices.Contains(attrs, a) {
				im.note(table, id, "update with null %s left out: not among the rule's attributes", a)
				continue
			}
			if !slices.Contains(rc.updateWithNull, a) {
				rc.updateWithNull = append(rc.updateWithNull, a)
			}
		}
		if c := strings.TrimSpace(r["filter_condition"]); c != "" {
			im.note(table, id, "filter condition %q left out: irego's reconciliation rules have none", c)
		}
	}
	for _, rc := range im.recon {
		sort.SliceStable(rc.sources, func(i, j int) bool { return rc.sources[i].priority < rc.sources[j].priority })
	}
}

// refresh reads the data refresh rules into the refresh period of the
// source in the class's reconciliation rules.
func (im *importer) refresh() {
	for _, table := range []string{"cmdb_datasource_refresh", "cmdb_datasource_staleness"} {
		for _, r := range im.t[table] {
			id := r["sys_id"]
			if v, ok := r["active"]; ok && strings.TrimSpace(v) != "" && !truth(v) {
				continue
			}
			class, src := im.className(r["applies_to"]), strings.TrimSpace(r["discovery_source"])
			d, err := duration(r["duration"])
			if err != nil {
				im.problem(table, id, "duration %q: %v", r["duration"], err)
				continue
			}
			n := 0
			for _, rc := range im.recon {
				if rc.appliesTo != class {
					continue
				}
				for i := range rc.sources {
					if rc.sources[i].name == src {
						rc.sources[i].refresh = d
						n++
					}
				}
			}
			if n == 0 {
				im.problem(table, id, "no reconciliation rule on %s names source %q", class, src)
			}
		}
	}
}
