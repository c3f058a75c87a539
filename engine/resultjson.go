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
	b = appendList(b, r.Items, appendItem)
	b = append(b, `,"relations":`...)
	b = appendList(b, r.Relations, appendRelation)
	b = append(b, `,"additionalCommittedItems":`...)
	b = appendList(b, r.AdditionalCommittedItems, appendItem)
	b = append(b, `,"additionalCommittedRelations":`...)
	b = appendList(b, r.AdditionalCommittedRelations, appendRelation)
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

// appendList appends xs as a JSON array, each element by appendOne; nil is
// null, as encoding/json has it.
func appendList[T any](b []byte, xs []T, appendOne func([]byte, *T) []byte) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOne(b, &xs[i])
	}
	return append(b, ']')
}

func appendItem(b []byte, it *ItemResult) []byte {
	b = appendHead(b, it.ClassName, it.Operation, it.SysID)
	b = append(b, `,"identifierEntrySysId":`...)
	b = appendString(b, it.IdentifierEntrySysID)
	b = append(b, `,"identificationAttempts":`...)
	b = appendList(b, it.IdentificationAttempts, appendAttempt)
	b = appendIssueLists(b, it.Errors, it.ErrorCount, it.Warnings, it.WarningCount)
	b = append(b, `,"info":`...)
	b = appendList(b, it.Info, appendInfo)
	b = append(b, `,"inputIndices":`...)
	b = appendList(b, it.InputIndices, appendInt)
	b = append(b, `,"duplicateIndices":`...)
	b = appendList(b, it.DuplicateIndices, appendInt)
	b = append(b, `,"maskedAttributes":`...)
	b = appendList(b, it.MaskedAttributes, appendStringAt)
	b = append(b, `,"relatedItems":`...)
	b = appendList(b, it.RelatedItems, appendRelated)
	if len(it.AdditionalRelatedItems) > 0 {
		b = append(b, `,"additionalRelatedItems":`...)
		b = appendList(b, it.AdditionalRelatedItems, appendRelated)
	}
	b = append(b, `,"relatedSysIds":`...)
	b = appendList(b, it.RelatedSysIDs, appendStringPtr)
	b = appendTail(b, it.MergedPayloadIDs, it.PartialSysIDs, it.IncompleteSysIDs, it.Markers)
	if it.Explanation != "" {
		b = append(b, `,"explanation":`...)
		b = appendString(b, it.Explanation)
	}
	return append(b, '}')
}

func appendRelated(b []byte, r *RelatedResult) []byte {
	b = appendHead(b, r.ClassName, r.Operation, r.SysID)
	b = append(b, `,"identificationAttempts":`...)
	b = appendList(b, r.IdentificationAttempts, appendAttempt)
	b = appendIssueLists(b, r.Errors, r.ErrorCount, r.Warnings, r.WarningCount)
	b = append(b, `,"inputIndices":`...)
	b = appendList(b, r.InputIndices, appendRelatedIndex)
	b = append(b, `,"duplicateIndices":`...)
	b = appendList(b, r.DuplicateIndices, appendRelatedIndex)
	b = appendTail(b, r.MergedPayloadIDs, r.PartialSysIDs, r.IncompleteSysIDs, r.Markers)
	return append(b, '}')
}

func appendRelation(b []byte, r *RelationResult) []byte {
	b = appendHead(b, r.ClassName, r.Operation, r.SysID)
	b = append(b, `,"type":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"parentSysId":`...)
	b = appendString(b, r.Parent)
	b = append(b, `,"childSysId":`...)
	b = appendString(b, r.Child)
	b = append(b, `,"errors":`...)
	b = appendList(b, r.Errors, appendIssue)
	b = append(b, `,"errorCount":`...)
	b = strconv.AppendInt(b, int64(r.ErrorCount), 10)
	b = append(b, `,"inputIndices":`...)
	b = appendList(b, r.InputIndices, appendInt)
	b = append(b, `,"identifierEntrySysId":`...)
	b = appendString(b, r.IdentifierEntrySysID)
	b = appendTail(b, r.MergedPayloadIDs, r.PartialSysIDs, r.IncompleteSysIDs, r.Markers)
	return append(b, '}')
}

// appendHead opens a result's object with the fields every result begins
// with.
func appendHead(b []byte, class, op, sysID string) []byte {
	b = append(b, `{"className":`...)
	b = appendString(b, class)
	b = append(b, `,"operation":`...)
	b = appendString(b, op)
	b = append(b, `,"sysId":`...)
	return appendString(b, sysID)
}

// appendIssueLists appends an item's errors and warnings with their counts.
func appendIssueLists(b []byte, errs []Issue, nErrs int, warns []Issue, nWarns int) []byte {
	b = append(b, `,"errors":`...)
	b = appendList(b, errs, appendIssue)
	b = append(b, `,"errorCount":`...)
	b = strconv.AppendInt(b, int64(nErrs), 10)
	b = append(b, `,"warnings":`...)
	b = appendList(b, warns, appendIssue)
	b = append(b, `,"warningCount":`...)
	return strconv.AppendInt(b, int64(nWarns), 10)
}

// appendTail appends the lists every result ends with.
func appendTail(b []byte, merged, partial, incomplete, markers []string) []byte {
	b = append(b, `,"mergedPayloadIds":`...)
	b = appendList(b, merged, appendStringAt)
	b = append(b, `,"partialSysIds":`...)
	b = appendList(b, partial, appendStringAt)
	b = append(b, `,"incompleteSysIds":`...)
	b = appendList(b, incomplete, appendStringAt)
	b = append(b, `,"markers":`...)
	return appendList(b, markers, appendStringAt)
}

func appendAttempt(b []byte, a *Attempt) []byte {
	b = append(b, `{"attemptResult":`...)
	b = appendString(b, a.AttemptResult)
	b = append(b, `,"attributes":`...)
	b = appendList(b, a.Attributes, appendStringAt)
	b = append(b, `,"hybridEntryCiAttributes":`...)
	b = appendList(b, a.HybridEntryCiAttributes, appendStringAt)
	b = append(b, `,"identifierName":`...)
	b = appendString(b, a.IdentifierName)
	b = append(b, `,"searchOnTable":`...)
	b = appendString(b, a.SearchOnTable)
	if a.Info != "" {
		b = append(b, `,"info":`...)
		b = appendString(b, a.Info)
	}
	return append(b, '}')
}

func appendIssue(b []byte, is *Issue) []byte {
	b = append(b, `{"error":`...)
	b = appendString(b, is.Code)
	b = append(b, `,"message":`...)
	b = appendString(b, is.Message)
	return append(b, '}')
}

func appendInfo(b []byte, in *Info) []byte {
	b = append(b, `{"code":`...)
	b = appendString(b, in.Code)
	b = append(b, `,"message":`...)
	b = appendString(b, in.Message)
	b = append(b, `,"ruleSysId":`...)
	b = appendString(b, in.RuleSysID)
	return append(b, '}')
}

func appendRelatedIndex(b []byte, x *RelatedIndex) []byte {
	b = append(b, `{"mainIndex":`...)
	b = strconv.AppendInt(b, int64(x.MainIndex), 10)
	b = append(b, `,"subIndex":`...)
	b = strconv.AppendInt(b, int64(x.SubIndex), 10)
	if x.Lookup {
		b = append(b, `,"lookup":true`...)
	}
	return append(b, '}')
}

func appendInt(b []byte, x *int) []byte { return strconv.AppendInt(b, int64(*x), 10) }

func appendStringAt(b []byte, s *string) []byte { return appendString(b, *s) }

func appendStringPtr(b []byte, s **string) []byte {
	if *s == nil {
		return append(b, "null"...)
	}
	return appendString(b, **s)
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
