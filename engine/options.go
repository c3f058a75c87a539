package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// ApplyOptions are the options of an enhanced identify/reconcile call, named
// as ServiceNow names them.
type ApplyOptions struct {
	// PartialPayloads keeps items that cannot be identified yet aside until
	// a later payload completes them. When true, PartialCommits and
	// DeduplicatePayloads are forced on, as documented.
	PartialPayloads bool
	// PartialCommits commits valid items even when others fail; when false
	// the payload is all or nothing.
	PartialCommits bool
	// DeduplicatePayloads merges items of one payload that identify the same
	// CI; when false they fail with DUPLICATE_PAYLOAD_RECORDS.
	DeduplicatePayloads bool
	// GenerateSummary adds per-class counts to the result.
	GenerateSummary bool
	// Explain adds to every item a readable account of how it was
	// identified and reconciled (an irego extension).
	Explain bool
	// SkipUpdatingLastScanToNow keeps a source's last scan of a CI
	// (sys_object_source.last_scan) where it was when the item gives no
	// source_recency_timestamp, instead of moving it to now.
	SkipUpdatingLastScanToNow bool
	// SkipUpdatingSourceLastDiscoveredToNow keeps last_discovered where it
	// was when the item's values give none, instead of moving it to now.
	SkipUpdatingSourceLastDiscoveredToNow bool
	// IfVersions makes the apply conditional (an irego extension): each CI
	// named must be at the version given (store.Record.Version), checked
	// in the apply's transaction; else the apply writes nothing and fails
	// with a *VersionError (errors.Is ErrVersionMismatch).
	IfVersions map[string]uint64
}

// DefaultApplyOptions are the documented defaults of the enhanced call.
func DefaultApplyOptions() ApplyOptions {
	return ApplyOptions{PartialPayloads: true, PartialCommits: true, DeduplicatePayloads: true}
}

// StrictApplyOptions are those of the plain (non-enhanced) call: one failing
// item fails the whole payload.
func StrictApplyOptions() ApplyOptions {
	return ApplyOptions{DeduplicatePayloads: true}
}

// effective applies the documented forcing rule.
func (o ApplyOptions) effective() ApplyOptions {
	if o.PartialPayloads {
		o.PartialCommits, o.DeduplicatePayloads = true, true
	}
	return o
}

// ParseApplyOptions reads "name:value,name:value" over the defaults, as the
// enhanced REST call's options parameter does.
func ParseApplyOptions(s string) (ApplyOptions, error) {
	o := DefaultApplyOptions()
	if strings.TrimSpace(s) == "" {
		return o, nil
	}
	for _, chunk := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(chunk, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			//lint:ignore ST1005 ServiceNow's documented message, word for word
			return o, fmt.Errorf("Chunk [%s] is not a valid entry", chunk)
		}
		b, err := strconv.ParseBool(value)
		if err != nil && knownOption[name] {
			//lint:ignore ST1005 ServiceNow's documented message, word for word
			return o, fmt.Errorf("Chunk [%s] is not a valid entry", chunk)
		}
		switch name {
		case "partial_payloads":
			o.PartialPayloads = b
		case "partial_commits":
			o.PartialCommits = b
		case "deduplicate_payloads":
			o.DeduplicatePayloads = b
		case "generate_summary":
			o.GenerateSummary = b
		case "explain":
			o.Explain = b
		case "skip_updating_last_scan_to_now":
			o.SkipUpdatingLastScanToNow = b
		case "skip_updating_source_last_discovered_to_now":
			o.SkipUpdatingSourceLastDiscoveredToNow = b
		}
		// Another name is an option of a newer release: ignored, as
		// ServiceNow ignores names it does not read.
	}
	return o, nil
}

var knownOption = map[string]bool{"partial_payloads": true, "partial_commits": true, "deduplicate_payloads": true,
	"generate_summary": true, "explain": true, "skip_updating_last_scan_to_now": true, "skip_updating_source_last_discovered_to_now": true}
