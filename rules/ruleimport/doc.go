// Package ruleimport turns an instance's CMDB model, read through
// ServiceNow's Table API (an export directory or a live instance, see
// package tableapi), into an irego rule file.
//
// It reads these tables, each optional:
//
//	sys_db_object                    classes: name, super_class (reference), label
//	sys_dictionary                   columns: name (table), element; used to check criterion attributes
//	cmdb_identifier                  rules: name, applies_to, independent, active
//	cmdb_identifier_entry            entries: identifier (reference), table (search on table),
//	                                 attributes (comma list), order or priority, active,
//	                                 allow_null_attribute, allow_fallback, exact_count_match,
//	                                 hybrid_entry_ci_criterion_attributes, optional_condition
//	cmdb_related_entry               related entries: identifier, table, referenced_field,
//	                                 attributes, order or priority, active, allow_null_attribute
//	cmdb_rel_type                    relation types: name ("Runs on::Runs") or parent_descriptor
//	                                 and child_descriptor
//	cmdb_reconciliation_definition   reconciliation: applies_to, attributes (empty: all),
//	                                 discovery_source, priority, active, update_with_null
//	cmdb_datasource_refresh          data refresh rules: applies_to, discovery_source, duration,
//	(or cmdb_datasource_staleness)   active; a refresh period for that source's reconciliation
//
// Import returns the rule file and every record it could not translate,
// named by table and sys_id with the reason. The file extends the default
// pack when that is shorter than a standalone file (or always is
// standalone on request); either way rules.Load accepts it.
//
// What ServiceNow does not say, the default pack supplies: a dependent
// rule's hosting or containment rules (ServiceNow keeps them in
// cmdb_metadata_hosting and cmdb_metadata_containment, which are not read)
// are those of the default pack's rule for the class, and an entry the
// default pack marks unique (no two CIs may hold its values) keeps that
// mark. Optional conditions in encoded query syntax become filter
// expressions where they use only AND and the common operators.
package ruleimport
