package store

import (
	"bytes"
	"encoding/json"
	"errors"
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
	// Source is the data source that created the record (ServiceNow's
	// discovery_source); later reports by other sources do not change it.
	Source string `json:"source,omitempty"`
	// Created and Updated are sys_created_on and sys_updated_on: Updated
	// moves when the values or the class change, not on a mere report.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// FirstDiscovered and LastDiscovered are first_discovered and
	// last_discovered: set on insert, and LastDiscovered again every time a
	// payload reports the CI (zero in records written before they existed).
	FirstDiscovered time.Time `json:"first_discovered,omitzero"`
	LastDiscovered  time.Time `json:"last_discovered,omitzero"`
	// IdentityKeys are the identity index keys the record owns, so an update
	// can remove exactly the keys its old values held.
	IdentityKeys [][]byte `json:"identity_keys,omitempty"`
	// IndexKeys are the secondary index entries the record owns (the
	// engine's indexes of `indexed` attributes), removed with it.
	IndexKeys [][]byte `json:"index_keys,omitempty"`
	// Owners says, per attribute, which source last set it (ServiceNow's
	// cmdb_datasource_last_update); when that source last reported the CI
	// is in its SourceInfo.
	Owners map[string]string `json:"owners,omitempty"`
	// Retired is set when the CI was retired as stale.
	Retired bool `json:"retired,omitempty"`
	// Version is the sequence number of the last change event of the CI
	// (engine events): it moves whenever the CI's values, class,
	// retirement, related records or outbound relations change, never
	// back. 0 for a record not changed since versions were kept.
	Version uint64 `json:"version,omitempty"`
}

// SourceInfo is what one data source last said of one CI (ServiceNow's
// sys_object_source): when it last reported the CI and under which key of
// its own.
type SourceInfo struct {
	Source    string    `json:"source"`
	LastScan  time.Time `json:"last_scan"`
	Name      string    `json:"source_name,omitempty"`
	NativeKey string    `json:"source_native_key,omitempty"`
	Feed      string    `json:"source_feed,omitempty"`
	Recency   string    `json:"source_recency_timestamp,omitempty"`
	// Report is how this source's last report identified the CI, kept
	// here rather than under a key of its own (LastReportKey, which older
	// versions wrote): the newest among a CI's sources is its last report.
	Report *LastReport `json:"-"`
}

// Change is one write of a CI, for its history.
type Change struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	Op     string    `json:"operation"`
	// Class is the class after the change; ClassBefore is set when it moved.
	Class       string `json:"class"`
	ClassBefore string `json:"class_before,omitempty"`
	// Attributes holds every attribute the change touched.
	Attributes map[string]ValueChange `json:"attributes"`
	// Merged lists the CIs a merge folded into this one.
	Merged []string `json:"merged,omitempty"`
}

// ValueChange is one attribute's value before and after a change; nil
// means absent.
type ValueChange struct {
	Before any `json:"before"`
	After  any `json:"after"`
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

// EncodeRecord is the stored form of a CI record: the binary format of
// codec.go.
func EncodeRecord(r *Record) ([]byte, error) { return encodeBinary(make([]byte, 0, 256), r) }

// ReadRecord reads the record of a CI; nil when it is not stored.
func ReadRecord(r Reader, sysID string) (*Record, error) {
	b, err := r.Get(CIKey(sysID))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return DecodeRecord(b)
}

// DecodeRecord decodes a record in either stored format (binary, or the
// JSON of older versions), restoring integer values as int64.
func DecodeRecord(b []byte) (*Record, error) {
	if len(b) > 0 && b[0] == formatBinary {
		return decodeBinary(b)
	}
	return decodeJSONRecord(b)
}

func decodeJSONRecord(b []byte) (*Record, error) {
	var r Record
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("store: corrupt record: %w", err)
	}
	for k, v := range r.Values {
		r.Values[k] = restore(v)
	}
	// Written with omitempty, an empty list or map was never stored: read
	// one as none, as the binary format does.
	if len(r.IdentityKeys) == 0 {
		r.IdentityKeys = nil
	}
	if len(r.IndexKeys) == 0 {
		r.IndexKeys = nil
	}
	if len(r.Owners) == 0 {
		r.Owners = nil
	}
	return &r, nil
}

func decodeJSONChange(b []byte) (*Change, error) {
	var c Change
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("store: corrupt history entry: %w", err)
	}
	for k, vc := range c.Attributes {
		vc.Before, vc.After = restore(vc.Before), restore(vc.After)
		c.Attributes[k] = vc
	}
	return &c, nil
}

func restore(v any) any {
	if n, ok := v.(json.Number); ok {
		return number(n)
	}
	return v
}

func number(n json.Number) any {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}

// RestoreNumber turns a json.Number decoded with UseNumber into the
// canonical int64 or float64, as records hold values; anything else is
// returned as is.
func RestoreNumber(v any) any { return restore(v) }
