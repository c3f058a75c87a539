package engine

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends r as JSON to b: the bytes a json.Encoder with
// SetEscapeHTML(false) writes for r, without its newline. The server
// answers every identify/reconcile call with it; encoding the result by
// reflection was a twentieth of the server's CPU.
// TestResultAppendJSONIsEncodingJSON holds the two to the same bytes.
func (r *Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"items":`...)
	b = appendItems(b, r.Items)
	b = append(b, `,"relations":`...)
	b = appendRelations(b, r.Relations)
	b = append(b, `,"additionalCommittedItems":`...)
	b = appendItems(b, r.AdditionalCommittedItems)
	b = append(b, `,"additionalCommittedRelations":`...)
	b = appendRelations(b, r.AdditionalCommittedRelations)
	b = append(b, `,"hasError":`...)
	b = strconv.AppendBool(b, r.HasError)
	b = append(b, `,"hasWarning":`...)
	b = strconv.AppendBool(b, r.HasWarning)
	if len(r.Summary) > 0 {
		b = append(b, `,"summary":`...)
		b = appendStd(b, r.Summary) // rare: only when asked for
	}
	return append(b, '}')
}

func appendItems(b []byte, items []ItemResult) []byte {
	if items == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		it := &items[i]
		b = append(b, `{"className":`...)
		b = appendString(b, it.ClassName)
		b = append(b, `,"operation":`...)
		b = appendString(b, it.Operation)
		b = append(b, `,"sysId":`...)
		b = appendString(b, it.SysID)
		b = append(b, `,"identifierEntrySysId":`...)
		b = appendString(b, it.IdentifierEntrySysID)
		b = append(b, `,"identificationAttempts":`...)
		b = appendAttempts(b, it.IdentificationAttempts)
		b = append(b, `,"errors":`...)
		b = appendIssues(b, it.Errors)
		b = append(b, `,"errorCount":`...)
		b = strconv.AppendInt(b, int64(it.ErrorCount), 10)
		b = append(b, `,"warnings":`...)
		b = appendIssues(b, it.Warnings)
		b = append(b, `,"warningCount":`...)
		b = strconv.AppendInt(b, int64(it.WarningCount), 10)
		b = append(b, `,"info":`...)
		b = appendInfos(b, it.Info)
		b = append(b, `,"inputIndices":`...)
		b = appendInts(b, it.InputIndices)
		b = append(b, `,"duplicateIndices":`...)
		b = appendInts(b, it.DuplicateIndices)
		b = append(b, `,"maskedAttributes":`...)
		b = appendStrings(b, it.MaskedAttributes)
		b = append(b, `,"relatedItems":`...)
		b = appendRelated(b, it.RelatedItems)
		b = append(b, `,"relatedSysIds":`...)
		b = appendStringPtrs(b, it.RelatedSysIDs)
		b = append(b, `,"mergedPayloadIds":`...)
		b = appendStrings(b, it.MergedPayloadIDs)
		b = append(b, `,"partialSysIds":`...)
		b = appendStrings(b, it.PartialSysIDs)
		b = append(b, `,"incompleteSysIds":`...)
		b = appendStrings(b, it.IncompleteSysIDs)
		b = append(b, `,"markers":`...)
		b = appendStrings(b, it.Markers)
		if it.Explanation != "" {
			b = append(b, `,"explanation":`...)
			b = appendString(b, it.Explanation)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendRelated(b []byte, rs []RelatedResult) []byte {
	if rs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		r := &rs[i]
		b = append(b, `{"className":`...)
		b = appendString(b, r.ClassName)
		b = append(b, `,"operation":`...)
		b = appendString(b, r.Operation)
		b = append(b, `,"sysId":`...)
		b = appendString(b, r.SysID)
		b = append(b, `,"identificationAttempts":`...)
		b = appendAttempts(b, r.IdentificationAttempts)
		b = append(b, `,"errors":`...)
		b = appendIssues(b, r.Errors)
		b = append(b, `,"errorCount":`...)
		b = strconv.AppendInt(b, int64(r.ErrorCount), 10)
		b = append(b, `,"warnings":`...)
		b = appendIssues(b, r.Warnings)
		b = append(b, `,"warningCount":`...)
		b = strconv.AppendInt(b, int64(r.WarningCount), 10)
		b = append(b, `,"inputIndices":`...)
		b = appendRelatedIndices(b, r.InputIndices)
		b = append(b, `,"duplicateIndices":`...)
		b = appendRelatedIndices(b, r.DuplicateIndices)
		b = append(b, `,"mergedPayloadIds":`...)
		b = appendStrings(b, r.MergedPayloadIDs)
		b = append(b, `,"partialSysIds":`...)
		b = appendStrings(b, r.PartialSysIDs)
		b = append(b, `,"incompleteSysIds":`...)
		b = appendStrings(b, r.IncompleteSysIDs)
		b = append(b, `,"markers":`...)
		b = appendStrings(b, r.Markers)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendRelations(b []byte, rs []RelationResult) []byte {
	if rs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		r := &rs[i]
		b = append(b, `{"className":`...)
		b = appendString(b, r.ClassName)
		b = append(b, `,"operation":`...)
		b = appendString(b, r.Operation)
		b = append(b, `,"sysId":`...)
		b = appendString(b, r.SysID)
		b = append(b, `,"type":`...)
		b = appendString(b, r.Type)
		b = append(b, `,"parentSysId":`...)
		b = appendString(b, r.Parent)
		b = append(b, `,"childSysId":`...)
		b = appendString(b, r.Child)
		b = append(b, `,"errors":`...)
		b = appendIssues(b, r.Errors)
		b = append(b, `,"errorCount":`...)
		b = strconv.AppendInt(b, int64(r.ErrorCount), 10)
		b = append(b, `,"inputIndices":`...)
		b = appendInts(b, r.InputIndices)
		b = append(b, `,"identifierEntrySysId":`...)
		b = appendString(b, r.IdentifierEntrySysID)
		b = append(b, `,"mergedPayloadIds":`...)
		b = appendStrings(b, r.MergedPayloadIDs)
		b = append(b, `,"partialSysIds":`...)
		b = appendStrings(b, r.PartialSysIDs)
		b = append(b, `,"incompleteSysIds":`...)
		b = appendStrings(b, r.IncompleteSysIDs)
		b = append(b, `,"markers":`...)
		b = appendStrings(b, r.Markers)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendAttempts(b []byte, as []Attempt) []byte {
	if as == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range as {
		if i > 0 {
			b = append(b, ',')
		}
		a := &as[i]
		b = append(b, `{"attemptResult":`...)
		b = appendString(b, a.AttemptResult)
		b = append(b, `,"attributes":`...)
		b = appendStrings(b, a.Attributes)
		b = append(b, `,"hybridEntryCiAttributes":`...)
		b = appendStrings(b, a.HybridEntryCiAttributes)
		b = append(b, `,"identifierName":`...)
		b = appendString(b, a.IdentifierName)
		b = append(b, `,"searchOnTable":`...)
		b = appendString(b, a.SearchOnTable)
		if a.Info != "" {
			b = append(b, `,"info":`...)
			b = appendString(b, a.Info)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendIssues(b []byte, is []Issue) []byte {
	if is == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range is {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"error":`...)
		b = appendString(b, is[i].Code)
		b = append(b, `,"message":`...)
		b = appendString(b, is[i].Message)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendInfos(b []byte, is []Info) []byte {
	if is == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range is {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"code":`...)
		b = appendString(b, is[i].Code)
		b = append(b, `,"message":`...)
		b = appendString(b, is[i].Message)
		b = append(b, `,"ruleSysId":`...)
		b = appendString(b, is[i].RuleSysID)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendRelatedIndices(b []byte, xs []RelatedIndex) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"mainIndex":`...)
		b = strconv.AppendInt(b, int64(x.MainIndex), 10)
		b = append(b, `,"subIndex":`...)
		b = strconv.AppendInt(b, int64(x.SubIndex), 10)
		if x.Lookup {
			b = append(b, `,"lookup":true`...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendInts(b []byte, xs []int) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, ']')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendStringPtrs(b []byte, ss []*string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		if s == nil {
			b = append(b, "null"...)
		} else {
			b = appendString(b, *s)
		}
	}
	return append(b, ']')
}

// appendString quotes s as encoding/json does without HTML escaping. The
// usual text (printable ASCII but for the quote and the backslash) is
// copied as it is; anything else goes through encoding/json itself, whose
// escapes (control characters, invalid UTF-8, U+2028 and U+2029) this
// need not repeat.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			continue
		}
		if c >= utf8.RuneSelf && plainUTF8(s[i:]) {
			break // the rest is plain too
		}
		return appendStd(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainUTF8 says whether s, from a byte of 0x80 or more on, is valid UTF-8
// that encoding/json copies as it is: printable ASCII but for the quote
// and the backslash, and runes other than U+2028 and U+2029.
func plainUTF8(s string) bool {
	for _, r := range s {
		switch {
		case r == utf8.RuneError, r == '\u2028', r == '\u2029':
			return false // invalid UTF-8 (or U+FFFD itself: encoding/json decides)
		case r < utf8.RuneSelf && (r < 0x20 || r == '"' || r == '\\'):
			return false
		}
	}
	return true
}

// appendStd appends v as a json.Encoder with SetEscapeHTML(false) writes
// it, without the newline.
func appendStd(b []byte, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(b, "null"...) // not reached: strings and counts always encode
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
