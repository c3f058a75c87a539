package engine_test

import (
	"testing"

	"github.com/irego/irego/engine"
)

// Every documented option is read; a name of a newer release is ignored;
// a malformed chunk is refused as ServiceNow refuses it.
func TestParseApplyOptions(t *testing.T) {
	o, err := engine.ParseApplyOptions("partial_payloads:false, skip_updating_last_scan_to_now:true,skip_updating_source_last_discovered_to_now:true,generate_summary:true,future_option:maybe")
	if err != nil {
		t.Fatal(err)
	}
	if o.PartialPayloads || !o.SkipUpdatingLastScanToNow || !o.SkipUpdatingSourceLastDiscoveredToNow || !o.GenerateSummary || !o.PartialCommits {
		t.Fatalf("%+v", o)
	}
	for in, want := range map[string]string{
		"partial":                 "Chunk [partial] is not a valid entry",
		"partial_commits:perhaps": "Chunk [partial_commits:perhaps] is not a valid entry",
		":true":                   "Chunk [:true] is not a valid entry",
	} {
		if _, err := engine.ParseApplyOptions(in); err == nil || err.Error() != want {
			t.Errorf("ParseApplyOptions(%q) = %v, want %q", in, err, want)
		}
	}
}
