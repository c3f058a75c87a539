package payload

// Payload is one IRE-style input: items, the relations between them, and
// the items' related entries. Values are canonical after Decode: string,
// bool, int64 or float64 (never json.Number, maps or slices); a JSON null is
// kept as nil and means "not reported".
type Payload struct {
	Items     []Item     `json:"items"`
	Relations []Relation `json:"relations,omitempty"`
	// References are the referenceItems: reference attributes filled with
	// the sys_id another item of the payload resolves to.
	References []Reference `json:"referenceItems,omitempty"`
	// Ignored lists the paths of fields the decoder does not know (e.g.
	// "items[0].colour"); they change nothing. Never set by hand.
	Ignored []string `json:"-"`
}

// Reference is one element of referenceItems: once identification knows
// the sys_id of the item named Referenced, it is written into attribute
// Field of the item named ReferencedBy (both internal_ids; either may be a
// top-level, lookup or related item).
type Reference struct {
	Referenced   string `json:"referenced"`
	ReferencedBy string `json:"referencedBy"`
	Field        string `json:"referenceField"`
}

// Item is one element of items[].
type Item struct {
	ClassName string         `json:"className"`
	Values    map[string]any `json:"values"`
	Related   []Related      `json:"related,omitempty"`
	// InternalID is optional; relations may name items by it.
	InternalID string `json:"internal_id,omitempty"`
	// SourceInfo is sys_object_source_info, when given.
	SourceInfo *SourceInfo `json:"sys_object_source_info,omitempty"`
	// Lookup are records of lookup tables (serial numbers, network
	// adapters) that belong to the item and may identify it.
	Lookup []Related `json:"lookup,omitempty"`
	// DisplayValues gives reference attributes by display value instead of
	// sys_id; values given in Values win.
	DisplayValues map[string]any `json:"display_values,omitempty"`
	// Settings are the item's reclassification settings; nil when absent.
	Settings *Settings `json:"settings,omitempty"`
	// ClassUpgrade, ClassDowngrade and ClassSwitch allow (true) or refuse
	// (false) that class change for this item, whatever the rules say; nil
	// when not given.
	ClassUpgrade   *bool `json:"classUpgrade,omitempty"`
	ClassDowngrade *bool `json:"classDowngrade,omitempty"`
	ClassSwitch    *bool `json:"classSwitch,omitempty"`
}

// Settings is an item's settings object. Each flag defaults to false.
type Settings struct {
	// SkipReclassificationRestrictionRules ignores the rules' restrictions.
	SkipReclassificationRestrictionRules bool `json:"skipReclassificationRestrictionRules,omitempty"`
	// UpdateWithout… update the CI's attributes but keep its stored class
	// when the item asks for that class change.
	UpdateWithoutUpgrade   bool `json:"updateWithoutUpgrade,omitempty"`
	UpdateWithoutDowngrade bool `json:"updateWithoutDowngrade,omitempty"`
	UpdateWithoutSwitch    bool `json:"updateWithoutSwitch,omitempty"`
}

// Related is one element of items[i].related[] or items[i].lookup[].
type Related struct {
	ClassName  string         `json:"className"`
	Values     map[string]any `json:"values"`
	InternalID string         `json:"internal_id,omitempty"`
	SourceInfo *SourceInfo    `json:"sys_object_source_info,omitempty"`
}

// SourceInfo names the item in its source's own terms.
type SourceInfo struct {
	SourceName             string `json:"source_name,omitempty"`
	SourceNativeKey        string `json:"source_native_key,omitempty"`
	SourceFeed             string `json:"source_feed,omitempty"`
	SourceRecencyTimestamp string `json:"source_recency_timestamp,omitempty"`
}

// Relation links two items by index (Parent, Child) into Items. The
// internal-id form (parent_id/child_id) is resolved to indexes by Decode; an
// end that names a lookup or related record of an item also sets ParentSub
// or ChildSub.
type Relation struct {
	Type   string `json:"type"`
	Parent int    `json:"parent"`
	Child  int    `json:"child"`
	// ParentSub and ChildSub, when not nil, say the end is a lookup or
	// related record of the item rather than the item itself.
	ParentSub *SubRef `json:"parent_sub,omitempty"`
	ChildSub  *SubRef `json:"child_sub,omitempty"`
	// Invalid, when not empty, says why the relation cannot be used (an
	// index out of range, an unknown internal_id); the payload's other
	// parts are still processed.
	Invalid string `json:"invalid,omitempty"`
}

// SubRef names items[i].lookup[Index] (Lookup) or items[i].related[Index].
type SubRef struct {
	Lookup bool `json:"lookup,omitempty"`
	Index  int  `json:"index"`
}
