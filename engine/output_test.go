package engine_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/irego/irego/engine"
)

func TestIncompleteItemsAnswerInsertAsIncomplete(t *testing.T) {
	e := openDisk(t)
	o := engine.DefaultApplyOptions()
	o.GenerateSummary = true
	body := `{"items":[{"className":"no_such_class","values":{"name":"x"}},{"className":"cmdb_ci_computer","values":{"name":"ok"}}]}`
	res, err := e.Apply(context.Background(), "ServiceNow", mustDecode(t, body), o)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := e.Incomplete()
	if err != nil || len(inc) != 1 {
		t.Fatalf("incomplete: %+v %v", inc, err)
	}
	bad := res.Items[0]
	if bad.Operation != engine.InsertAsIncomplete || bad.SysID != "Unknown" || bad.ErrorCount != 1 ||
		!cmp.Equal(bad.IncompleteSysIDs, []string{inc[0].ID}) || len(bad.PartialSysIDs) != 0 {
		t.Fatalf("incomplete item: %s", mustJSON(bad))
	}
	if ok := res.Items[1]; ok.Operation != "INSERT" || len(ok.IncompleteSysIDs) != 0 {
		t.Fatalf("good item: %s", mustJSON(ok))
	}
	if s := res.Summary["no_such_class"]; s == nil || s.Incomplete != 1 || s.IncompleteItemCount != 1 || s.Skipped != 0 {
		t.Fatalf("summary: %s", mustJSON(res.Summary))
	}
	// Without partial payloads nothing is recorded: the item is skipped.
	res, err = e.Apply(context.Background(), "ServiceNow", mustDecode(t, body), engine.ApplyOptions{PartialCommits: true, DeduplicatePayloads: true, GenerateSummary: true})
	if err != nil {
		t.Fatal(err)
	}
	if bad := res.Items[0]; bad.Operation == engine.InsertAsIncomplete || len(bad.IncompleteSysIDs) != 0 || res.Summary["no_such_class"].Skipped != 1 {
		t.Fatalf("without partial payloads: %s", mustJSON(res))
	}
	if inc, _ := e.Incomplete(); len(inc) != 1 {
		t.Fatalf("recorded again without partial payloads: %d", len(inc))
	}
}

func TestPartialItemsNameTheirPartialPayload(t *testing.T) {
	e := openDisk(t)
	res, err := e.Apply(context.Background(), "AWS", mustDecode(t, dcBeforeAccount), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	parts, err := e.Partials()
	if err != nil || len(parts) != 1 {
		t.Fatalf("partials: %v %v", parts, err)
	}
	want := []string{parts[0].ID}
	for i, it := range res.Items {
		if it.Operation != engine.InsertAsPartial || !cmp.Equal(it.PartialSysIDs, want) || len(it.IncompleteSysIDs) != 0 {
			t.Errorf("item %d: %s", i, mustJSON(it))
		}
	}
	if r := res.Relations[0]; r.Operation != engine.InsertAsPartial || !cmp.Equal(r.PartialSysIDs, want) {
		t.Errorf("relation: %s", mustJSON(r))
	}
}

// TestSummaryHasEveryDocumentedKey completes a partial payload, so that
// the summary counts an additional insert and a merged partial payload,
// and checks both documented spellings of every count.
func TestSummaryHasEveryDocumentedKey(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	if _, err := e.Apply(ctx, "AWS", mustDecode(t, dcBeforeAccount), engine.DefaultApplyOptions()); err != nil {
		t.Fatal(err)
	}
	o := engine.DefaultApplyOptions()
	o.GenerateSummary = true
	res, err := e.Apply(ctx, "AWS", mustDecode(t, accountWithDC), o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res.Summary)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]int
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]int) string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	const all = "additionalInserted additionalInsertedItemCount errorCount errors incomplete incompleteItemCount inserted insertedItemCount " +
		"mergedPartialPayloads partial partialItemCount skipped skippedItemCount unchanged unchangedItemCount updated updatedItemCount warningCount warnings"
	for class, m := range got {
		if keys(m) != all {
			t.Errorf("%s: keys %s\nwant %s", class, keys(m), all)
		}
		for _, pair := range [][2]string{{"inserted", "insertedItemCount"}, {"updated", "updatedItemCount"}, {"unchanged", "unchangedItemCount"},
			{"skipped", "skippedItemCount"}, {"partial", "partialItemCount"}, {"incomplete", "incompleteItemCount"},
			{"errors", "errorCount"}, {"warnings", "warningCount"}, {"additionalInserted", "additionalInsertedItemCount"}} {
			if m[pair[0]] != m[pair[1]] {
				t.Errorf("%s: %s %d but %s %d", class, pair[0], m[pair[0]], pair[1], m[pair[1]])
			}
		}
	}
	dc, vm := got["cmdb_ci_aws_datacenter"], got["cmdb_ci_vm_instance"]
	if dc["inserted"] != 1 || dc["mergedPartialPayloads"] != 1 || vm["additionalInserted"] != 1 || vm["inserted"] != 0 ||
		got["cmdb_ci_cloud_service_account"]["inserted"] != 1 {
		t.Fatalf("counts: %s", b)
	}
}

func TestFirstAttemptIsTheSourceNativeKeyLookup(t *testing.T) {
	e := openDisk(t)
	first := func(res *engine.Result) engine.Attempt {
		t.Helper()
		if len(res.Items[0].IdentificationAttempts) == 0 {
			t.Fatalf("no attempts: %s", mustJSON(res))
		}
		return res.Items[0].IdentificationAttempts[0]
	}
	check := func(what string, a engine.Attempt, result string) {
		t.Helper()
		if a.AttemptResult != result || a.IdentifierName != "" || a.SearchOnTable != "sys_object_source" ||
			!cmp.Equal(a.Attributes, []string{"source_name", "source_native_key"}) || a.Info != "sys_object_source "+result ||
			a.HybridEntryCiAttributes == nil {
			t.Errorf("%s: %s", what, mustJSON(a))
		}
	}
	plain := apply(t, e, mustDecode(t, computer("c1", 1)))
	check("no native key", first(plain), "SKIPPED")
	if n := len(plain.Items[0].IdentificationAttempts); n < 2 || plain.Items[0].IdentificationAttempts[1].SearchOnTable == "sys_object_source" {
		t.Errorf("the rule's entries follow: %s", mustJSON(plain.Items[0].IdentificationAttempts))
	}
	keyed := `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c2"},"sys_object_source_info":{"source_native_key":"N-2"}}]}`
	check("unknown native key", first(apply(t, e, mustDecode(t, keyed))), "NO_MATCH")
	check("known native key", first(apply(t, e, mustDecode(t, keyed))), "MATCHED")
	var wire map[string]any
	if err := json.Unmarshal([]byte(mustJSON(first(plain))), &wire); err != nil {
		t.Fatal(err)
	}
	if _, ok := wire["identifierName"]; !ok || wire["identifierName"] != "" {
		t.Errorf("identifierName must be sent, empty: %v", wire)
	}
}
