// Package rules is irego's declarative model: the class hierarchy, the
// identification rules (identifier entries with priorities, criterion
// attributes, allow-null and expr conditions; dependencies on a hosting or
// containing class; related entries), and the relation types items may use.
//
// # Basics
//
// Load (or LoadFile) reads a rule file in YAML or JSON, validates it and
// compiles it, expr conditions included, into a *RuleSet. Default returns
// the built-in pack, ServiceNow's CMDB class model with its out-of-box
// rules and standard relation types; DefaultSource its text. The file
// format is documented at the top of load.go:
//
//	relation_types: ["Hosted on::Hosts", {name, suggested}, ...]   # "Parent descriptor::Child descriptor"
//	classes:        [{name, extends, required, values}, ...]
//	identification: [{name, applies_to, independent, entries, depends_on, related}, ...]
//	reconciliation: [{applies_to, attributes, sources, refresh, prefer | policy, update_with_null}, ...]   (reconciliation.go)
//	data_sources:   [{applies_to, source, insert_not_allowed}, ...]
//	reclassification: {upgrade, downgrade, switch, update_without_*, restriction_rules, restrictions}   (reclassification.go)
//	metrics:        {installs, vars, rules: [{metric, name, when, vars, per, value}, ...]}   (metrics.go)
//
// A file that starts with "extends: default" (or another file's path)
// builds on that pack: its sections add items, its change section alters
// named items of the pack and its remove section takes them out; errors
// name the file and line they are in (compose.go). Diff lists what
// changes between two rule sets.
//
// Compiling resolves inheritance once: every Class carries the Rule in
// force (its own or its nearest ancestor's; a subclass's own rule replaces
// the inherited one entirely, related entries included), its Required
// attributes (ancestors' and own) and its Allowed values (a subclass's list
// replaces its parent's for that attribute). A rule's entries are sorted in
// the order they are tried: priority ascending, ties in file order. Each
// Entry has an ID stable across loads, derived from the rule name, the
// entry's position in the file and its attributes.
//
// RelationType finds the declared type a relation spells, in other letter
// case or read the other way round ("Owned by::Owns" for "Owns::Owned
// by", parent and child swapped); identification stores the declared type.
//
// # Errors
//
// A file that fails to load yields an ErrorList of every problem found,
// sorted by line, one per line of the message:
//
//	rules.yaml:14: rule "Hardware Rule": entries[1].attributes: duplicate attribute "name"
//
// # Concurrency and ownership
//
// A RuleSet and everything reachable from it (classes, rules, entries,
// conditions) is immutable after Load and safe for concurrent use. Callers
// must not modify the slices and maps it hands out; accessors that return
// name lists return copies.
package rules
