package api

import (
	"encoding/json"

	"github.com/irego/irego/internal/jsontree"
)

// CheckJSON refuses what encoding/json would resolve silently in a valid
// JSON text: a string that is not valid UTF-8 (or escapes a lone
// surrogate), which json would turn into U+FFFD so that two different
// byte strings become one; a key given twice in one object, of which json
// keeps the last; and two keys of one object that differ only in case, of
// which json fills one struct field with either. The error names the field
// by its path (items[0].values.name). Text that is not JSON at all passes:
// the decoder reports it with its position.
func CheckJSON(b []byte) error {
	fault, ok := jsontree.Check(b)
	// A fault counts only in a JSON text: reading may have stopped at it
	// before text further on that is not JSON, which the decoder reports.
	if ok || fault == nil || !json.Valid(b) {
		return nil
	}
	return &JSONFieldError{Path: fault.Path, Reason: fault.Reason}
}

// JSONFieldError is a field CheckJSON refuses.
type JSONFieldError struct {
	Path   string // e.g. items[0].values.name; "" for the whole text
	Reason string
}

// Error names the field and why it was refused.
func (e *JSONFieldError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return "field " + e.Path + ": " + e.Reason
}
