// Package engine is irego's facade: the one package a Go program imports to
// identify, reconcile and store configuration items.
//
// # Basics
//
//	e, err := engine.Open("data", engine.Options{})   // Badger on disk, default rules
//	defer e.Close()
//	p, err := payload.DecodeBytes(body)
//	res, err := e.Apply(ctx, "ServiceNow", p, engine.DefaultApplyOptions())
//	ci, err := e.Get(ctx, res.Items[0].SysID)
//
// Apply identifies every item (package identify), reconciles what it reports
// with what is stored, and writes records, identity index entries and edges
// in one store transaction. Identify does the same and writes nothing.
// Faults in a payload are reported per item in the Result in the shape of
// ServiceNow's IRE output; a non-nil error means the store failed. A
// payload's data source must be one the engine accepts (Options.Sources,
// DefaultSources, and those the rule set names); the engine keeps each CI's
// discovery_source, first_discovered and last_discovered itself.
//
// # Concurrency
//
// An Engine is safe for concurrent use. When two payloads race to create the
// same CI, one commit conflicts and that payload is identified again from
// scratch, so it finds the CI the other created: one CI, never two.
//
// # Rules
//
// The store records the rules it is used with (ReadStoredRules). On a
// store several processes share (PostgreSQL), Open refuses other rules
// with a RulesMismatchError unless Options.AdoptStoredRules; ChangeRules
// changes the rules for every process: it rebuilds the indexes once, under
// a lease in the store that another process takes over when it expires,
// and running engines adopt the new rules without a restart (every write
// reads the store's rule record first; Rules returns the rules in force).
// Writes meanwhile fail with ErrRulesChanging. A Badger store belongs to
// one process, so Open with other rules changes them there.
//
// # Duplicates
//
// When an identifier entry finds several CIs, Apply records a
// de-duplication task naming them, in the same transaction, once per open
// group (DuplicateTasks, DuplicateTask, DismissDuplicates); ScanDuplicates
// finds the groups a store already holds. MergeDuplicates folds a task's
// CIs into one: values, relations, related records, dependent CIs,
// identities and native keys go to the main CI, the others are retired
// with duplicate_of set (never matched again) or deleted.
//
// # Bulk loads
//
// Loader loads another CMDB's records as they are, keeping their sys_ids
// (package transfer reads ServiceNow exports into it): CIs, related
// records, relations and native keys in batched transactions, then Index
// builds the identity and secondary indexes with the engine's rules and
// opens de-duplication tasks for CIs that fill a unique identity alike. It
// records its progress in the store, so an interrupted load resumes. Load
// into a store nothing else writes to meanwhile.
//
// # Change events
//
// Every committed change of a CI appends an Event in the same transaction
// (a transactional outbox), numbered in commit order by one counter per
// store; Events follows them, ReadEvents reads them, and they are kept for
// Options.EventRetention. A record's Version is the number of its last
// event; IfVersions in ApplyOptions, Removal and DeleteOptions make a
// write conditional on it (ErrVersionMismatch).
//
// # Ownership
//
// Apply neither modifies nor retains the payload it is given. Values in
// results and CIs are fresh copies the caller owns.
package engine
