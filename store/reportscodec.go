package store

import (
	"encoding/binary"
	"fmt"
)

// The binary reports, after the format byte: uvarint count+1 (0: no map),
// then per attribute by name: name (string), value, at (time).

// EncodeReports is the stored form of one source's multi-source reports.
func EncodeReports(r *Reports) ([]byte, error) {
	b := append(make([]byte, 0, 1+32*len(r.Values)), formatBinary)
	if r.Values == nil {
		return append(b, 0), nil
	}
	b = binary.AppendUvarint(b, uint64(len(r.Values))+1)
	for _, k := range sortedKeys(r.Values) {
		b = appendString(b, k)
		var err error
		if b, err = appendValue(b, r.Values[k].Value); err != nil {
			return nil, fmt.Errorf("store: reports: attribute %s: %w", k, err)
		}
		b = appendTime(b, r.Values[k].At)
	}
	return b, nil
}

// DecodeReports decodes reports in either stored format (binary, or the
// JSON of older versions), restoring integer values as int64.
func DecodeReports(b []byte) (*Reports, error) {
	if len(b) == 0 || b[0] != formatBinary {
		return decodeJSONReports(b)
	}
	var r Reports
	d := decoder{b: b, s: string(b), off: 1}
	if n := d.optCount("values"); n > 0 {
		r.Values = make(map[string]Report, n-1)
		for range n - 1 {
			k := d.str("values")
			v := d.value(k)
			at := d.time("values")
			if d.err != nil {
				break
			}
			r.Values[k] = Report{Value: v, At: at}
		}
	}
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("store: corrupt reports: %w", err)
	}
	return &r, nil
}
