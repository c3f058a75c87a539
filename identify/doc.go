// Package identify decides, for every item of a payload, which CI it is: an
// existing one, or a new one. It is pure: from a payload, a rule set and a
// read view of the store it builds a Plan, and writes nothing.
//
// # The walk
//
// Items are checked (class, rule, allowed values, relation types), dependent
// items are tied to the one item they depend on through a relation that
// satisfies a hosting or containment rule (MISSING_DEPENDENCY and
// MULTIPLE_DEPENDENCIES otherwise), and then identified parents first. For
// each item the identifier entries run in priority order: an entry whose
// attributes are missing (or whose when-condition is false) is SKIPPED, one
// whose values are indexed by no CI is NO_MATCH, and the first MATCHED entry
// decides. A dependent item is matched only under its parent; a related item
// only under the item it hangs under. No entry matching means a new CI; no
// entry applicable means MISSING_MATCHING_ATTRIBUTES.
//
// # Reconciliation and reclassification
//
// A matched CI's values are reconciled with the rules' reconciliation
// rules: by source priority (static), by content (dynamic: an expr prefer
// condition or a policy; the multi-source policies read every source's
// kept reports of the CI, and the Target's Reports is this source's new
// report, for the engine to keep). A null clears only attributes a static
// rule lists under update_with_null. A match under another class of the
// same identification rule upgrades, downgrades or switches the class, or
// keeps it (info SKIPPED_CLASS_*), or fails (RECLASSIFICATION_NOT_ALLOWED),
// as the rules' reclassification section and the item's flags say.
//
// # Determinism
//
// Items are processed in an order derived from their content, not their
// position, and ties never fall to chance: the same payload with its items
// permuted gives the same plan. Items that identify one CI share a Target;
// with deduplication their values merge, otherwise they fail with
// DUPLICATE_PAYLOAD_RECORDS. A Target whose identity keys would also belong
// to another CI fails with MULTI_MATCH: two CIs never share an identity.
//
// # Concurrency
//
// Build is safe to call concurrently; every call keeps its own state. The
// read view decides consistency: give it the same transaction the plan will
// be written in, so conflicting concurrent writes are detected at commit.
package identify
