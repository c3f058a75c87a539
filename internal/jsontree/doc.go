// Package jsontree reads a JSON text into the tree encoding/json decodes it
// into with UseNumber (map[string]any, []any, string, json.Number, bool,
// nil) in one pass and without reflection. It takes only texts it can vouch
// for: one JSON value, every string valid UTF-8 with no escaped lone
// surrogate, no object with two keys equal once lower-cased. Anything else
// it hands back, for encoding/json and api.CheckJSON to decode or refuse
// with their positioned errors.
package jsontree
