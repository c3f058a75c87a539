// Package payload holds the input of one identification call in the shape
// of ServiceNow's IRE createOrUpdateCI JSON, and decodes it.
//
// # What a payload is
//
// A payload is one JSON object:
//
//	{"items":     [{"className": "cmdb_ci_computer",
//	                "values":    {"name": "Comp - 1", "cpu_count": 1, "virtual": true},
//	                "related":   [{"className": "cmdb_sam_sw_install", "values": {...}}],
//	                "internal_id": "comp1",                  // optional
//	                "sys_object_source_info": {...}},        // optional
//	               ...],
//	 "relations": [{"type": "Virtualized by::Virtualizes", "parent": 0, "child": 1},
//	               {"type": "Runs on::Runs", "parent_id": "vm1", "child_id": "host1"}]}
//
// items is required (it may be empty, up to MaxItems long); className is
// required on every item and related entry. Relations name top-level items
// either by index or by internal_id; Decode resolves the internal-id form
// to indexes, so a decoded Relation always holds two distinct indexes into
// Items. Relations to related entries, lookup entries, display_values and
// non-empty referenceItems are not supported and are rejected;
// sys_rel_source_info is accepted and ignored. An item's settings object
// and its classUpgrade, classDowngrade and classSwitch flags are decoded
// (booleans, or the text "true"/"false"); unknown settings keys are ignored. Any other field is an
// error that names its path.
//
// Decode reports a syntax error with the line and column where the input
// broke ("payload: line 3, column 17: invalid character ..."), and a
// structural error with the path of the offending element
// ("payload: items[2].values.cpu_count: nested objects are not allowed
// ..."). Both are *Error.
//
// # Values
//
// Every value in Item.Values and Related.Values is in canonical form, one
// of:
//
//   - string
//   - bool
//   - int64, for every number that is an integer in int64's range
//     (1, 1.0, 1e0 are all int64(1))
//   - float64, for every other finite number
//   - nil, for JSON null, meaning "reported as empty"
//
// Objects and arrays are not values. Normalize produces this form from Go
// values (for callers that build payloads from other formats), and
// Canonical gives the text of a value used in identity keys and to compare
// values: strings as is, booleans as "true"/"false", integers in decimal,
// other floats by strconv.FormatFloat(f, 'g', -1, 64), nil as "". Values
// that denote the same number have the same canonical text.
//
// # Ownership
//
// Decode and DecodeBytes return a fresh Payload that shares no memory with
// their input; the caller owns it and may change it. The contract for
// consumers (the engine and everything under it) is that they neither
// retain nor mutate a caller's Payload: whatever they keep or change, they
// copy first (Clone makes a deep copy).
package payload
