package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
)

// Unknown is the sys_id reported when an item has none, as IRE reports it.
const Unknown = "Unknown"

// Issue is an error or warning: {"error": CODE, "message": "..."}.
type Issue = identify.Issue

// Attempt is one identifier entry tried for an item.
type Attempt = identify.Attempt

// Info is a note about a skipped reclassification.
type Info struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RuleSysID string `json:"ruleSysId"`
}

// Result is the IRE output object for one payload.
type Result struct {
	Items                        []ItemResult             `json:"items"`
	Relations                    []RelationResult         `json:"relations"`
	AdditionalCommittedItems     []ItemResult             `json:"additionalCommittedItems"`
	AdditionalCommittedRelations []RelationResult         `json:"additionalCommittedRelations"`
	HasError                     bool                     `json:"hasError"`
	HasWarning                   bool                     `json:"hasWarning"`
	Summary                      map[string]*ClassSummary `json:"summary,omitempty"`
}

// ItemResult is the outcome of one input item.
type ItemResult struct {
	ClassName              string          `json:"className"`
	Operation              string          `json:"operation"`
	SysID                  string          `json:"sysId"`
	IdentifierEntrySysID   string          `json:"identifierEntrySysId"`
	IdentificationAttempts []Attempt       `json:"identificationAttempts"`
	Errors                 []Issue         `json:"errors"`
	ErrorCount             int             `json:"errorCount"`
	Warnings               []Issue         `json:"warnings"`
	WarningCount           int             `json:"warningCount"`
	Info                   []Info          `json:"info"`
	InputIndices           []int           `json:"inputIndices"`
	DuplicateIndices       []int           `json:"duplicateIndices"`
	MaskedAttributes       []string        `json:"maskedAttributes"`
	RelatedItems           []RelatedResult `json:"relatedItems"`
	// AdditionalRelatedItems are the outcomes of lookup and related records
	// that merged partial payloads added to the item.
	AdditionalRelatedItems []RelatedResult `json:"additionalRelatedItems,omitempty"`
	// RelatedSysIDs are the sys_ids of the item's lookup records, in the
	// payload's order; null for one not (yet) stored.
	RelatedSysIDs    []*string `json:"relatedSysIds"`
	MergedPayloadIDs []string  `json:"mergedPayloadIds"`
	// PartialSysIDs names the partial payload the item was kept in
	// (INSERT_AS_PARTIAL); IncompleteSysIDs the incomplete item recorded
	// for it (INSERT_AS_INCOMPLETE).
	PartialSysIDs    []string `json:"partialSysIds"`
	IncompleteSysIDs []string `json:"incompleteSysIds"`
	Markers          []string `json:"markers"`
	// Explanation tells how the item was identified and reconciled, when
	// the options ask for it.
	Explanation string `json:"explanation,omitempty"`
}

// RelatedIndex locates a related item, items[MainIndex].related[SubIndex],
// or with Lookup a lookup item, items[MainIndex].lookup[SubIndex].
type RelatedIndex struct {
	MainIndex int  `json:"mainIndex"`
	SubIndex  int  `json:"subIndex"`
	Lookup    bool `json:"lookup,omitempty"`
}

// RelatedResult is the outcome of one related item.
type RelatedResult struct {
	ClassName              string         `json:"className"`
	Operation              string         `json:"operation"`
	SysID                  string         `json:"sysId"`
	IdentificationAttempts []Attempt      `json:"identificationAttempts"`
	Errors                 []Issue        `json:"errors"`
	ErrorCount             int            `json:"errorCount"`
	Warnings               []Issue        `json:"warnings"`
	WarningCount           int            `json:"warningCount"`
	InputIndices           []RelatedIndex `json:"inputIndices"`
	DuplicateIndices       []RelatedIndex `json:"duplicateIndices"`
	MergedPayloadIDs       []string       `json:"mergedPayloadIds"`
	PartialSysIDs          []string       `json:"partialSysIds"`
	IncompleteSysIDs       []string       `json:"incompleteSysIds"`
	Markers                []string       `json:"markers"`
}

// RelationResult is the outcome of one input relation.
type RelationResult struct {
	ClassName            string   `json:"className"`
	Operation            string   `json:"operation"`
	SysID                string   `json:"sysId"`
	Type                 string   `json:"type"`
	Parent               string   `json:"parentSysId"`
	Child                string   `json:"childSysId"`
	Errors               []Issue  `json:"errors"`
	ErrorCount           int      `json:"errorCount"`
	InputIndices         []int    `json:"inputIndices"`
	IdentifierEntrySysID string   `json:"identifierEntrySysId"`
	MergedPayloadIDs     []string `json:"mergedPayloadIds"`
	PartialSysIDs        []string `json:"partialSysIds"`
	IncompleteSysIDs     []string `json:"incompleteSysIds"`
	Markers              []string `json:"markers"`
}

// buildResult renders a plan. committed says whether its writes were
// stored; a dry run reports new CIs with the sys_id "Unknown".
func buildResult(pl *identify.Plan, p *payload.Payload, committed bool) *Result {
	res := &Result{Items: []ItemResult{}, Relations: []RelationResult{},
		AdditionalCommittedItems: []ItemResult{}, AdditionalCommittedRelations: []RelationResult{}}
	for _, ip := range pl.Items {
		ir := ItemResult{ClassName: p.Items[ip.Index].ClassName, Operation: identify.OpNoChange, SysID: Unknown,
			IdentifierEntrySysID: Unknown, IdentificationAttempts: withSourceAttempt(ip.Attempts, p.Items[ip.Index].SourceInfo), Info: []Info{},
			InputIndices: []int{ip.Index}, DuplicateIndices: []int{}, MaskedAttributes: []string{},
			RelatedItems: []RelatedResult{}, MergedPayloadIDs: []string{}, PartialSysIDs: []string{}, IncompleteSysIDs: []string{}, Markers: []string{}}
		ir.Errors = nonNil(ip.AllErrors())
		ir.Warnings = nonNil(ip.Warnings)
		if t := ip.Target; t != nil {
			if t.Class != nil {
				ir.ClassName = t.Class.Name
			}
			ir.InputIndices = sortedCopy(t.Inputs)
			for _, i := range t.Inputs {
				if i != ip.Index {
					ir.DuplicateIndices = append(ir.DuplicateIndices, i)
				}
			}
			ir.Warnings = append(ir.Warnings, t.Warnings...)
			if t.Existing != nil {
				ir.SysID = t.SysID
			}
			if !ip.Failed() {
				ir.Operation = t.Op
				ir.MaskedAttributes = nonNil(t.Masked)
				if t.Existing == nil && committed {
					ir.SysID = t.SysID
				}
				if t.Entry != nil {
					ir.IdentifierEntrySysID = t.Entry.ID
				}
				for _, in := range t.Info {
					ir.Info = append(ir.Info, Info{Code: in.Code, Message: in.Message, RuleSysID: in.RuleSysID})
				}
			}
		}
		for _, rp := range ip.Related {
			ir.RelatedItems = append(ir.RelatedItems, relatedResult(rp, committed))
		}
		sort.Slice(ir.RelatedItems, func(a, b int) bool { // lookup items first, as the payload lists them
			x, y := ir.RelatedItems[a].InputIndices[0], ir.RelatedItems[b].InputIndices[0]
			if x.Lookup != y.Lookup {
				return x.Lookup
			}
			return x.SubIndex < y.SubIndex
		})
		ir.RelatedSysIDs = lookupSysIDs(ip, committed)
		res.Items = append(res.Items, ir)
	}
	for _, rp := range pl.Relations {
		rr := RelationResult{ClassName: "cmdb_rel_ci", Operation: identify.OpNoChange, SysID: Unknown, Type: rp.Type,
			Errors: nonNil(rp.Errors), InputIndices: []int{rp.Index}, IdentifierEntrySysID: Unknown,
			MergedPayloadIDs: []string{}, PartialSysIDs: []string{}, IncompleteSysIDs: []string{}, Markers: []string{}}
		if len(rp.Errors) == 0 && rp.Edge != nil {
			rr.Operation = rp.Op
			rr.Parent, rr.Child = endSysID(rp.Parent, rp.Edge.Parent, committed), endSysID(rp.Child, rp.Edge.Child, committed)
			if rp.Op != identify.OpInsert || committed {
				rr.SysID = rp.Edge.SysID
			}
		}
		res.Relations = append(res.Relations, rr)
	}
	res.tally()
	return res
}

// tally sets the error and warning counts of items and relations, and
// hasError/hasWarning from them (related items count themselves).
func (res *Result) tally() {
	res.HasError, res.HasWarning = false, false
	for i := range res.Items {
		it := &res.Items[i]
		it.ErrorCount, it.WarningCount = len(it.Errors), len(it.Warnings)
		res.HasError = res.HasError || it.ErrorCount > 0
		res.HasWarning = res.HasWarning || it.WarningCount > 0
		for _, r := range it.RelatedItems {
			res.HasError = res.HasError || r.ErrorCount > 0
			res.HasWarning = res.HasWarning || r.WarningCount > 0
		}
	}
	for i := range res.Relations {
		res.Relations[i].ErrorCount = len(res.Relations[i].Errors)
		res.HasError = res.HasError || res.Relations[i].ErrorCount > 0
	}
}

// foldPartials reports the items kept as partial payload pp as warnings
// (operation INSERT_AS_PARTIAL), names the partial payloads merged into
// each item, and moves the outcome of items and relations that came from
// merged partial payloads to additionalCommittedItems/Relations.
func (res *Result) foldPartials(m *merged, kept []bool, pp *PartialPayload) {
	for i := range res.Items {
		it := &res.Items[i]
		it.MergedPayloadIDs = append(it.MergedPayloadIDs, m.mergedIDs[i]...)
		if own, ok := m.own[i]; ok {
			it.splitRelated(own)
		}
		if kept != nil && kept[i] {
			note := Issue{Code: InsertAsPartial, Message: fmt.Sprintf("item %d (%s): kept as partial payload %s until a later payload supplies what is missing", i, it.ClassName, pp.ID)}
			it.Warnings = append(append(it.Warnings, it.Errors...), note)
			it.Errors, it.Operation, it.SysID = []Issue{}, InsertAsPartial, Unknown
			it.PartialSysIDs = []string{pp.ID}
			for j := range it.RelatedItems {
				it.RelatedItems[j].PartialSysIDs = []string{pp.ID}
			}
		}
	}
	keptEnd := func(i int) bool { return i >= 0 && i < len(kept) && kept[i] }
	for k := range res.Relations {
		rel := m.p.Relations[k]
		if r := &res.Relations[k]; kept != nil && r.ErrorCount > 0 && (keptEnd(rel.Parent) || keptEnd(rel.Child)) {
			r.Errors, r.Operation, r.PartialSysIDs = []Issue{}, InsertAsPartial, []string{pp.ID}
		}
	}
	if len(res.Items) > m.n {
		for _, it := range res.Items[m.n:] {
			if it.Operation != InsertAsPartial && len(it.Errors) == 0 {
				res.AdditionalCommittedItems = append(res.AdditionalCommittedItems, it)
			}
		}
		res.Items = res.Items[:m.n]
	}
	if len(res.Relations) > m.nRel {
		for _, r := range res.Relations[m.nRel:] {
			if r.Operation != InsertAsPartial && len(r.Errors) == 0 {
				res.AdditionalCommittedRelations = append(res.AdditionalCommittedRelations, r)
			}
		}
		res.Relations = res.Relations[:m.nRel]
	}
	res.tally()
}

// splitRelated moves the outcomes of records that came from partial
// payloads (after the item's own ones) to additionalRelatedItems, and leaves
// their indices out of the outcomes of the item's own records. A record
// from a partial payload found to be one of the item's own is reported
// with it only.
func (it *ItemResult) splitRelated(own ownRecords) {
	isOwn := func(ri RelatedIndex) bool {
		if ri.Lookup {
			return ri.SubIndex < own.lookup
		}
		return ri.SubIndex < own.related
	}
	notOwn := func(ri RelatedIndex) bool { return !isOwn(ri) }
	var mine []RelatedResult
	for _, r := range it.RelatedItems {
		inputs := slices.DeleteFunc(slices.Clone(r.InputIndices), notOwn)
		switch {
		case isOwn(r.self()):
			r.InputIndices = inputs
			r.DuplicateIndices = slices.DeleteFunc(slices.Clone(r.DuplicateIndices), notOwn)
			mine = append(mine, r)
		case len(inputs) == 0:
			it.AdditionalRelatedItems = append(it.AdditionalRelatedItems, r)
		}
	}
	it.RelatedItems = nonNil(mine)
	if len(it.RelatedSysIDs) > own.lookup {
		it.RelatedSysIDs = it.RelatedSysIDs[:own.lookup]
	}
}

// self is the input a related outcome was made for: the one of its inputs
// that is not a duplicate.
func (r *RelatedResult) self() RelatedIndex {
	for _, ri := range r.InputIndices {
		if !slices.Contains(r.DuplicateIndices, ri) {
			return ri
		}
	}
	return r.InputIndices[0]
}

// madeUp lists the sys_ids a dry run gave the CIs and records it would
// create: they name nothing.
func madeUp(pl *identify.Plan) []string {
	var out []string
	add := func(t *identify.Target) {
		if t != nil && t.Existing == nil && t.SysID != "" {
			out = append(out, t.SysID)
		}
	}
	for _, t := range pl.Targets {
		add(t)
	}
	for _, ip := range pl.Items {
		add(ip.Target)
		for _, rp := range ip.Related {
			add(rp.Target)
		}
	}
	return out
}

// forget names the CIs of ids "Unknown" in every message, attempt and
// note of res, as a dry run names them in sys_id fields.
func (res *Result) forget(ids []string) {
	if len(ids) == 0 {
		return
	}
	pairs := make([]string, 0, 2*len(ids))
	for _, id := range ids {
		pairs = append(pairs, id, Unknown)
	}
	r := strings.NewReplacer(pairs...)
	issues := func(list []Issue) {
		for i := range list {
			list[i].Message = r.Replace(list[i].Message)
		}
	}
	attempts := func(list []Attempt) {
		for i := range list {
			list[i].Info, list[i].Candidate = r.Replace(list[i].Info), r.Replace(list[i].Candidate)
		}
	}
	for _, items := range [][]ItemResult{res.Items, res.AdditionalCommittedItems} {
		for i := range items {
			it := &items[i]
			issues(it.Errors)
			issues(it.Warnings)
			attempts(it.IdentificationAttempts)
			for j := range it.Info {
				it.Info[j].Message = r.Replace(it.Info[j].Message)
			}
			it.Explanation = r.Replace(it.Explanation)
			for j := range it.RelatedItems {
				issues(it.RelatedItems[j].Errors)
				issues(it.RelatedItems[j].Warnings)
				attempts(it.RelatedItems[j].IdentificationAttempts)
			}
		}
	}
	for _, rels := range [][]RelationResult{res.Relations, res.AdditionalCommittedRelations} {
		for i := range rels {
			issues(rels[i].Errors)
		}
	}
}

// endSysID is the sys_id reported for a relation's end: "Unknown" in a
// dry run when the end is a CI the run would create.
func endSysID(t *identify.Target, sysID string, committed bool) string {
	if !committed && t != nil && t.Existing == nil {
		return Unknown
	}
	return sysID
}

// lookupSysIDs lists the sys_ids of an item's lookup records by position.
func lookupSysIDs(ip *identify.ItemPlan, committed bool) []*string {
	out := []*string{}
	for _, rp := range ip.Related {
		if !rp.Lookup {
			continue
		}
		for len(out) <= rp.SubIndex {
			out = append(out, nil)
		}
		if t := rp.Target; t != nil && !rp.Failed() && (t.Existing != nil || committed) {
			id := t.SysID
			out[rp.SubIndex] = &id
		}
	}
	return out
}

func relatedResult(rp *identify.RelatedPlan, committed bool) RelatedResult {
	self := RelatedIndex{rp.MainIndex, rp.SubIndex, rp.Lookup}
	rr := RelatedResult{Operation: identify.OpNoChange, SysID: Unknown, IdentificationAttempts: nonNil(rp.Attempts),
		Errors: nonNil(rp.Errors), Warnings: nonNil(rp.Warnings), InputIndices: []RelatedIndex{self}, DuplicateIndices: []RelatedIndex{},
		MergedPayloadIDs: []string{}, PartialSysIDs: []string{}, IncompleteSysIDs: []string{}, Markers: []string{}}
	if t := rp.Target; t != nil {
		rr.ClassName = t.Class.Name
		rr.Errors = append(rr.Errors, t.Errors...)
		rr.Warnings = append(rr.Warnings, t.Warnings...)
		rr.InputIndices = nil
		for _, ref := range t.Related {
			ri := RelatedIndex{ref.MainIndex, ref.SubIndex, ref.Lookup}
			rr.InputIndices = append(rr.InputIndices, ri)
			if ri != self {
				rr.DuplicateIndices = append(rr.DuplicateIndices, ri)
			}
		}
		if t.Existing != nil {
			rr.SysID = t.SysID
		}
		if !rp.Failed() {
			rr.Operation = t.Op
			if t.Existing == nil && committed {
				rr.SysID = t.SysID
			}
		}
	}
	rr.ErrorCount, rr.WarningCount = len(rr.Errors), len(rr.Warnings)
	return rr
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return append([]T(nil), s...)
}

func sortedCopy(s []int) []int {
	out := append([]int(nil), s...)
	sort.Ints(out)
	return out
}
