package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// irego bench with both baselines reports irego's rate against each: the
// bare loop writing a record and its index key, and the loop writing what
// irego wrote per item.
func TestBenchBaselines(t *testing.T) {
	code, out, errs := irego("", "bench", "--db", t.TempDir(), "--count", "20", "--batch", "10", "--duration", "300ms", "--baseline", "--baseline-writes", "--json")
	if code != exitOK {
		t.Fatalf("irego bench: %d %s", code, errs)
	}
	var rep struct {
		Items       float64 `json:"items_per_sec"`
		Keys        float64 `json:"keys_per_item"`
		Baseline    float64 `json:"baseline_items_per_sec"`
		Ratio       float64 `json:"ratio"`
		Writes      float64 `json:"writes_baseline_items_per_sec"`
		WritesRatio float64 `json:"writes_ratio"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &rep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if rep.Items <= 0 || rep.Keys < 2 || rep.Baseline <= 0 || rep.Writes <= 0 {
		t.Fatalf("report %+v: want a rate, more than two keys per item and both baselines", rep)
	}
	if math.Abs(rep.Ratio-rep.Items/rep.Baseline) > 1e-9 || math.Abs(rep.WritesRatio-rep.Items/rep.Writes) > 1e-9 {
		t.Fatalf("report %+v: the ratios are not the rate over the baselines", rep)
	}
}
