package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Record is a stored CI (or a related record such as a software install).
type Record struct {
	SysID string `json:"sys_id"`
	Class string `json:"class"`
	// Values holds canonical values: string, bool, int64 or float64.
	Values map[string]any `json:"values"`
	// Scope is the sys_id the record's identity lives under: the CI a
	// dependent record depends on, or the main CI of a related record;
	// empty for independent CIs.
	Scope string `json:"scope,omitempty"`
	// Related marks a related record (one that hangs under the CI in Scope,
	// identified by that CI's rule's related entries).
	Related bool `json:"related,omitempty"`
	// Source is the data source that created the record.
	Source  string    `json:"source,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// IdentityKeys are the identity index keys the record owns, so an update
	// can remove exactly the keys its old values held.
	IdentityKeys [][]byte `json:"identity_keys,omitempty"`
}

// Edge is a stored relation between two CIs.
type Edge struct {
	SysID   string    `json:"sys_id"`
	Type    string    `json:"type"`
	Parent  string    `json:"parent"`
	Child   string    `json:"child"`
	Source  string    `json:"source,omitempty"`
	Created time.Time `json:"created"`
}

func EncodeRecord(r *Record) ([]byte, error) { return json.Marshal(r) }

// DecodeRecord decodes a record, restoring integer values as int64.
func DecodeRecord(b []byte) (*Record, error) {
	var r Record
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("store: corrupt record: %w", err)
	}
	for k, v := range r.Values {
		if n, ok := v.(json.Number); ok {
			r.Values[k] = number(n)
		}
	}
	return &r, nil
}

func EncodeEdge(e *Edge) ([]byte, error) { return json.Marshal(e) }

func DecodeEdge(b []byte) (*Edge, error) {
	var e Edge
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("store: corrupt edge: %w", err)
	}
	return &e, nil
}

func number(n json.Number) any {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}
