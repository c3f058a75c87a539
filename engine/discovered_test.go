package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
)

// applyOpts applies body from source with options parsed from opts.
func applyOpts(t *testing.T, e *engine.Engine, source, body, opts string) *engine.Result {
	t.Helper()
	o, err := engine.ParseApplyOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), source, mustDecode(t, body), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// getCI reads a CI once the batched moves of last_discovered are written.
func getCI(t *testing.T, e *engine.Engine, id string) *engine.CI {
	t.Helper()
	if err := e.FlushLastDiscovered(); err != nil {
		t.Fatal(err)
	}
	ci, err := e.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ci
}

func at(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDiscoverySourceIsTheSourceThatInserted(t *testing.T) {
	c := newClock()
	e := openWith(t, c, nil)
	body := `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","discovery_source":"Other","sys_created_on":"2001-01-01 00:00:00"}}]}`
	first := applyOpts(t, e, "SCCM", body, "").Items[0]
	if first.Operation != "INSERT" {
		t.Fatalf("%s", mustJSON(first))
	}
	c.advance(time.Hour)
	if again := applyOpts(t, e, "ServiceNow", body, "").Items[0]; again.Operation != "NO_CHANGE" || again.SysID != first.SysID {
		t.Fatalf("a second source reporting the same values: %s", mustJSON(again))
	}
	ci := getCI(t, e, first.SysID)
	if ci.Source != "SCCM" {
		t.Errorf("discovery_source %q, want SCCM (the inserting source, kept)", ci.Source)
	}
	if _, ok := ci.Values["discovery_source"]; ok {
		t.Errorf("discovery_source from the payload stored as a value: %v", ci.Values)
	}
	if _, ok := ci.Values["sys_created_on"]; ok || !ci.Created.Equal(newClock().now) {
		t.Errorf("sys_created_on is the engine's: values %v, created %v", ci.Values, ci.Created)
	}
	// ServiceNow outranks SCCM and now owns the name, but the CI is as it
	// was: sys_updated_on stays, last_discovered moves.
	if !ci.Updated.Equal(newClock().now) || !ci.LastDiscovered.Equal(c.now) || ci.Owners["name"] != "ServiceNow" {
		t.Errorf("updated %v, last discovered %v, owners %v", ci.Updated, ci.LastDiscovered, ci.Owners)
	}
}

func TestFirstDiscoveredSetOnInsertThenOnlyWhenGiven(t *testing.T) {
	c := newClock()
	e := openWith(t, c, nil)
	start := c.now
	a := applyOpts(t, e, "ServiceNow", computer("a", 1), "").Items[0]
	b := applyOpts(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"b","first_discovered":"2025-06-01 10:00:00"}}]}`, "").Items[0]
	if got := getCI(t, e, a.SysID).FirstDiscovered; !got.Equal(start) {
		t.Errorf("insert without first_discovered: %v, want now %v", got, start)
	}
	if got := getCI(t, e, b.SysID).FirstDiscovered; !got.Equal(at("2025-06-01 10:00:00")) {
		t.Errorf("insert with first_discovered: %v", got)
	}
	c.advance(24 * time.Hour)
	if r := applyOpts(t, e, "ServiceNow", computer("a", 1), "").Items[0]; r.Operation != "NO_CHANGE" {
		t.Fatalf("%s", mustJSON(r))
	}
	if got := getCI(t, e, a.SysID).FirstDiscovered; !got.Equal(start) {
		t.Errorf("an update without first_discovered moved it to %v", got)
	}
	r := applyOpts(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"a","cpu_count":1,"first_discovered":"2024-01-02 03:04:05"}}]}`, "").Items[0]
	if r.Operation != "NO_CHANGE" {
		t.Fatalf("first_discovered alone is bookkeeping, not a change: %s", mustJSON(r))
	}
	if got := getCI(t, e, a.SysID).FirstDiscovered; !got.Equal(at("2024-01-02 03:04:05")) {
		t.Errorf("an update with first_discovered: %v", got)
	}
}

func TestLastDiscoveredMovesOnEveryReportNeverBack(t *testing.T) {
	c := newClock()
	e := openWith(t, c, nil)
	start := c.now
	id := applyOpts(t, e, "ServiceNow", computer("c1", 2), "").Items[0].SysID
	ci := getCI(t, e, id)
	if !ci.LastDiscovered.Equal(start) || !ci.Updated.Equal(start) {
		t.Fatalf("insert: last_discovered %v, updated %v", ci.LastDiscovered, ci.Updated)
	}
	hist, err := e.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}

	c.advance(time.Hour)
	r := applyOpts(t, e, "SCCM", computer("c1", 2), "").Items[0]
	if r.Operation != "NO_CHANGE" {
		t.Fatalf("an unchanged CI reported again: %s", mustJSON(r))
	}
	ci = getCI(t, e, id)
	if !ci.LastDiscovered.Equal(c.now) {
		t.Errorf("last_discovered %v after a report at %v", ci.LastDiscovered, c.now)
	}
	if !ci.Updated.Equal(start) {
		t.Errorf("sys_updated_on moved to %v though nothing changed", ci.Updated)
	}
	if again, _ := e.History(context.Background(), id); len(again) != len(hist) {
		t.Errorf("a mere report wrote history: %d entries, was %d", len(again), len(hist))
	}

	// A payload's older last_discovered is ignored; a newer one is taken.
	older := `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","cpu_count":2,"last_discovered":"2025-01-01 00:00:00"}}]}`
	if r := applyOpts(t, e, "ServiceNow", older, "").Items[0]; r.Operation != "NO_CHANGE" || r.WarningCount != 0 {
		t.Fatalf("%s", mustJSON(r))
	}
	if got := getCI(t, e, id).LastDiscovered; !got.Equal(c.now) {
		t.Errorf("an older last_discovered moved it back to %v", got)
	}
	newer := `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","cpu_count":2,"last_discovered":"2026-03-01T12:00:00Z"}}]}`
	applyOpts(t, e, "ServiceNow", newer, "")
	if got := getCI(t, e, id).LastDiscovered; !got.Equal(at("2026-03-01 12:00:00")) {
		t.Errorf("a newer last_discovered: %v", got)
	}

	// Without a value and with skip_updating_source_last_discovered_to_now
	// it stays; without the option it moves to now.
	c.now = at("2026-04-01 00:00:00")
	applyOpts(t, e, "ServiceNow", computer("c1", 2), "skip_updating_source_last_discovered_to_now:true")
	if got := getCI(t, e, id).LastDiscovered; !got.Equal(at("2026-03-01 12:00:00")) {
		t.Errorf("skip_updating_source_last_discovered_to_now: moved to %v", got)
	}
	applyOpts(t, e, "ServiceNow", computer("c1", 2), "")
	if got := getCI(t, e, id).LastDiscovered; !got.Equal(c.now) {
		t.Errorf("no value, no option: %v, want now %v", got, c.now)
	}
	if vals := getCI(t, e, id).Values; len(vals) != 2 {
		t.Errorf("bookkeeping stored as values: %v", vals)
	}
}

func TestUnreadableDiscoveryTimeIsAWarning(t *testing.T) {
	c := newClock()
	e := openWith(t, c, nil)
	res := applyOpts(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","last_discovered":"yesterday"}}]}`, "")
	it := res.Items[0]
	if it.Operation != "INSERT" || it.WarningCount != 1 || it.Warnings[0].Code != "INVALID_INPUT_DATA" ||
		!strings.Contains(it.Warnings[0].Message, `item 0 (cmdb_ci_computer): last_discovered "yesterday"`) || !res.HasWarning {
		t.Fatalf("%s", mustJSON(res))
	}
	if got := getCI(t, e, it.SysID).LastDiscovered; !got.Equal(c.now) {
		t.Errorf("an unreadable last_discovered counts as absent: %v", got)
	}
}

func TestLastScanFromSourceRecency(t *testing.T) {
	c := newClock()
	e := openWith(t, c, nil)
	with := func(recency string) string {
		si := `"source_native_key":"K1"`
		if recency != "" {
			si += `,"source_recency_timestamp":"` + recency + `"`
		}
		return `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1"},"sys_object_source_info":{` + si + `}}]}`
	}
	lastScan := func(id string) time.Time {
		t.Helper()
		for _, s := range getCI(t, e, id).Sources {
			if s.Source == "SCCM" {
				return s.LastScan
			}
		}
		t.Fatal("no SCCM source entry")
		return time.Time{}
	}
	id := applyOpts(t, e, "SCCM", with("2025-12-30 08:00:00"), "").Items[0].SysID
	if got := lastScan(id); !got.Equal(at("2025-12-30 08:00:00")) {
		t.Fatalf("last scan %v, want the recency timestamp", got)
	}
	applyOpts(t, e, "SCCM", with("2025-12-01 08:00:00"), "")
	if got := lastScan(id); !got.Equal(at("2025-12-30 08:00:00")) {
		t.Errorf("an older recency timestamp moved the last scan to %v", got)
	}
	applyOpts(t, e, "SCCM", with(""), "skip_updating_last_scan_to_now:true")
	if got := lastScan(id); !got.Equal(at("2025-12-30 08:00:00")) {
		t.Errorf("skip_updating_last_scan_to_now: moved to %v", got)
	}
	applyOpts(t, e, "SCCM", with(""), "")
	if got := lastScan(id); !got.Equal(c.now) {
		t.Errorf("no recency timestamp: %v, want now", got)
	}
}

func TestDataSourceMustBeADiscoverySource(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	res, err := e.Apply(ctx, "Nagios", mustDecode(t, computer("c1", 1)), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	it := res.Items[0]
	if !res.HasError || it.Errors[0].Code != "INVALID_INPUT_DATA" || !strings.Contains(it.Errors[0].Message, `invalid data source "Nagios"`) ||
		!strings.Contains(it.Errors[0].Message, "ServiceNow, ServiceWatch") || !strings.Contains(it.Errors[0].Message, "SCCM") {
		t.Fatalf("%s", mustJSON(res))
	}
	if n := countRecords(t, e); len(n) != 0 {
		t.Fatalf("a refused source wrote %v", n)
	}
	// A refused item's lookup records are not known: null each, as ServiceNow answers them.
	res, err = e.Apply(ctx, "Nagios", mustDecode(t, `{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"l1"},
		"lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"s1","serial_number_type":"system"}},
		          {"className":"cmdb_ci_network_adapter","values":{"name":"eth0","mac_address":"02:00:00:00:00:09"}}]}]}`), engine.DefaultApplyOptions())
	if err != nil || !strings.Contains(string(res.AppendJSON(nil)), `"relatedSysIds":[null,null]`) {
		t.Fatalf("refused item's relatedSysIds: %v %s", err, res.AppendJSON(nil))
	}
	for _, s := range []string{"ServiceNow", "ImportSet", "ManualEntry", "AWS"} { // AWS: the default pack's sources list
		if r, _ := e.Apply(ctx, s, mustDecode(t, computer("c-"+s, 1)), engine.DefaultApplyOptions()); r.HasError {
			t.Errorf("%s refused: %s", s, mustJSON(r))
		}
	}
}

func TestRuleFileDeclaresMoreSources(t *testing.T) {
	rs, err := rules.Load("mine.yaml", []byte(`
classes:
  - name: thing
identification:
  - name: Thing
    applies_to: thing
    independent: true
    entries:
      - priority: 100
        attributes: [name]
reconciliation:
  - applies_to: thing
    attributes: all
    sources:
      - name: Nagios
        priority: 100
      - name: "*"
        priority: 200
data_sources:
  - applies_to: thing
    source: Zabbix
    insert_not_allowed: true
sources: [Inventory]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rs.Sources(), ","); got != "Inventory,Nagios,Zabbix" {
		t.Fatalf("declared sources %s", got)
	}
	e, err := engine.Open(t.TempDir(), engine.Options{Rules: rs})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	thing := `{"items":[{"className":"thing","values":{"name":"t1"}}]}`
	for _, s := range []string{"Inventory", "Nagios", "ServiceNow"} {
		if r, _ := e.Apply(context.Background(), s, mustDecode(t, thing), engine.DefaultApplyOptions()); r.HasError {
			t.Errorf("%s refused: %s", s, mustJSON(r))
		}
	}
	if r, _ := e.Apply(context.Background(), "Other feed", mustDecode(t, thing), engine.DefaultApplyOptions()); !r.HasError {
		t.Errorf("an undeclared source was accepted")
	}
	if _, err := rules.Load("bad.yaml", []byte("sources: [A, A, \"*\"]\n")); err == nil ||
		!strings.Contains(err.Error(), `source "A" listed twice`) || !strings.Contains(err.Error(), `"*" is not a source name`) {
		t.Errorf("bad sources list: %v", err)
	}
}

func TestOptionsSourcesReplaceTheDefaultList(t *testing.T) {
	thing := computer("c1", 1)
	only, err := engine.Open(t.TempDir(), engine.Options{Sources: []string{"Feed"}})
	if err != nil {
		t.Fatal(err)
	}
	defer only.Close()
	// ImportSet is on ServiceNow's list but not named by the default pack.
	if r, _ := only.Apply(context.Background(), "ImportSet", mustDecode(t, thing), engine.DefaultApplyOptions()); !r.HasError {
		t.Errorf("ImportSet accepted though the list is [Feed] (and the default pack's own)")
	}
	if r, _ := only.Apply(context.Background(), "Feed", mustDecode(t, thing), engine.DefaultApplyOptions()); r.HasError {
		t.Errorf("Feed refused: %s", mustJSON(r))
	}
	anyOne, err := engine.Open(t.TempDir(), engine.Options{Sources: []string{engine.AnySource}})
	if err != nil {
		t.Fatal(err)
	}
	defer anyOne.Close()
	if r, _ := anyOne.Apply(context.Background(), "whatever", mustDecode(t, thing), engine.DefaultApplyOptions()); r.HasError {
		t.Errorf(`"*" refused a source: %s`, mustJSON(r))
	}
	if r, _ := anyOne.Apply(context.Background(), " ", mustDecode(t, thing), engine.DefaultApplyOptions()); !r.HasError {
		t.Errorf(`"*" accepted a blank source`)
	}
}
