package engine_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
)

// clock is a settable clock for tests of refresh periods.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }
func newClock() *clock                   { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func computer(name string, cpus int) string {
	return `{"items":[{"className":"cmdb_ci_computer","values":{"name":"` + name + `","cpu_count":` + strconv.Itoa(cpus) + `}}]}`
}

func openWith(t *testing.T, c *clock, rs *rules.RuleSet) *engine.Engine {
	t.Helper()
	e, err := engine.Open(t.TempDir(), engine.Options{Now: c.Now, Rules: rs, Sources: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func applyFrom(t *testing.T, e *engine.Engine, source, body string) engine.ItemResult {
	t.Helper()
	res, err := e.Apply(context.Background(), source, mustDecode(t, body), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	return res.Items[0]
}

func storedValue(t *testing.T, e *engine.Engine, sysID, attr string) any {
	t.Helper()
	ci, err := e.Get(context.Background(), sysID)
	if err != nil {
		t.Fatal(err)
	}
	return ci.Values[attr]
}

func TestAuthorisedSourceKeepsAttributeUntilStale(t *testing.T) {
	c := newClock()
	e := openWith(t, c, nil)
	first := applyFrom(t, e, "ServiceNow", computer("c1", 2))
	if first.Operation != "INSERT" {
		t.Fatalf("insert: %+v", first)
	}
	id := first.SysID

	c.advance(24 * time.Hour)
	got := applyFrom(t, e, "SCCM", computer("c1", 4))
	if got.Operation != "NO_CHANGE" || strings.Join(got.MaskedAttributes, ",") != "cpu_count" {
		t.Fatalf("SCCM over ServiceNow: op %s masked %v", got.Operation, got.MaskedAttributes)
	}
	if v := storedValue(t, e, id, "cpu_count"); v != int64(2) {
		t.Fatalf("cpu_count = %v, want ServiceNow's 2", v)
	}

	// ServiceNow keeps reporting: its hold is renewed.
	c.advance(20 * 24 * time.Hour)
	applyFrom(t, e, "ServiceNow", computer("c1", 2))
	c.advance(20 * 24 * time.Hour)
	if got := applyFrom(t, e, "SCCM", computer("c1", 4)); len(got.MaskedAttributes) != 1 {
		t.Fatalf("20 days after ServiceNow's last report SCCM must still be masked: %+v", got)
	}

	// 31 days of silence from ServiceNow: SCCM may update.
	c.advance(11 * 24 * time.Hour)
	got = applyFrom(t, e, "SCCM", computer("c1", 4))
	if got.Operation != "UPDATE" || len(got.MaskedAttributes) != 0 {
		t.Fatalf("after the refresh period: op %s masked %v", got.Operation, got.MaskedAttributes)
	}
	if v := storedValue(t, e, id, "cpu_count"); v != int64(4) {
		t.Fatalf("cpu_count = %v, want SCCM's 4", v)
	}

	// A lower source fills what nobody set; the higher one takes it back.
	applyFrom(t, e, "Other", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","ram":8192}}]}`)
	if v := storedValue(t, e, id, "ram"); v != int64(8192) {
		t.Fatalf("ram = %v, want 8192 filled by a lower source", v)
	}
	if got := applyFrom(t, e, "ServiceNow", computer("c1", 8)); got.Operation != "UPDATE" {
		t.Fatalf("ServiceNow outranks SCCM: %+v", got)
	}

	hist, err := e.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, h := range hist {
		trail = append(trail, h.Source+":"+h.Op)
	}
	want := "ServiceNow:INSERT SCCM:UPDATE Other:UPDATE ServiceNow:UPDATE"
	if strings.Join(trail, " ") != want {
		t.Fatalf("history %q, want %q", strings.Join(trail, " "), want)
	}
	if ch := hist[1].Attributes["cpu_count"]; ch.Before != int64(2) || ch.After != int64(4) {
		t.Fatalf("SCCM's change of cpu_count: %+v", ch)
	}
	snap, err := e.AsOf(context.Background(), id, hist[1].At.Add(-time.Second))
	if err != nil || snap.Values["cpu_count"] != int64(2) || snap.Source != "ServiceNow" {
		t.Fatalf("as of before SCCM's update: %+v, %v", snap, err)
	}
	if _, err := e.AsOf(context.Background(), id, hist[0].At.Add(-time.Second)); err != engine.ErrNotFound {
		t.Fatalf("as of before the insert: %v, want ErrNotFound", err)
	}
}

const policyRules = `
relation_types: ["Hosted on::Hosts"]
classes:
  - name: cmdb_ci
  - name: cmdb_ci_computer
    extends: cmdb_ci
  - name: cmdb_ci_server
    extends: cmdb_ci_computer
identification:
  - name: Computer
    applies_to: cmdb_ci_computer
    entries:
      - priority: 100
        attributes: [name]
reconciliation:
  - applies_to: cmdb_ci_computer
    attributes: all
    sources:
      - {name: ServiceNow, priority: 1}
      - {name: "*", priority: 10}
  - applies_to: cmdb_ci_computer
    attributes: [cpu_count]
    prefer: 'incoming > current'
data_sources:
  - applies_to: cmdb_ci_computer
    source: SAM
    insert_not_allowed: true
  - applies_to: cmdb_ci_server
    source: SAM
    insert_not_allowed: false
`

func TestDynamicRuleAndDataSourceRule(t *testing.T) {
	rs, err := rules.Load("policy.yaml", []byte(policyRules))
	if err != nil {
		t.Fatal(err)
	}
	e := openWith(t, newClock(), rs)

	blocked := applyFrom(t, e, "SAM", computer("c1", 2))
	if blocked.Operation != "INSERT_AS_PARTIAL" || blocked.Warnings[0].Code != "INSERT_NOT_ALLOWED_FOR_SOURCE" || blocked.SysID != "Unknown" {
		t.Fatalf("SAM inserting a computer: %+v", blocked)
	}
	server := applyFrom(t, e, "SAM", `{"items":[{"className":"cmdb_ci_server","values":{"name":"s1"}}]}`)
	if server.Operation != "INSERT" {
		t.Fatalf("the server class re-allows SAM: %+v", server)
	}

	first := applyFrom(t, e, "ServiceNow", computer("c1", 2))
	if first.Operation != "INSERT" || len(first.MergedPayloadIDs) != 1 {
		t.Fatalf("ServiceNow creates the computer SAM was refused, merging SAM's partial payload: %+v", first)
	}
	id := first.SysID
	if got := applyFrom(t, e, "SAM", computer("c1", 4)); got.Operation != "UPDATE" {
		t.Fatalf("the largest cpu_count wins whoever reports it: %+v", got)
	}
	got := applyFrom(t, e, "ServiceNow", computer("c1", 3))
	if strings.Join(got.MaskedAttributes, ",") != "cpu_count" {
		t.Fatalf("a smaller cpu_count is refused even from ServiceNow: %+v", got)
	}
	if v := storedValue(t, e, id, "cpu_count"); v != int64(4) {
		t.Fatalf("cpu_count = %v, want 4", v)
	}
	applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","ram":1}}]}`)
	if got := applyFrom(t, e, "SAM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","ram":2}}]}`); len(got.MaskedAttributes) != 1 {
		t.Fatalf("SAM may not overwrite ServiceNow's ram: %+v", got)
	}
}
