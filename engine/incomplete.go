package engine

import (
	"strings"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
)

// InsertAsIncomplete is the operation of an item that failed for a reason
// no later payload can fix, recorded as an incomplete item (with partial
// payloads on).
const InsertAsIncomplete = "INSERT_AS_INCOMPLETE"

// foldIncomplete marks the failed items not kept as partial: with partial
// payloads on (kept not nil) they are recorded as incomplete items, whose
// ids are given by item index (none on a dry run).
func (res *Result) foldIncomplete(kept []bool, ids map[int]string) {
	if kept == nil {
		return
	}
	for i := range res.Items {
		it := &res.Items[i]
		if it.ErrorCount == 0 || it.Operation == InsertAsPartial || (i < len(kept) && kept[i]) {
			continue
		}
		it.Operation = InsertAsIncomplete
		if id, ok := ids[i]; ok {
			it.IncompleteSysIDs = []string{id}
			for j := range it.RelatedItems {
				it.RelatedItems[j].IncompleteSysIDs = []string{id}
			}
		}
	}
}

// sourceTable is where IRE looks up source native keys first.
const sourceTable = "sys_object_source"

// withSourceAttempt returns an item's attempts led by the lookup of its
// source native key, as IRE lists it: identifierName "", searchOnTable
// sys_object_source, info "sys_object_source SKIPPED" when the item has no
// native key (or it was not looked up), NO_MATCH or MATCHED when it was.
func withSourceAttempt(attempts []identify.Attempt, si *payload.SourceInfo) []identify.Attempt {
	lead, rest := sourceAttempt(attempts, si)
	out := make([]identify.Attempt, 0, len(rest)+1)
	return append(append(out, lead), rest...)
}

// sourceAttempt splits an item's attempts into the lookup of its source
// native key, as withSourceAttempt lists it, and the attempts after it.
func sourceAttempt(attempts []identify.Attempt, si *payload.SourceInfo) (identify.Attempt, []identify.Attempt) {
	lead := identify.Attempt{AttemptResult: identify.Skipped, Attributes: []string{"source_name", "source_native_key"},
		HybridEntryCiAttributes: []string{}, SearchOnTable: sourceTable}
	rest := attempts
	if len(attempts) > 0 && attempts[0].SearchOnTable == sourceTable {
		lead.AttemptResult, lead.Values, lead.Candidate = attempts[0].AttemptResult, attempts[0].Values, attempts[0].Candidate
		rest = attempts[1:]
	} else if si != nil && strings.TrimSpace(si.SourceNativeKey) != "" && len(attempts) > 0 {
		// Identification went on to the entries: the key found nothing.
		lead.AttemptResult = identify.NoMatch
	}
	switch lead.AttemptResult { // constant texts for the usual results
	case identify.Skipped:
		lead.Info = sourceTable + " " + identify.Skipped
	case identify.NoMatch:
		lead.Info = sourceTable + " " + identify.NoMatch
	case identify.Matched:
		lead.Info = sourceTable + " " + identify.Matched
	default:
		lead.Info = sourceTable + " " + lead.AttemptResult
	}
	return lead, rest
}
