package payload

// Payload is one IRE-style input: items, the relations between them, and
// the items' related entries. Values are canonical after Decode: string,
// bool, int64 or float64 (never json.Number, maps or slices); a JSON null is
// kept as nil and means "not reported".
type Payload struct {
	Items     []Item     `json:"items"`
	Relations []Relation `json:"relations,omitempty"`
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

// Related is one element of items[i].related[].
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

// Relation links two top-level items by index (Parent, Child) into Items.
// The internal-id form (parent_id/child_id) is resolved to indexes by Decode.
type Relation struct {
	Type   string `json:"type"`
	Parent int    `json:"parent"`
	Child  int    `json:"child"`
}
