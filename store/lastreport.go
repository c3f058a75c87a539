package store

import "time"

// LastReport is how the last report that wrote a CI identified it: the
// identifier entries it tried, in order, and the attributes it reported
// but could not change. The engine bounds its size.
type LastReport struct {
	At        time.Time       `json:"at"`
	Source    string          `json:"source"`
	Operation string          `json:"operation"`
	Entry     string          `json:"identifier_entry,omitempty"`
	Attempts  []ReportAttempt `json:"attempts"`
	Masked    []MaskedValue   `json:"masked,omitempty"`
	// Omitted counts the attempts and masked values left out to bound the size.
	Omitted int `json:"omitted,omitempty"`
}

// ReportAttempt is one identifier entry a report tried.
type ReportAttempt struct {
	Entry      string   `json:"identifier_name"`
	Attributes []string `json:"attributes"`
	Result     string   `json:"result"`
	Info       string   `json:"info,omitempty"`
}

// MaskedValue is a value a source reported for an attribute and could not
// set (a null when Null), when, and why it was refused.
type MaskedValue struct {
	Attribute string    `json:"attribute"`
	Source    string    `json:"source"`
	Value     string    `json:"value"`
	Null      bool      `json:"null,omitempty"`
	At        time.Time `json:"at"`
	Reason    string    `json:"reason"`
}
