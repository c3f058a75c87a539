package store

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The binary source info, after the format byte (formatSourceReport):
// source (string), last_scan (time), source_name, source_native_key,
// source_feed, source_recency_timestamp (strings), then 0, or 1 and how
// the source's last report identified the CI (as in a stored last report,
// without its format byte). Older versions wrote formatBinary and no
// report.
const formatSourceReport byte = 2

// EncodeSourceInfo is the stored form of what one source last said of a CI.
func EncodeSourceInfo(s *SourceInfo) ([]byte, error) {
	b := make([]byte, 0, 16+len(s.Source)+len(s.Name)+len(s.NativeKey)+len(s.Feed)+len(s.Recency))
	b = append(b, formatSourceReport)
	b = appendString(b, s.Source)
	b = appendTime(b, s.LastScan)
	b = appendString(b, s.Name)
	b = appendString(b, s.NativeKey)
	b = appendString(b, s.Feed)
	b = appendString(b, s.Recency)
	if s.Report == nil {
		return append(b, 0), nil
	}
	return appendLastReport(append(b, 1), s.Report), nil
}

// DecodeSourceInfo reads what EncodeSourceInfo wrote, or the JSON older
// versions wrote.
func DecodeSourceInfo(b []byte) (*SourceInfo, error) {
	var s SourceInfo
	if len(b) > 0 && (b[0] == formatBinary || b[0] == formatSourceReport) {
		d := decoder{b: b, s: string(b), off: 1}
		s.Source = d.str("source")
		s.LastScan = d.time("last_scan")
		s.Name = d.str("source_name")
		s.NativeKey = d.str("source_native_key")
		s.Feed = d.str("source_feed")
		s.Recency = d.str("source_recency_timestamp")
		if b[0] == formatSourceReport {
			switch d.byte("last_report") {
			case 0:
			case 1:
				s.Report = &LastReport{}
				d.lastReport(s.Report)
			default:
				d.fail("last_report", errors.New("unknown marker"))
			}
		}
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("store: corrupt source info: %w", err)
		}
		return &s, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("store: corrupt source info: %w", err)
	}
	return &s, nil
}
