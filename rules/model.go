package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// RuleSet is a compiled rule file: the class hierarchy, the identification
// rule in force for every class, and the relation types. It is immutable
// after Load and safe for concurrent use.
type RuleSet struct {
	classes       map[string]*Class
	classOrder    []string
	relationTypes map[string]*RelationType // by declared name
	relationFold  map[string]*RelationType // by foldRelation key
	relationOrder []string
	rules         []*Rule
	metrics       *MetricRules // the metrics section (metrics.go); nil when absent
	entries       map[string]*Entry
	duplicates    Duplicates
	reclass       *Reclassification
	sources       []string // the sources section (sources.go)
	source        []byte   // the text it was loaded from (Source)
	name          string   // the file name it was loaded as (Name)
}

// Duplicates steers what identification does when an entry finds several
// CIs (the duplicates section of a rule file).
type Duplicates struct {
	// Threshold: when one entry finds several CIs, but fewer than
	// Threshold, the oldest is updated and a de-duplication task names them
	// all; with Threshold or more the item fails with
	// MULTIPLE_DUPLICATE_RECORDS. ServiceNow's default
	// (glide.identification_engine.skip_duplicates.threshold) is 5.
	Threshold int
	// Merge is the merge template: per attribute, which CI's value a merge
	// of duplicates keeps. Attributes it does not name follow the
	// reconciliation rules, else the main CI's value.
	Merge map[string]MergeWinner
}

// MergeWinner says which of the merged CIs gives an attribute its value
// (among those that have one).
type MergeWinner string

// The merge winners.
const (
	// MergeMain keeps the main CI's value; the others only fill a gap.
	MergeMain MergeWinner = "main"
	// MergeNewest keeps the value of the CI updated last.
	MergeNewest MergeWinner = "newest"
	// MergeOldest keeps the value of the CI created first.
	MergeOldest MergeWinner = "oldest"
)

var mergeWinners = []MergeWinner{MergeMain, MergeNewest, MergeOldest}

// DefaultDuplicateThreshold is ServiceNow's default threshold.
const DefaultDuplicateThreshold = 5

// Duplicates returns the rule set's duplicate handling.
func (rs *RuleSet) Duplicates() Duplicates { return rs.duplicates }

// Entry returns the identifier entry (of a rule or a related entry) with
// the given ID.
func (rs *RuleSet) Entry(id string) (*Entry, bool) {
	e, ok := rs.entries[id]
	return e, ok
}

// Class is one class of the hierarchy.
type Class struct {
	Name string
	// Parent is the class this one extends; nil for a root class.
	Parent *Class
	// Required lists attributes an item must carry before it may be inserted.
	Required []string
	// Allowed restricts attributes to a fixed set of values (attribute → values).
	Allowed map[string][]string
	// Rule is the identification rule in force: the class's own, or the
	// nearest ancestor's when it defines none. Nil when no rule applies.
	Rule *Rule
	// Indexed are the attributes the engine indexes for the class (own and
	// inherited, see indexes.go); IndexClass is the class whose index holds
	// them, "" when none is declared.
	Indexed    []string
	IndexClass string

	// policy holds the reconciliation and data source rules declared on
	// this class itself; lookups walk up the ancestry.
	policy *classPolicy
}

// IsA reports whether c is the named class or one of its descendants.
func (c *Class) IsA(name string) bool {
	for k := c; k != nil; k = k.Parent {
		if k.Name == name {
			return true
		}
	}
	return false
}

// Direction says which end of a dependency relation the dependent item is.
type Direction int

const (
	// ItemToParent: the dependent item is the relation's parent and the
	// class it depends on is the child ("datacenter Hosted on::Hosts account").
	ItemToParent Direction = iota
	// ParentToItem: the class depended on is the relation's parent and the
	// dependent item its child ("rack Contains::Contained by server").
	ParentToItem
)

// String is the direction as rule files spell it.
func (d Direction) String() string {
	if d == ParentToItem {
		return "parent_to_item"
	}
	return "item_to_parent"
}

// Rule is an identification rule. It applies to the class it is defined on
// and to every descendant that defines no rule of its own; matching spans
// all of those classes.
type Rule struct {
	Name string
	// AppliesTo is the class the rule is defined on.
	AppliesTo string
	// Entries are the identifier entries, tried in this order (priority
	// ascending, ties in declaration order).
	Entries []*Entry
	// DependsOn holds the hosting/containment rules of a dependent rule;
	// empty for an independent rule.
	DependsOn []Dependency
	// Related holds the related entries, in declaration order, followed by
	// one for every lookup table the rule searches that none declares (its
	// records are identified within the CI by the lookup entry's attributes).
	Related []*RelatedEntry
	// FallbackToParent lets a dependent rule that finds no CI try the rule
	// of the class's nearest ancestor with another rule ("Allow fallback to
	// parent's rules").
	FallbackToParent bool
	// Line is where the rule starts in its file (default.yaml for Default).
	Line int
}

// Independent reports whether items of the rule are identified alone.
func (r *Rule) Independent() bool { return len(r.DependsOn) == 0 }

// RelatedFor returns the related entry that covers class c (the entry whose
// class is c or an ancestor of c, nearest first), or nil.
func (r *Rule) RelatedFor(c *Class) *RelatedEntry {
	for k := c; k != nil; k = k.Parent {
		for _, re := range r.Related {
			if re.Class == k.Name {
				return re
			}
		}
	}
	return nil
}

// Entry is one identifier entry: a set of criterion attributes that, when
// all present, identify an item.
type Entry struct {
	// ID is a stable 32-hex identifier derived from the rule and the entry.
	ID       string
	Priority int
	// Attributes are the criterion attributes, in declaration order.
	Attributes []string
	// AllowNull lets the entry run when some (not all) attributes are null;
	// the null ones must then be null on the match too.
	AllowNull bool
	// When, if not nil, must hold for the item's values for the entry to apply.
	When *Condition
	// Unique entries may never have two CIs holding the same values: a
	// second CI is refused them, and a CI found by a later entry that holds
	// other values for a unique entry the item also fills is not the item's
	// CI. Other entries' values (a name) may be shared by several CIs.
	Unique bool
	// SearchOn, when set, makes a lookup entry: Attributes are those of
	// records of this class (e.g. cmdb_serial_number) that the item carries
	// in its lookup list, and the CI found is the one such a record belongs to.
	SearchOn string
	// HybridAttributes are the CI's own attributes a lookup entry also
	// compares (a hybrid entry).
	HybridAttributes []string
	// ExactCount makes a lookup entry match only a CI that every lookup
	// record of the item names ("Enforce exact count match").
	ExactCount bool
	// Filter, if not nil, must hold for a stored CI's values for this entry
	// to find it (ServiceNow's optional condition on an entry).
	Filter *Condition
}

// IsLookup reports whether e searches a lookup table.
func (e *Entry) IsLookup() bool { return e.SearchOn != "" }

// Dependency is a hosting or containment rule of a dependent class.
type Dependency struct {
	// Class is the class depended on (it or any descendant qualifies).
	Class     string
	Relation  string
	Direction Direction
}

// Describe renders the dependency the way error messages show it, e.g.
// "cmdb_ci_aws_datacenter >> Hosted on::Hosts >> cmdb_ci_cloud_service_account (item is the relation's parent)".
func (d Dependency) Describe(item string) string {
	if d.Direction == ParentToItem {
		return fmt.Sprintf("%s >> %s >> %s (item is the relation's child)", d.Class, d.Relation, item)
	}
	return fmt.Sprintf("%s >> %s >> %s (item is the relation's parent)", item, d.Relation, d.Class)
}

// RelatedEntry identifies records of a related class within the item they
// hang under: ReferencedField holds the main item's sys_id.
type RelatedEntry struct {
	Class           string
	ReferencedField string
	Entries         []*Entry
	// Lookup marks an entry derived from a lookup entry of the rule.
	Lookup bool
}

// Condition is a compiled expr boolean expression over an item's values
// (each attribute is a variable; a missing attribute is nil).
type Condition struct {
	Source  string
	program *vm.Program
}

// CompileCondition compiles src once; the result is safe for concurrent use.
func CompileCondition(src string) (*Condition, error) {
	p, err := expr.Compile(src, expr.AsBool(), expr.AllowUndefinedVariables())
	if err != nil {
		return nil, err
	}
	return &Condition{Source: src, program: p}, nil
}

// Eval runs the condition against values.
func (c *Condition) Eval(values map[string]any) (bool, error) {
	out, err := expr.Run(c.program, values)
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", c.Source, err)
	}
	b, _ := out.(bool)
	return b, nil
}

// Class returns the named class.
func (rs *RuleSet) Class(name string) (*Class, bool) {
	c, ok := rs.classes[name]
	return c, ok
}

// Classes returns the class names in declaration order.
func (rs *RuleSet) Classes() []string { return append([]string(nil), rs.classOrder...) }

// Rules returns the identification rules in declaration order.
func (rs *RuleSet) Rules() []*Rule { return append([]*Rule(nil), rs.rules...) }

// HasRelationType reports whether name is a declared relation type, as
// declared (RelationType also accepts other spellings).
func (rs *RuleSet) HasRelationType(name string) bool { return rs.relationTypes[name] != nil }

// RelationTypes returns the declared relation type names in declaration order.
func (rs *RuleSet) RelationTypes() []string { return append([]string(nil), rs.relationOrder...) }

// Descendants returns name and every class below it, sorted.
func (rs *RuleSet) Descendants(name string) []string {
	var out []string
	for n, c := range rs.classes {
		if c.IsA(name) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// SplitRelationType splits "Parent::Child" into its two descriptors.
func SplitRelationType(name string) (parent, child string, ok bool) {
	parent, child, ok = strings.Cut(name, "::")
	if !ok || strings.TrimSpace(parent) == "" || strings.TrimSpace(child) == "" || strings.Contains(child, "::") {
		return "", "", false
	}
	return parent, child, true
}

// Children returns the classes that extend name, in declaration order; for
// "" it returns the root classes.
func (rs *RuleSet) Children(name string) []string {
	var out []string
	for _, n := range rs.classOrder {
		c := rs.classes[n]
		if (c.Parent == nil && name == "") || (c.Parent != nil && c.Parent.Name == name) {
			out = append(out, n)
		}
	}
	return out
}

// Source returns the text the rule set was loaded from (for a file that
// extends a pack, the composed file, which names no other pack). Processes
// sharing a store keep it there, so that each can load the same rules; the
// caller must not modify it.
func (rs *RuleSet) Source() []byte { return rs.source }

// Name returns the file name the rule set was loaded as.
func (rs *RuleSet) Name() string { return rs.name }
