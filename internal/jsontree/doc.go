// Package jsontree reads a JSON text in one pass and without reflection.
// Check applies the rules api.CheckJSON enforces (every string valid UTF-8
// with no escaped lone surrogate, no object with two keys equal once
// lower-cased) and names the first field that breaks one. Parse reads a
// text that keeps them into the tree encoding/json decodes it into with
// UseNumber (map[string]any, []any, string, json.Number, bool, nil); any
// other text it hands back, for encoding/json to decode or refuse with its
// positioned errors.
package jsontree
