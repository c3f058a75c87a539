package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Reports is what one source last reported of one CI, per attribute, for
// the attributes a multi-source reconciliation policy decides.
type Reports struct {
	Values map[string]Report `json:"values"`
}

// Report is one reported value and when it was reported.
type Report struct {
	Value any       `json:"value"`
	At    time.Time `json:"at"`
}

func decodeJSONReports(b []byte) (*Reports, error) {
	var r Reports
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("store: corrupt reports: %w", err)
	}
	for k, v := range r.Values {
		v.Value = restore(v.Value)
		r.Values[k] = v
	}
	return &r, nil
}
