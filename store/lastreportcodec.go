package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// The binary last report, after the format byte: at (time), source
// (string), operation (word), identifier_entry (id), attempts (uvarint
// count+1, 0: no list; each: identifier_name (string), attributes
// (strings), result (word), info (string)),
// masked (a masked list, below), omitted (zigzag varint).
//
// The binary masked list (also stored alone, after its format byte):
// uvarint count+1 (0: no list), then each: attribute, source, value
// (strings), null (byte), at (time), reason (string).

// reportWords are the operations and attempt results a last report
// holds, stored as their place in this list (0: the word follows as a
// string). The list is part of the format: only ever append to it.
var reportWords = [...]string{1: "INSERT", 2: "UPDATE", 3: "NO_CHANGE", 4: "UPDATE_WITH_UPGRADE", 5: "UPDATE_WITH_DOWNGRADE",
	6: "UPDATE_WITH_SWITCH", 7: "MATCHED", 8: "NO_MATCH", 9: "SKIPPED", 10: "MULTI_MATCH"}

func appendWord(b []byte, s string) []byte {
	for i, w := range reportWords {
		if i > 0 && w == s {
			return append(b, byte(i))
		}
	}
	return appendString(append(b, 0), s)
}

func (d *decoder) word(field string) string {
	switch c := d.byte(field); {
	case c == 0:
		return d.str(field)
	case int(c) < len(reportWords):
		return reportWords[c]
	default:
		d.fail(field, fmt.Errorf("unknown word %d", c))
		return ""
	}
}

// EncodeLastReport is the stored form of a LastReport.
func EncodeLastReport(r *LastReport) ([]byte, error) {
	return appendLastReport(append(make([]byte, 0, 128+64*len(r.Attempts)), formatBinary), r), nil
}

func appendLastReport(b []byte, r *LastReport) []byte {
	b = appendTime(b, r.At)
	b = appendString(b, r.Source)
	b = appendWord(b, r.Operation)
	b = AppendID(b, r.Entry)
	if r.Attempts == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(r.Attempts))+1)
		for _, a := range r.Attempts {
			b = appendString(b, a.Entry)
			b = AppendStrings(b, a.Attributes)
			b = appendWord(b, a.Result)
			b = appendString(b, a.Info)
		}
	}
	b = appendMasked(b, r.Masked)
	return binary.AppendVarint(b, int64(r.Omitted))
}

// DecodeLastReport reads what EncodeLastReport wrote, or the JSON older
// versions wrote.
func DecodeLastReport(b []byte) (*LastReport, error) {
	var r LastReport
	if len(b) == 0 || b[0] != formatBinary {
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("store: corrupt last report: %w", err)
		}
		return &r, nil
	}
	d := decoder{b: b, s: string(b), off: 1}
	d.lastReport(&r)
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("store: corrupt last report: %w", err)
	}
	return &r, nil
}

func (d *decoder) lastReport(r *LastReport) {
	r.At = d.time("at")
	r.Source = d.str("source")
	r.Operation = d.word("operation")
	r.Entry = d.id("identifier_entry")
	if n := d.optCount("attempts"); n > 0 {
		r.Attempts = make([]ReportAttempt, 0, n-1)
		for range n - 1 {
			a := ReportAttempt{Entry: d.str("attempts")}
			a.Attributes = d.list("attempts", d.str)
			a.Result = d.word("attempts")
			a.Info = d.str("attempts")
			if d.err != nil {
				break
			}
			r.Attempts = append(r.Attempts, a)
		}
	}
	r.Masked = d.masked("masked")
	r.Omitted = int(d.varint("omitted"))
}

// EncodeMasked is the stored form of one source's masked values of a CI.
func EncodeMasked(m []MaskedValue) ([]byte, error) {
	return appendMasked(append(make([]byte, 0, 1+64*len(m)), formatBinary), m), nil
}

// DecodeMasked reads what EncodeMasked wrote, or the JSON older versions
// wrote.
func DecodeMasked(b []byte) ([]MaskedValue, error) {
	if len(b) == 0 || b[0] != formatBinary {
		var m []MaskedValue
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("store: corrupt masked values: %w", err)
		}
		return m, nil
	}
	d := decoder{b: b, s: string(b), off: 1}
	m := d.masked("masked")
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("store: corrupt masked values: %w", err)
	}
	return m, nil
}

func appendMasked(b []byte, m []MaskedValue) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(m))+1)
	for _, v := range m {
		b = appendString(b, v.Attribute)
		b = appendString(b, v.Source)
		b = appendString(b, v.Value)
		b = appendBool(b, v.Null)
		b = appendTime(b, v.At)
		b = appendString(b, v.Reason)
	}
	return b
}

func (d *decoder) masked(field string) []MaskedValue {
	n := d.optCount(field)
	if n == 0 {
		return nil
	}
	out := make([]MaskedValue, 0, n-1)
	for range n - 1 {
		v := MaskedValue{Attribute: d.str(field), Source: d.str(field), Value: d.str(field), Null: d.bool(field)}
		v.At = d.time(field)
		v.Reason = d.str(field)
		if d.err != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}
