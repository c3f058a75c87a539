package identify

import (
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Plan is what identification decided for one payload: for every input item
// its target CI, and for every target the values to write. Nothing in a plan
// has been written.
type Plan struct {
	// Items has one entry per input item, in input order.
	Items []*ItemPlan
	// Relations has one entry per input relation, in input order.
	Relations []*RelationPlan
	// Targets are the CIs the payload writes (or leaves unchanged), each once,
	// in processing order (parents before their dependents).
	Targets []*Target
	// Duplicates are the groups of CIs that one identifier entry found
	// together: each should be one CI (a de-duplication task).
	Duplicates []Duplicate
}

// DuplicateOf is the attribute naming the CI a duplicate was merged into
// (ServiceNow's duplicate_of); a CI that has it holds no identity and is
// never matched.
const DuplicateOf = "duplicate_of"

// Duplicate is a group of CIs holding the same values of one entry; a
// de-duplication task names them. With the duplicate threshold reached no
// CI was matched.
type Duplicate struct {
	Entry *rules.Entry
	// SysIDs are oldest first: the first is the one identification matched.
	SysIDs []string
	Values map[string]any
}

// ItemPlan is the outcome for one input item.
type ItemPlan struct {
	Index  int
	Target *Target // nil when the item could not be identified
	// Attempts lists the identifier entries tried for this item, in order.
	Attempts []Attempt
	// Errors are the item's own faults; the target's faults are in Target.Errors.
	Errors   []Issue
	Warnings []Issue
	Related  []*RelatedPlan
}

// Failed reports whether the item, or the CI it identifies, carries an error.
func (ip *ItemPlan) Failed() bool {
	return len(ip.Errors) > 0 || ip.Target == nil || len(ip.Target.Errors) > 0
}

// AllErrors returns the item's errors followed by its target's.
func (ip *ItemPlan) AllErrors() []Issue {
	out := append([]Issue(nil), ip.Errors...)
	if ip.Target != nil {
		out = append(out, ip.Target.Errors...)
	}
	return out
}

// RelatedPlan is the outcome for one related or lookup item
// (items[i].related[j], or items[i].lookup[j] when Lookup is set).
type RelatedPlan struct {
	MainIndex, SubIndex int
	Lookup              bool
	Target              *Target
	Attempts            []Attempt
	Errors              []Issue
	Warnings            []Issue
}

// Failed reports whether the related item or its target carries an error.
func (rp *RelatedPlan) Failed() bool {
	return len(rp.Errors) > 0 || rp.Target == nil || len(rp.Target.Errors) > 0
}

// Target is one CI (or related record) the payload resolves to. Several
// input items that identify the same CI share one Target.
type Target struct {
	SysID string
	// Class is the class to store: the incoming class, or the stored one
	// when a class change is skipped (see reclassify).
	Class *rules.Class
	// Existing is the stored record, nil for an insert; Stored is its
	// stored form, for a write that moves only its discovery times.
	Existing *store.Record
	Stored   []byte
	// Values are the values to store after reconciliation.
	Values map[string]any
	// Masked lists attributes the source reported but may not change;
	// Masks says why for each.
	Masked []string
	Masks  []Mask
	// Owners says which source set each attribute (after this payload).
	Owners map[string]string
	// Scope is the sys_id the identity lives under ("" when independent).
	Scope string
	// Op is the operation: INSERT, UPDATE, UPDATE_WITH_UPGRADE,
	// UPDATE_WITH_DOWNGRADE, UPDATE_WITH_SWITCH or NO_CHANGE.
	Op string
	// Entry is the identifier entry that matched (nil for an insert).
	Entry *rules.Entry
	// IdentityKeys are the index keys the record owns once written.
	IdentityKeys [][]byte
	// Inputs are the input items merged into this target (top-level indexes;
	// for related targets, the related items' positions).
	Inputs  []int
	Related []RelatedRef
	Info    []Issue
	Errors  []Issue
	// Warnings are about the merge of several inputs.
	Warnings []Issue
	// IsRelated marks a related record (e.g. a software install).
	IsRelated bool
	// Reports, when not nil, is what this payload's source has now reported
	// of the attributes under multi-source policies; the engine keeps it.
	Reports *store.Reports

	ownersChanged bool                      // an attribute changed hands without changing value
	seq           int                       // order in which the payload made or met the target
	reports       map[string]*store.Reports // every source's kept reports, by source (see reported)

	parent   *Target // the target this one depends on or hangs under
	fresh    bool    // its sys_id is new from NewSysID: nothing stored names it
	group    []int   // indexes of the items (or related items) merged here
	incoming []incomingValues
}

// RelatedRef names a related item (or a lookup item) by its main and sub index.
type RelatedRef struct {
	MainIndex, SubIndex int
	Lookup              bool
}

// Changed reports whether writing the target changes the store.
func (t *Target) Changed() bool { return t.Op != OpNoChange || t.ownersChanged }

// RelationPlan is the outcome for one input relation.
type RelationPlan struct {
	Index  int
	Type   string
	Parent *Target
	Child  *Target
	// Edge is the stored edge when it exists, or the edge to insert.
	Edge   *store.Edge
	Op     string // INSERT or NO_CHANGE
	Errors []Issue
	// Duplicate is true when an earlier relation of the payload is the same edge.
	Duplicate bool
}

// Attempt is one identifier entry tried for an item.
type Attempt struct {
	AttemptResult           string   `json:"attemptResult"`
	Attributes              []string `json:"attributes"`
	HybridEntryCiAttributes []string `json:"hybridEntryCiAttributes"`
	IdentifierName          string   `json:"identifierName"`
	SearchOnTable           string   `json:"searchOnTable"`
	Info                    string   `json:"info,omitempty"`
	// Values are the values the entry was tried with (for explanations).
	Values map[string]any `json:"-"`
	// Candidate is the CI the entry matched, if any.
	Candidate string `json:"-"`
}
