package engine_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

const computerRule = `
classes:
  - name: cmdb_ci
  - {name: cmdb_ci_computer, extends: cmdb_ci}
identification:
  - name: Computer
    applies_to: cmdb_ci_computer
    entries: [{priority: 100, attributes: [name]}]
`

func loadRules(t *testing.T, text string) *rules.RuleSet {
	t.Helper()
	rs, err := rules.Load("rules.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// c1 renders an item for computer c1 with the given values (JSON members).
func c1(values string) string {
	return `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1",` + values + `}}]}`
}

func TestUpdateWithNull(t *testing.T) {
	rs := loadRules(t, computerRule+`
reconciliation:
  - applies_to: cmdb_ci_computer
    attributes: [location, ram]
    sources: [{name: ServiceNow, priority: 1}, {name: SCCM, priority: 2}]
    update_with_null: [location]
`)
	c := newClock()
	e := openWith(t, c, rs)
	id := applyFrom(t, e, "SCCM", c1(`"location":"L1","ram":4,"comments":"x"`)).SysID
	step := func(source, values, op, masked string, want map[string]any) {
		t.Helper()
		c.advance(time.Hour)
		got := applyFrom(t, e, source, c1(values))
		if got.Operation != op || strings.Join(got.MaskedAttributes, ",") != masked {
			t.Fatalf("%s sends %s: op %s masked %v; want %s masked [%s]", source, values, got.Operation, got.MaskedAttributes, op, masked)
		}
		for a, v := range want {
			if g := storedValue(t, e, id, a); g != v {
				t.Fatalf("%s sends %s: %s = %v, want %v", source, values, a, g, v)
			}
		}
	}
	// A listed attribute is cleared; an unlisted one (ram) or one no rule
	// covers (comments) keeps its value: there a null means "not reported".
	step("SCCM", `"location":null,"ram":null,"comments":null`, "UPDATE", "", map[string]any{"location": nil, "ram": int64(4), "comments": "x"})
	step("SCCM", `"location":"L2"`, "UPDATE", "", map[string]any{"location": "L2"})
	step("ServiceNow", `"location":"L3"`, "UPDATE", "", map[string]any{"location": "L3"})
	// SCCM may not clear what ServiceNow, its better, owns; an unlisted
	// source may not clear at all.
	step("SCCM", `"location":null`, "NO_CHANGE", "location", map[string]any{"location": "L3"})
	step("Other", `"location":null`, "NO_CHANGE", "location", map[string]any{"location": "L3"})
	step("ServiceNow", `"location":null`, "UPDATE", "", map[string]any{"location": nil})
	// A cleared attribute is anyone's to fill again.
	step("SCCM", `"location":"L4"`, "UPDATE", "", map[string]any{"location": "L4"})

	hist, err := e.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ch := hist[1].Attributes["location"]; ch.Before != "L1" || ch.After != nil || len(hist[1].Attributes) != 1 {
		t.Fatalf("history of the first clearing: %+v", hist[1])
	}
	noProblems(t, e)
}

const dynamicRules = computerRule + `
reconciliation:
  - applies_to: cmdb_ci_computer
    attributes: all
    sources: [{name: A, priority: 1}, {name: "*", priority: 10}]
  - {applies_to: cmdb_ci_computer, attributes: [ram], policy: largest}
  - {applies_to: cmdb_ci_computer, attributes: [disk], policy: smallest}
  - {applies_to: cmdb_ci_computer, attributes: [os], policy: most_reported}
  - {applies_to: cmdb_ci_computer, attributes: [cpu_count], policy: latest}
`

func TestDynamicPolicies(t *testing.T) {
	c := newClock()
	e := openWith(t, c, loadRules(t, dynamicRules))
	var id string
	step := func(source, values, op, masked string, ram, disk int64, os string, cpus int64) {
		t.Helper()
		c.advance(time.Hour)
		got := applyFrom(t, e, source, c1(values))
		if id == "" {
			id = got.SysID
		}
		if got.Operation != op || strings.Join(got.MaskedAttributes, ",") != masked {
			t.Fatalf("%s sends %s: op %s masked %v; want %s masked [%s]", source, values, got.Operation, got.MaskedAttributes, op, masked)
		}
		want := map[string]any{"ram": ram, "disk": disk, "os": os, "cpu_count": cpus}
		for a, v := range want {
			if g := storedValue(t, e, id, a); g != v {
				t.Fatalf("%s sends %s: %s = %v, want %v", source, values, a, g, v)
			}
		}
	}
	step("A", `"ram":8,"disk":500,"os":"linux","cpu_count":2`, "INSERT", "", 8, 500, "linux", 2)
	// The dynamic rules beat A's static priority. os: one report each, the
	// later wins the tie.
	step("B", `"ram":16,"disk":1000,"os":"windows","cpu_count":4`, "UPDATE", "disk", 16, 500, "windows", 4)
	step("C", `"ram":4,"disk":250,"os":"linux","cpu_count":1`, "UPDATE", "ram", 16, 250, "linux", 1)
	// B now reports less: the largest is chosen again among every source's
	// last report, not kept because it was once reported.
	step("B", `"ram":2`, "UPDATE", "ram", 8, 250, "linux", 1)
	step("A", `"os":"windows"`, "UPDATE", "", 8, 250, "windows", 1)
	// A report that changes nothing is still kept: D's 32 decides later.
	step("D", `"ram":8`, "NO_CHANGE", "", 8, 250, "windows", 1)
	step("A", `"ram":32`, "UPDATE", "", 32, 250, "windows", 1)
	step("A", `"ram":1`, "UPDATE", "ram", 8, 250, "windows", 1)
	noProblems(t, e)

	// One report is kept per source; deleting the CI deletes them.
	if got := reportSources(t, e, id); got != "A,B,C,D" {
		t.Fatalf("reports kept for %s, want A,B,C,D", got)
	}
	if _, err := e.Delete(context.Background(), id, engine.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := reportSources(t, e, id); got != "" {
		t.Fatalf("reports of a deleted CI remain: %s", got)
	}
	id = ""
	step("B", `"ram":1,"disk":1,"os":"x","cpu_count":1`, "INSERT", "", 1, 1, "x", 1)
	step("C", `"ram":2`, "UPDATE", "", 2, 1, "x", 1)
}

// reportSources lists the sources whose reports of sysID are kept.
func reportSources(t *testing.T, e *engine.Engine, sysID string) string {
	t.Helper()
	var out []string
	err := e.Store().View(func(r store.Reader) error {
		return r.Iterate(store.ReportPrefix(sysID), func(k, _ []byte) error {
			out = append(out, store.SourceFromReportKey(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, ",")
}

// A value stored before a dynamic rule existed counts as its owner's report.
func TestDynamicPolicyAfterTheFact(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	open := func(rs *rules.RuleSet) *engine.Engine {
		e, err := engine.Open(dir, engine.Options{Now: c.Now, Rules: rs, Sources: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := open(loadRules(t, computerRule))
	id := applyFrom(t, e, "A", c1(`"ram":32`)).SysID
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open(loadRules(t, computerRule+"reconciliation: [{applies_to: cmdb_ci_computer, attributes: [ram], policy: largest}]\n"))
	defer e.Close()
	c.advance(time.Hour)
	if got := applyFrom(t, e, "B", c1(`"ram":16`)); got.Operation != "NO_CHANGE" || storedValue(t, e, id, "ram") != int64(32) {
		t.Fatalf("B's 16 against A's stored 32: %+v", got)
	}
	c.advance(time.Hour)
	if got := applyFrom(t, e, "A", c1(`"ram":4`)); got.Operation != "UPDATE" || storedValue(t, e, id, "ram") != int64(16) {
		t.Fatalf("A's new report replaces its stored 32: %+v", got)
	}
}

// The README's reconciliation walk-through, on the example files.
func TestReconciliationExamples(t *testing.T) {
	rs, err := rules.LoadFile("../examples/reconciliation-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	e := openWith(t, c, rs)
	restriction := rs.Reclassification().Restrictions[0].ID
	steps := []struct {
		source, file, class, op, masked, info, ruleSysID, err string
	}{
		{"SCCM", "server-sccm", "cmdb_ci_linux_server", "INSERT", "", "", "", ""},
		{"AWS", "server-aws", "cmdb_ci_linux_server", "UPDATE", "", "SKIPPED_CLASS_DOWNGRADE", restriction, ""},
		{"ServiceNow", "server-servicenow", "cmdb_ci_server", "UPDATE_WITH_DOWNGRADE", "", "", "", ""},
		{"SCCM", "server-keep-class", "cmdb_ci_server", "NO_CHANGE", "ram", "SKIPPED_CLASS_UPGRADE", "", ""},
		{"SCCM", "server-refuse-upgrade", "cmdb_ci_linux_server", "INSERT_AS_INCOMPLETE", "", "", "", "RECLASSIFICATION_NOT_ALLOWED"},
	}
	var id string
	for _, s := range steps {
		c.advance(time.Hour)
		b, err := os.ReadFile("../examples/" + s.file + ".json")
		if err != nil {
			t.Fatal(err)
		}
		got := applyFrom(t, e, s.source, string(b))
		info, ruleID, code := "", "", ""
		if len(got.Info) == 1 {
			info, ruleID = got.Info[0].Code, got.Info[0].RuleSysID
		}
		if len(got.Errors) == 1 {
			code = got.Errors[0].Code
		}
		if got.ClassName != s.class || got.Operation != s.op || strings.Join(got.MaskedAttributes, ",") != s.masked ||
			info != s.info || ruleID != s.ruleSysID || code != s.err {
			t.Fatalf("%s from %s: %+v", s.file, s.source, got)
		}
		if id == "" {
			id = got.SysID
		}
	}
	ci, err := e.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "web1", "serial_number": "SN-1", "ram": int64(32768), "os_version": "8.9"}
	if ci.Class != "cmdb_ci_server" || fmt.Sprint(ci.Values) != fmt.Sprint(want) {
		t.Fatalf("web1 ends as %s %v, want cmdb_ci_server %v", ci.Class, ci.Values, want)
	}
}
