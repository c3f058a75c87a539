package engine

import "github.com/irego/irego/identify"

// ClassSummary counts outcomes per class (generate_summary). ServiceNow
// documents two spellings, the schema's (insertedItemCount, ...) and the
// one its REST sample answers with (inserted, ...); both are filled, with
// the same counts.
type ClassSummary struct {
	// The REST sample's keys.
	Inserted   int `json:"inserted"`
	Updated    int `json:"updated"`
	Unchanged  int `json:"unchanged"`
	Skipped    int `json:"skipped"`
	Partial    int `json:"partial"`
	Incomplete int `json:"incomplete"`
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	// AdditionalInserted counts CIs inserted from merged partial payloads
	// (additionalCommittedItems); MergedPartialPayloads the partial
	// payloads merged into the class's items.
	AdditionalInserted    int `json:"additionalInserted"`
	MergedPartialPayloads int `json:"mergedPartialPayloads"`

	// The documented schema's keys.
	InsertedItemCount           int `json:"insertedItemCount"`
	UpdatedItemCount            int `json:"updatedItemCount"`
	UnchangedItemCount          int `json:"unchangedItemCount"`
	SkippedItemCount            int `json:"skippedItemCount"`
	PartialItemCount            int `json:"partialItemCount"`
	IncompleteItemCount         int `json:"incompleteItemCount"`
	ErrorCount                  int `json:"errorCount"`
	WarningCount                int `json:"warningCount"`
	AdditionalInsertedItemCount int `json:"additionalInsertedItemCount"`
}

// summarize counts the outcomes of res per class. An item with errors is
// skipped, or incomplete when it was recorded as such; merged partial
// payloads count once per class however many of its items they fed.
func summarize(res *Result) map[string]*ClassSummary {
	out := map[string]*ClassSummary{}
	of := func(class string) *ClassSummary {
		s := out[class]
		if s == nil {
			s = &ClassSummary{}
			out[class] = s
		}
		return s
	}
	merged := map[string]map[string]bool{}
	mergedInto := func(class string, ids []string) {
		for _, id := range ids {
			if merged[class] == nil {
				merged[class] = map[string]bool{}
			}
			merged[class][id] = true
		}
	}
	for _, it := range res.Items {
		s := of(it.ClassName)
		s.Errors += it.ErrorCount
		s.Warnings += it.WarningCount
		mergedInto(it.ClassName, it.MergedPayloadIDs)
		switch {
		case it.Operation == InsertAsPartial:
			s.Partial++
		case it.Operation == InsertAsIncomplete:
			s.Incomplete++
		case it.ErrorCount > 0:
			s.Skipped++
		case it.Operation == identify.OpInsert:
			s.Inserted++
		case it.Operation == identify.OpNoChange:
			s.Unchanged++
		default:
			s.Updated++
		}
	}
	for _, it := range res.AdditionalCommittedItems {
		s := of(it.ClassName)
		mergedInto(it.ClassName, it.MergedPayloadIDs)
		if it.Operation == identify.OpInsert {
			s.AdditionalInserted++
		}
	}
	for class, s := range out {
		s.MergedPartialPayloads = len(merged[class])
		s.InsertedItemCount, s.UpdatedItemCount, s.UnchangedItemCount = s.Inserted, s.Updated, s.Unchanged
		s.SkippedItemCount, s.PartialItemCount, s.IncompleteItemCount = s.Skipped, s.Partial, s.Incomplete
		s.ErrorCount, s.WarningCount, s.AdditionalInsertedItemCount = s.Errors, s.Warnings, s.AdditionalInserted
	}
	return out
}
