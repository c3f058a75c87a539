package rules

import (
	"strconv"
	"strings"
)

// Error is one problem in a rule file. Its message points at the offending
// node: "file:line: rule "X": field: reason".
type Error struct {
	File string
	// Line is 1-based; 0 only for the few YAML syntax errors the parser
	// cannot place.
	Line int
	// Rule names the identification rule at fault, if any.
	Rule string
	// Class names the class section at fault, if any.
	Class string
	// Field is the path of the offending key within the rule, the class or
	// the file, e.g. "entries[1].attributes"; empty when the node itself is
	// at fault.
	Field  string
	Reason string
}

// Error is file:line: message, with the offending text when known.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	switch {
	case e.Rule != "":
		b.WriteString("rule " + strconv.Quote(e.Rule) + ": ")
	case e.Class != "":
		b.WriteString("class " + strconv.Quote(e.Class) + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// ErrorList is every problem Load found, sorted by line. Its message has
// one line per problem, so the first line is the first fault.
type ErrorList []*Error

// Error joins the errors, one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
