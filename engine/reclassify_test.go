package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
)

// reclassRules: the server classes share the Computer rule; printers have
// a rule of their own. A test appends its reclassification section.
const reclassRules = `
classes:
  - name: cmdb_ci
  - {name: cmdb_ci_computer, extends: cmdb_ci}
  - {name: cmdb_ci_server, extends: cmdb_ci_computer}
  - {name: cmdb_ci_linux_server, extends: cmdb_ci_server}
  - {name: cmdb_ci_win_server, extends: cmdb_ci_server}
  - {name: cmdb_ci_printer, extends: cmdb_ci}
identification:
  - name: Computer
    applies_to: cmdb_ci_computer
    entries: [{priority: 100, attributes: [name]}]
  - name: Printer
    applies_to: cmdb_ci_printer
    entries: [{priority: 100, attributes: [name]}]
`

func reclassEngine(t *testing.T, section string) (*engine.Engine, *rules.RuleSet) {
	t.Helper()
	rs, err := rules.Load("reclass.yaml", []byte(reclassRules+section))
	if err != nil {
		t.Fatal(err)
	}
	return openWith(t, newClock(), rs), rs
}

// item renders one item of class with name s1 and the given extra JSON
// fields (flags, settings) and values.
func item(class, extra, values string) string {
	if extra != "" {
		extra = "," + extra
	}
	if values != "" {
		values = "," + values
	}
	return `{"items":[{"className":"` + class + `"` + extra + `,"values":{"name":"s1"` + values + `}}]}`
}

func classOf(t *testing.T, e *engine.Engine, sysID string) string {
	t.Helper()
	ci, err := e.Get(context.Background(), sysID)
	if err != nil {
		t.Fatal(err)
	}
	return ci.Class
}

func noProblems(t *testing.T, e *engine.Engine) {
	t.Helper()
	if problems, err := e.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %v", problems, err)
	}
}

func TestReclassificationByDefault(t *testing.T) {
	e, _ := reclassEngine(t, "")
	id := applyFrom(t, e, "SGC", item("cmdb_ci_linux_server", "", `"ram":1`)).SysID
	steps := []struct{ class, op string }{
		{"cmdb_ci_server", "UPDATE_WITH_DOWNGRADE"}, // the default since ServiceNow's docs say so
		{"cmdb_ci_win_server", "UPDATE_WITH_UPGRADE"},
		{"cmdb_ci_linux_server", "UPDATE_WITH_SWITCH"},
		{"cmdb_ci_linux_server", "NO_CHANGE"},
	}
	for _, s := range steps {
		got := applyFrom(t, e, "SGC", item(s.class, "", `"ram":1`))
		if got.Operation != s.op || got.SysID != id || got.ClassName != s.class || len(got.Info) != 0 {
			t.Fatalf("report as %s: %+v; want %s of %s", s.class, got, s.op, id)
		}
		if c := classOf(t, e, id); c != s.class {
			t.Fatalf("stored class %s, want %s", c, s.class)
		}
	}
	hist, err := e.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 4 || hist[1].ClassBefore != "cmdb_ci_linux_server" || hist[1].Class != "cmdb_ci_server" || hist[1].Op != "UPDATE_WITH_DOWNGRADE" {
		t.Fatalf("history: %+v", hist)
	}
	// A class with another identification rule is not a match at all.
	if got := applyFrom(t, e, "SGC", item("cmdb_ci_printer", "", "")); got.Operation != "INSERT" || got.SysID == id {
		t.Fatalf("a printer named like the server: %+v", got)
	}
	noProblems(t, e)
}

func TestReclassificationSettings(t *testing.T) {
	tests := []struct {
		name, section, stored, class, extra string
		op, info, err                       string
	}{
		{"update without downgrade", "", "cmdb_ci_linux_server", "cmdb_ci_server", `"settings":{"updateWithoutDowngrade":true}`,
			"UPDATE", "SKIPPED_CLASS_DOWNGRADE", ""},
		{"update without upgrade", "", "cmdb_ci_server", "cmdb_ci_linux_server", `"settings":{"updateWithoutUpgrade":"true"}`,
			"UPDATE", "SKIPPED_CLASS_UPGRADE", ""},
		{"update without switch", "", "cmdb_ci_win_server", "cmdb_ci_linux_server", `"settings":{"updateWithoutSwitch":true}`,
			"UPDATE", "SKIPPED_CLASS_SWITCH", ""},
		{"update without another change", "", "cmdb_ci_win_server", "cmdb_ci_linux_server", `"settings":{"updateWithoutDowngrade":true}`,
			"UPDATE_WITH_SWITCH", "", ""},
		{"item refuses the downgrade", "", "cmdb_ci_linux_server", "cmdb_ci_server", `"classDowngrade":false`,
			"", "", "CI Reclassification not allowed from class [cmdb_ci_linux_server] to [cmdb_ci_server]: item 0 sets classDowngrade: false"},
		{"item refuses the switch", "", "cmdb_ci_win_server", "cmdb_ci_linux_server", `"classSwitch":"false"`,
			"", "", "CI Reclassification not allowed from class [cmdb_ci_win_server] to [cmdb_ci_linux_server]: item 0 sets classSwitch: false"},
		{"update-without beats a refusal", "", "cmdb_ci_linux_server", "cmdb_ci_server", `"classDowngrade":false,"settings":{"updateWithoutDowngrade":true}`,
			"UPDATE", "SKIPPED_CLASS_DOWNGRADE", ""},
		{"rules refuse upgrades", "reclassification: {upgrade: false}\n", "cmdb_ci_server", "cmdb_ci_linux_server", "",
			"", "", "CI Reclassification not allowed from class [cmdb_ci_server] to [cmdb_ci_linux_server]: the rules set reclassification.upgrade: false"},
		{"item allows what the rules refuse", "reclassification: {upgrade: false}\n", "cmdb_ci_server", "cmdb_ci_linux_server", `"classUpgrade":true`,
			"UPDATE_WITH_UPGRADE", "", ""},
		{"rules update without switch", "reclassification: {update_without_switch: true, switch: false}\n", "cmdb_ci_win_server", "cmdb_ci_linux_server", "",
			"UPDATE", "SKIPPED_CLASS_SWITCH", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := reclassEngine(t, tt.section)
			id := applyFrom(t, e, "SGC", item(tt.stored, "", `"ram":1`)).SysID
			got := applyFrom(t, e, "SGC", item(tt.class, tt.extra, `"ram":2`))
			wantClass, wantRAM := tt.stored, int64(2)
			switch {
			case tt.err != "":
				if len(got.Errors) != 1 || got.Errors[0].Code != "RECLASSIFICATION_NOT_ALLOWED" || !strings.Contains(got.Errors[0].Message, tt.err) {
					t.Fatalf("want RECLASSIFICATION_NOT_ALLOWED %q, got %+v", tt.err, got)
				}
				wantRAM = 1 // the item fails: nothing of it is written
			case tt.info != "":
				if got.Operation != tt.op || len(got.Info) != 1 || got.Info[0].Code != tt.info || got.Info[0].RuleSysID != "" || got.ClassName != tt.stored {
					t.Fatalf("want %s with info %s and class %s, got %+v", tt.op, tt.info, tt.stored, got)
				}
			default:
				if got.Operation != tt.op || len(got.Info) != 0 || len(got.Errors) != 0 {
					t.Fatalf("want %s, got %+v", tt.op, got)
				}
				wantClass = tt.class
			}
			if c, ram := classOf(t, e, id), storedValue(t, e, id, "ram"); c != wantClass || ram != wantRAM {
				t.Fatalf("stored class %s ram %v, want %s %d", c, ram, wantClass, wantRAM)
			}
			noProblems(t, e)
		})
	}
}

const restrictions = `
reclassification:
  restrictions:
    - name: keep linux servers
      from: cmdb_ci_linux_server
      to: cmdb_ci_server
      type: downgrade
    - name: no switching from servers
      from: cmdb_ci_server
      from_inheritance: true
      to: cmdb_ci_win_server
      type: switch
      sources: [SGC]
`

func TestReclassificationRestrictions(t *testing.T) {
	e, rs := reclassEngine(t, restrictions)
	keep, noSwitch := rs.Reclassification().Restrictions[0].ID, rs.Reclassification().Restrictions[1].ID
	id := applyFrom(t, e, "SGC", item("cmdb_ci_linux_server", "", `"ram":1`)).SysID

	got := applyFrom(t, e, "SGC", item("cmdb_ci_server", "", `"ram":2`))
	if got.Operation != "UPDATE" || len(got.Info) != 1 || got.Info[0].Code != "SKIPPED_CLASS_DOWNGRADE" || got.Info[0].RuleSysID != keep ||
		!strings.Contains(got.Info[0].Message, `reclassification restriction "keep linux servers"`) {
		t.Fatalf("restricted downgrade: %+v", got)
	}
	if c, ram := classOf(t, e, id), storedValue(t, e, id, "ram"); c != "cmdb_ci_linux_server" || ram != int64(2) {
		t.Fatalf("the class stays, the attributes update: %s %v", c, ram)
	}
	o := engine.DefaultApplyOptions()
	o.Explain = true
	res, err := e.Identify(context.Background(), "SGC", mustDecode(t, item("cmdb_ci_server", "", "")), o)
	if err != nil || !strings.Contains(res.Items[0].Explanation, "info SKIPPED_CLASS_DOWNGRADE: item 0 (cmdb_ci_server): kept class cmdb_ci_linux_server") {
		t.Fatalf("explanation: %v %q", err, res.Items[0].Explanation)
	}

	// The switch restriction holds for SGC, through inheritance of the
	// source class, but not for another data source.
	if got := applyFrom(t, e, "SGC", item("cmdb_ci_win_server", "", "")); got.Operation != "NO_CHANGE" || len(got.Info) != 1 || got.Info[0].RuleSysID != noSwitch {
		t.Fatalf("restricted switch: %+v", got)
	}
	if got := applyFrom(t, e, "ServiceNow", item("cmdb_ci_win_server", "", "")); got.Operation != "UPDATE_WITH_SWITCH" {
		t.Fatalf("the switch restriction is SGC's only: %+v", got)
	}
	// Restrictions never block an upgrade back.
	applyFrom(t, e, "ServiceNow", item("cmdb_ci_server", `"settings":{"skipReclassificationRestrictionRules":true}`, ""))
	if got := applyFrom(t, e, "SGC", item("cmdb_ci_linux_server", "", "")); got.Operation != "UPDATE_WITH_UPGRADE" {
		t.Fatalf("upgrade: %+v", got)
	}
	// The payload may skip the restriction rules.
	got = applyFrom(t, e, "SGC", item("cmdb_ci_server", `"settings":{"skipReclassificationRestrictionRules":true}`, ""))
	if got.Operation != "UPDATE_WITH_DOWNGRADE" || classOf(t, e, id) != "cmdb_ci_server" {
		t.Fatalf("skipReclassificationRestrictionRules: %+v", got)
	}
	noProblems(t, e)

	// And the rules may switch them off.
	e, _ = reclassEngine(t, restrictions+"  restriction_rules: false\n")
	id = applyFrom(t, e, "SGC", item("cmdb_ci_linux_server", "", "")).SysID
	if got := applyFrom(t, e, "SGC", item("cmdb_ci_server", "", "")); got.Operation != "UPDATE_WITH_DOWNGRADE" || classOf(t, e, id) != "cmdb_ci_server" {
		t.Fatalf("restriction_rules: false: %+v", got)
	}
}
