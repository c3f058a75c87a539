package ruleimport_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/rules/ruleimport"
	"github.com/irego/irego/tableapi"
)

func importDir(t *testing.T, opts ruleimport.Options) *ruleimport.Result {
	t.Helper()
	src, err := tableapi.Open(writeExport(t, exportTables()), tableapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ruleimport.Import(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The export becomes a file extending the default pack: the new class and
// its rule, the deactivated rule, the new relation type, reconciliation
// with refresh periods; the rule identical to the pack's is left out; every
// record not translated is reported with its table and sys_id.
func TestImportDirectory(t *testing.T) {
	res := importDir(t, ruleimport.Options{})
	file := string(res.File)
	if res.Standalone || !strings.Contains(file, "extends: default\n") {
		t.Fatalf("want a file extending the default pack:\n%s", file)
	}
	if strings.Contains(file, "name: Hardware Rule") {
		t.Errorf("the Hardware Rule is the pack's own, yet the file repeats it:\n%s", file)
	}
	rs, err := rules.Load("imported.yaml", res.File)
	if err != nil {
		t.Fatalf("the imported file does not load: %v\n%s", err, file)
	}
	kiosk, ok := rs.Class("u_kiosk")
	if !ok || kiosk.Parent.Name != "cmdb_ci_hardware" || kiosk.Rule == nil || kiosk.Rule.Name != "Kiosk Rule" {
		t.Fatalf("u_kiosk: %+v", kiosk)
	}
	var got []string
	for _, e := range kiosk.Rule.Entries {
		got = append(got, rules.DescribeEntry(e))
	}
	want := []string{
		"priority 100: [u_kiosk_id]",
		`priority 200: [name], filter "(install_status not in [\"7\", 7]) && (name not in [nil, \"\"])"`,
		"priority 300: [u_bogus]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Kiosk Rule entries (-want +got):\n%s", diff)
	}
	if tomcat, _ := rs.Class("cmdb_ci_app_server_tomcat"); tomcat.Rule == nil || tomcat.Rule.Name == "Tomcat" {
		t.Errorf("the inactive Tomcat identifier is in force")
	}
	if !rs.HasRelationType("Chills::Chilled by") {
		t.Error("relation type Chills::Chilled by not imported")
	}
	hw, _ := rs.Class("cmdb_ci_linux_server")
	rr := hw.ReconciliationFor("ram")
	if rr == nil || len(rr.Sources) != 2 || rr.Sources[0].Name != "ServiceNow" || rr.Sources[1].Name != "SCCM" || rr.RefreshFor("SCCM") != 7*24*time.Hour {
		t.Errorf("hardware reconciliation: %+v", rr)
	}
	kr := kiosk.ReconciliationFor("name")
	if kr == nil || len(kr.Sources) != 1 || kr.Sources[0].Name != "KioskFeed" || !kr.ClearsWithNull("name") {
		t.Errorf("kiosk reconciliation: %+v", kr)
	}

	var failed, kept []string
	for _, p := range res.Problems {
		s := p.Table + " " + p.SysID
		if p.Kept {
			kept = append(kept, s)
		} else {
			failed = append(failed, s)
		}
		if !strings.Contains(p.String(), p.SysID) || p.Reason == "" {
			t.Errorf("problem %q does not say which record and why", p.String())
		}
	}
	wantFailed := []string{
		"cmdb_identifier " + id(idNowhereRule),
		"cmdb_identifier_entry " + id(idOrphanEntry),
		"cmdb_rel_type " + id(idBadRelType),
		"cmdb_reconciliation_definition " + id(idBadRecon),
		"cmdb_datasource_refresh " + id(idBadRefresh),
	}
	slices.Sort(failed)
	slices.Sort(wantFailed)
	if diff := cmp.Diff(wantFailed, failed); diff != "" {
		t.Errorf("records not translated (-want +got):\n%s\nall: %v", diff, res.Problems)
	}
	// The entry on u_bogus is kept, with notes: not a column, condition left out.
	if n := strings.Count(strings.Join(kept, "\n"), id(idBogusEntry)); n != 2 {
		t.Errorf("notes on entry %s: %d, want 2: %v", id(idBogusEntry), n, res.Problems)
	}
	if res.OutsideCMDB != 2 || !slices.Equal(res.Missing, []string{"cmdb_datasource_staleness"}) {
		t.Errorf("outside the CMDB %d (want task and incident), missing %v", res.OutsideCMDB, res.Missing)
	}
	if res.Read["cmdb_identifier_entry"] != 10 {
		t.Errorf("entries read from two pages: %d", res.Read["cmdb_identifier_entry"])
	}

	// Standalone on request: no extends, every class it needs declared.
	st := importDir(t, ruleimport.Options{Standalone: true})
	if !st.Standalone || strings.Contains(string(st.File), "extends: default") || !strings.Contains(string(st.File), "name: Hardware Rule") {
		t.Fatalf("standalone file:\n%s", st.File)
	}
	if n := len(st.Rules.Classes()); n >= len(rules.Default().Classes()) || n < 9 {
		t.Errorf("standalone file has %d classes", n)
	}
}

// The imported rules identify payloads as the default pack does for the
// same rules: the same operations and the same CIs, on real Badger stores.
func TestImportIdentifiesLikeDefault(t *testing.T) {
	payloads := []string{
		`{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"web01","serial_number":"S1"},
		  "lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"S1","serial_number_type":"system"}}],
		  "related":[{"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Db","version":"1"}}]}]}`,
		`{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"web01","serial_number":"S1"},
		  "related":[{"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Db","version":"1"}},
		             {"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Db","version":"2"}}]}]}`,
		`{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"web01","serial_number":"S2"}}]}`,
		`{"items":[{"className":"cmdb_ci_computer","values":{"name":"web01","ram":"4096"}}]}`,
		`{"items":[{"className":"cmdb_ci_server","values":{"name":"db01"},
		  "lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"S1","serial_number_type":"system"}}]}]}`,
		`{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"app01"}},
		           {"className":"cmdb_ci_linux_server","values":{"name":"app01","serial_number":"S3"}}]}`,
	}
	run := func(rs *rules.RuleSet) []string {
		n := 0
		e, err := engine.Open(t.TempDir(), engine.Options{Rules: rs, NewSysID: func() string { n++; return id(n) }})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		var out []string
		for i, body := range payloads {
			p, err := payload.DecodeBytes([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Apply(context.Background(), "ServiceNow", p, engine.DefaultApplyOptions())
			if err != nil {
				t.Fatal(err)
			}
			for j, it := range res.Items {
				out = append(out, fmt.Sprintf("payload %d item %d: %s %s %v", i, j, it.Operation, it.SysID, it.Errors))
			}
		}
		return out
	}
	want := run(rules.Default())
	if !strings.Contains(strings.Join(want, "\n"), "INSERT") || !strings.Contains(strings.Join(want, "\n"), "UPDATE") {
		t.Fatalf("the payloads do not exercise inserts and updates: %v", want)
	}
	for _, standalone := range []bool{false, true} {
		res := importDir(t, ruleimport.Options{Standalone: standalone})
		if diff := cmp.Diff(want, run(res.Rules)); diff != "" {
			t.Errorf("standalone=%v: results differ from the default pack's (-default +imported):\n%s\nfile:\n%s", standalone, diff, res.File)
		}
	}
}

// A live instance: basic auth and paging, the same result as the files.
func TestImportLiveInstance(t *testing.T) {
	in := serveInstance(t, exportTables(), "admin", "s3cret")
	src, err := tableapi.Open(in.URL, tableapi.Options{User: "admin", Password: "s3cret", PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	live, err := ruleimport.Import(context.Background(), src, ruleimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in.pages["cmdb_identifier_entry"] < 4 {
		t.Errorf("%d requests for 10 entries in pages of 3", in.pages["cmdb_identifier_entry"])
	}
	files := importDir(t, ruleimport.Options{})
	if diff := cmp.Diff(string(files.File), string(live.File)); diff != "" {
		t.Errorf("live import differs from the file import (-files +live):\n%s", diff)
	}
	if len(live.Problems) != len(files.Problems) {
		t.Errorf("problems: live %v, files %v", live.Problems, files.Problems)
	}

	// A wrong password is an error naming the cause.
	src, _ = tableapi.Open(in.URL, tableapi.Options{User: "admin", Password: "nope"})
	if _, err := ruleimport.Import(context.Background(), src, ruleimport.Options{}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong password: %v", err)
	}
}

// A messy export never breaks the import: every bad record is reported and
// the file still loads. A rule named like one of the pack's on another
// class can only be said by a standalone file.
func TestImportMessyExport(t *testing.T) {
	tables := exportTables()
	tables["sys_db_object"] = append(tables["sys_db_object"],
		rec{"sys_id": id(120), "name": "u_loop_a", "super_class": id(121)},
		rec{"sys_id": id(121), "name": "u_loop_b", "super_class": id(120)},
		rec{"sys_id": id(122), "name": "", "super_class": ""},
		rec{"sys_id": id(123), "name": "u_kiosk", "super_class": id(101)})
	tables["cmdb_identifier"] = append(tables["cmdb_identifier"],
		rec{"sys_id": id(210), "name": "Kiosk Rule", "applies_to": "cmdb_ci_linux_server"},
		rec{"sys_id": id(211), "name": "Cloud Host Rule", "applies_to": "cmdb_ci_linux_server", "independent": "true"},
		rec{"sys_id": id(212), "name": "Dep", "applies_to": "u_kiosk", "independent": "false", "active": "false"},
		rec{"sys_id": id(213), "name": "Other Kiosk", "applies_to": "u_kiosk"})
	tables["cmdb_identifier_entry"] = append(tables["cmdb_identifier_entry"],
		rec{"sys_id": id(330), "identifier": id(211), "table": "cmdb_ci_linux_server", "attributes": "name", "order": "ten"},
		rec{"sys_id": id(331), "identifier": id(211), "table": "u_nowhere", "attributes": "name", "order": "10"},
		rec{"sys_id": id(332), "identifier": id(211), "table": "cmdb_ci_linux_server", "attributes": "serial_number", "order": "20",
			"optional_condition": "ram>=abc"})
	tables["cmdb_related_entry"] = append(tables["cmdb_related_entry"],
		rec{"sys_id": id(360), "identifier": id(idHardwareRule), "table": "cmdb_sam_sw_install", "referenced_field": "installed_on", "attributes": "installed_on", "order": "1"},
		rec{"sys_id": id(361), "identifier": id(idHardwareRule), "table": "cmdb_sam_sw_install", "referenced_field": "", "attributes": "x", "order": "1"})
	tables["cmdb_datasource_refresh"] = append(tables["cmdb_datasource_refresh"],
		rec{"sys_id": id(610), "applies_to": "cmdb_ci_hardware", "discovery_source": "SCCM", "duration": "soon"},
		rec{"sys_id": id(611), "applies_to": "cmdb_ci_hardware", "discovery_source": "SCCM", "duration": "0"})
	src, err := tableapi.Open(writeExport(t, tables), tableapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ruleimport.Import(context.Background(), src, ruleimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Standalone {
		t.Errorf("the export names a rule on cmdb_ci_linux_server like the pack's Cloud Host Rule; only a standalone file can hold it:\n%s", res.File)
	}
	reported := map[string]bool{}
	for _, p := range res.Problems {
		reported[p.SysID] = true
	}
	for _, n := range []int{120, 122, 123, 210, 213, 330, 331, 332, 360, 361, 610, 611} {
		if !reported[id(n)] {
			t.Errorf("record %s not reported: %v", id(n), res.Problems)
		}
	}
	if c, _ := res.Rules.Class("cmdb_ci_linux_server"); c.Rule == nil || c.Rule.Name != "Cloud Host Rule" || len(c.Rule.Entries) != 1 {
		t.Errorf("cmdb_ci_linux_server's rule: %+v", c.Rule)
	}
}

// An instance that changed a pack rule's entries, dropped its related
// entry, and renamed a dependent rule: the file changes the first, and
// replaces the second, taking the pack's dependencies.
func TestImportChangedRules(t *testing.T) {
	tables := exportTables()
	tables["cmdb_identifier_entry"] = append(tables["cmdb_identifier_entry"],
		rec{"sys_id": id(304), "identifier": id(idHardwareRule), "table": "cmdb_ci_hardware", "attributes": "asset_tag", "order": "500"})
	delete(tables, "cmdb_related_entry")
	tables["cmdb_identifier"] = append(tables["cmdb_identifier"],
		rec{"sys_id": id(220), "name": "Our App Rule", "applies_to": "cmdb_ci_appl", "independent": "false", "active": "true"})
	tables["cmdb_identifier_entry"] = append(tables["cmdb_identifier_entry"],
		rec{"sys_id": id(340), "identifier": id(220), "table": "cmdb_ci_appl", "attributes": "name", "order": "100"})
	src, err := tableapi.Open(writeExport(t, tables), tableapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ruleimport.Import(context.Background(), src, ruleimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	file := string(res.File)
	for _, want := range []string{"change:\n  identification:\n    - name: Hardware Rule\n", "      related: []\n", "remove:\n  identification:\n    - Application Rule\n"} {
		if res.Standalone || !strings.Contains(file, want) {
			t.Errorf("file lacks %q:\n%s", want, file)
		}
	}
	hw, _ := res.Rules.Class("cmdb_ci_server")
	if r := hw.Rule; r.Name != "Hardware Rule" || len(r.Entries) != 5 || r.Entries[4].Attributes[0] != "asset_tag" || r.RelatedFor(mustClass(t, res.Rules, "cmdb_sam_sw_install")) != nil {
		t.Errorf("Hardware Rule: %d entries, related %v", len(r.Entries), r.Related)
	}
	// The pack's entries keep their IDs: stores keep their keys.
	def, _ := rules.Default().Class("cmdb_ci_server")
	if hw.Rule.Entries[1].ID != def.Rule.Entries[1].ID {
		t.Error("the serial number entry's ID changed")
	}
	app, _ := res.Rules.Class("cmdb_ci_app_server")
	defApp, _ := rules.Default().Class("cmdb_ci_appl")
	if app.Rule == nil || app.Rule.Name != "Our App Rule" || !cmp.Equal(app.Rule.DependsOn, defApp.Rule.DependsOn) {
		t.Errorf("app server rule: %+v", app.Rule)
	}
}

func mustClass(t *testing.T, rs *rules.RuleSet, name string) *rules.Class {
	t.Helper()
	c, ok := rs.Class(name)
	if !ok {
		t.Fatalf("no class %s", name)
	}
	return c
}
